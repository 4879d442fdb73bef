#include "support/catalog_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "base/strings.h"
#include "support/process.h"

namespace hardbase::testing {

namespace fs = std::filesystem;

void CatalogServiceTest::SetUp() {
  if (std::string reason = Podman::Unavailable(); !reason.empty()) GTEST_SKIP() << reason;
  // A short name: podman refuses a --runroot (Work()/podman/runroot) of more than 50 bytes.
  auto dir = TempDir::Create("hbcat-");
  ASSERT_TRUE(dir.has_value());
  work_.emplace(std::move(*dir));
  // podman names an image run from `oci:DIR` after DIR, and refuses upper-case letters there,
  // which TempDir's random suffix has: the layouts go to a directory of lower-case letters.
  const char* tmp = std::getenv("TMPDIR");
  static int serial = 0;
  out_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/hbcat-out-" + std::to_string(::getpid()) +
         "-" + std::to_string(serial++);
  ASSERT_TRUE(RemoveAll(out_).has_value());
}

void CatalogServiceTest::TearDown() {
  podman_.reset();  // its containers first
  if (!out_.empty()) (void)RemoveAll(out_);
}

void CatalogServiceTest::CopyEntry(const std::string& name, bool debug) {
  const std::string src = CatalogSourceDir() + "/" + name;
  std::vector<std::string> dests = {Work() + "/catalog/" + name};
  if (debug) dests.push_back(Work() + "/catalog/" + name + "-debug");
  for (const std::string& dest : dests) {
    ASSERT_TRUE(MakeDirs(dest).has_value());
    for (const auto& entry : fs::directory_iterator(src)) {
      if (entry.path().filename().string().ends_with(".lock.json")) continue;
      std::error_code ec;
      fs::copy(entry.path(), dest + "/" + entry.path().filename().string(),
               fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
      ASSERT_FALSE(ec) << entry.path() << ": " << ec.message();
    }
  }
  if (debug) {
    auto spec = ReadFile(dests[1] + "/image.yaml");
    ASSERT_TRUE(spec.has_value());
    ASSERT_TRUE(WriteFileAtomic(dests[1] + "/image.yaml", *spec + "variant: debug\n").has_value());
  }
}

void CatalogServiceTest::BuildAndStartPodman(const std::string& only) {
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r =
      RunProcess({HardbaseBinary(), "--quiet", "--cache-dir", CatalogCacheDir(), "catalog", "build",
                  Work() + "/catalog", "--only", only, "--output-dir", out_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto built = std::chrono::steady_clock::now();
  auto podman = Podman::Create(Work() + "/podman");
  ASSERT_TRUE(podman.has_value()) << podman.error().message;
  podman_ = std::move(*podman);
  RecordProperty("build_seconds",
                 std::to_string(std::chrono::duration<double>(built - start).count()));
}

std::string CatalogServiceTest::Image(const std::string& name) const {
  return "oci:" + out_ + "/" + name + ":latest";
}

uint16_t CatalogServiceTest::Start(const CatalogService& service,
                                   const std::vector<std::string>& extra) {
  auto port = FreeLoopbackPort();
  EXPECT_TRUE(port.has_value());
  if (!port) return 0;
  const std::string publish =
      "127.0.0.1:" + std::to_string(*port) + ":" + std::to_string(service.port);
  std::vector<std::string> args = {"-p", publish + "/tcp"};
  if (service.udp) args.insert(args.end(), {"-p", publish + "/udp"});
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(Image(service.name));
  auto id = podman_->StartDetached(args);
  EXPECT_TRUE(id.has_value()) << id.error().message;
  if (!id) return 0;
  id_ = *id;
  auto ready = podman_->WaitForPort(id_, *port, 90);
  EXPECT_TRUE(ready.has_value()) << ready.error().message;
  return ready ? *port : 0;
}

void CatalogServiceTest::ExpectHardened(const CatalogService& service) {
  for (const char* shell : {"/bin/sh", "/bin/bash"}) {
    ProcessResult r = podman_->Exec({"exec", id_, shell, "-c", "true"}, 60);
    EXPECT_NE(r.exit_code, 0) << shell << " ran in " << service.name;
    EXPECT_NE((r.out + r.err).find("not found"), std::string::npos) << shell << ": " << r.err;
  }
  ProcessResult top = podman_->Exec({"top", id_, "user"}, 60);
  ASSERT_EQ(top.exit_code, 0) << top.err;
  std::vector<std::string> users;
  std::istringstream lines(top.out);
  for (std::string line; std::getline(lines, line);) {
    if (!Trim(line).empty()) users.emplace_back(Trim(line));
  }
  ASSERT_GE(users.size(), 2u) << top.out;  // the header, then one line per process
  for (size_t i = 1; i < users.size(); ++i) EXPECT_EQ(users[i], service.user) << top.out;
  ProcessResult config = podman_->Exec({"inspect", "--format", "{{.Config.User}}", id_}, 60);
  ASSERT_EQ(config.exit_code, 0) << config.err;
  std::string user(Trim(config.out));
  EXPECT_FALSE(user.empty());
  EXPECT_FALSE(user == "0" || user.starts_with("0:") || user == "root") << user;
}

std::string CatalogServiceTest::Gateway() const {
  ProcessResult r = podman_->Exec(
      {"network", "inspect", "podman", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}"}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(Trim(r.out));
}

std::string CatalogServiceTest::Logs() const { return podman_ ? podman_->Logs(id_) : ""; }

}  // namespace hardbase::testing
