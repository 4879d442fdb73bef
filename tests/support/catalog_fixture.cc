#include "support/catalog_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>

#include "base/strings.h"
#include "support/process.h"

namespace hardbase::testing {

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
  auto copied = CopyCatalogEntry(Work(), name, debug);
  ASSERT_TRUE(copied.has_value()) << copied.error().message;
}

void CatalogServiceTest::BuildAndStartPodman(const std::string& only) {
  const auto start = std::chrono::steady_clock::now();
  auto built = BuildCatalog(Work(), only, out_);
  ASSERT_TRUE(built.has_value()) << built.error().message;
  const auto end = std::chrono::steady_clock::now();
  auto podman = Podman::Create(Work() + "/podman");
  ASSERT_TRUE(podman.has_value()) << podman.error().message;
  podman_ = std::move(*podman);
  RecordProperty("build_seconds",
                 std::to_string(std::chrono::duration<double>(end - start).count()));
}

std::string CatalogServiceTest::Image(const std::string& name) const {
  return "oci:" + out_ + "/" + name + ":latest";
}

uint16_t CatalogServiceTest::Start(const CatalogService& service,
                                   const std::vector<std::string>& extra) {
  std::vector<std::string> args = extra;
  args.push_back(Image(service.name));
  auto serving = podman_->StartServing(service.port, args, service.udp);
  EXPECT_TRUE(serving.has_value()) << serving.error().message;
  if (!serving) return 0;
  id_ = serving->id;
  return serving->port;
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
