// End-to-end test of the dev variant (`variant: dev`), the build stage of a multi-stage build: an
// image of real Debian packages from the host's repositories, with a shell, dpkg and apt, run by
// podman as a user would run it. Inside it, dpkg knows every package the lock holds (`dpkg -l`,
// `dpkg -S`, `dpkg --verify` find what shipped), and `apt-get update && apt-get install` fetches,
// unpacks and configures a new package from the repositories the lock came from, verified with the
// keyring the image holds, as root.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/examples.h"
#include "support/podman.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// Debian's Essential set (what maintainer scripts may take for granted: a shell, perl-base for
// debconf, ldconfig, tar, diff...), apt with the archive's keyring, and a small -dev library.
constexpr std::string_view kSpec = R"(name: dev-test
variant: dev
packages: [base-files, base-passwd, bash, bsdutils, coreutils, dash, debianutils, diffutils,
  dpkg, findutils, grep, gzip, hostname, init-system-helpers, libc-bin, login, ncurses-base,
  ncurses-bin, perl-base, sed, sysvinit-utils, tar, util-linux,
  apt, debian-archive-keyring, ca-certificates, libzstd-dev]
)";

// The packages of the lock's one architecture.
std::set<std::string> LockedPackages(const std::string& lock_path) {
  std::set<std::string> out;
  auto text = ReadFile(lock_path);
  EXPECT_TRUE(text.has_value()) << lock_path;
  json lock = json::parse(text.value_or("{}"), nullptr, false);
  if (!lock.is_object() || !lock.contains("archs") || lock["archs"].size() != 1) {
    ADD_FAILURE() << "expected a lock of one architecture: " << lock_path;
    return out;
  }
  for (const auto& p : lock["archs"][0]["packages"]) out.insert(p["name"].get<std::string>());
  return out;
}

json ImageConfig(const std::string& layout) {
  auto read = [&](const std::string& digest) {
    auto text = ReadFile(layout + "/blobs/sha256/" + digest.substr(7));
    EXPECT_TRUE(text.has_value()) << digest;
    return json::parse(text.value_or("{}"));
  };
  json index = json::parse(ReadFile(layout + "/index.json").value_or("{}"));
  json manifest = read(index["manifests"][0]["digest"]);
  return read(manifest["config"]["digest"]);
}

TEST(DevVariantE2ETest, DpkgKnowsThePackagesAndAptInstallsMore) {
  std::string unavailable = Podman::Unavailable();
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  auto dir = TempDir::Create("hardbase-dev-");
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  const std::string work = dir->path(), spec = work + "/image.yaml";
  const std::string lock = work + "/image.lock.json", layout = work + "/image";
  ASSERT_TRUE(WriteFileAtomic(spec, kSpec).has_value());
  ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());

  auto locked = HardbaseWithCache({"lock", spec, "-o", lock});
  ASSERT_EQ(locked.exit_code, 0) << locked.err;
  auto built = HardbaseWithCache({"build", spec, "--lock", lock, "-o", layout, "--tag", "dev"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const std::set<std::string> packages = LockedPackages(lock);
  for (const char* p : {"bash", "dash", "apt", "dpkg", "libzstd-dev", "libc6"}) {
    EXPECT_TRUE(packages.count(p)) << p << " is not in the lock";
  }

  // Runs as root; the database is a layer of its own, on top.
  json config = ImageConfig(layout);
  EXPECT_EQ(config["config"].value("User", ""), "0:0");
  ASSERT_FALSE(config["history"].empty());
  EXPECT_EQ(config["history"].back().value("created_by", ""),
            "hardbase: dpkg database and apt sources (dev variant)");

  auto podman = Podman::Create(work + "/podman");
  ASSERT_TRUE(podman.has_value()) << podman.error().message;
  // podman names an oci: image after its directory, which must then be lowercase (the temporary
  // directory's name is not): a link of a lowercase name of the test's own leads to it.
  const std::string lowercase = fmt::format("/tmp/hardbase-dev-variant-{}", ::getpid());
  std::error_code ec;
  fs::remove(lowercase, ec);
  fs::create_directory_symlink(layout, lowercase, ec);
  ASSERT_FALSE(ec) << lowercase << ": " << ec.message();
  struct RemoveLink {
    std::string path;
    ~RemoveLink() {
      std::error_code ignored;
      fs::remove(path, ignored);
    }
  } remove_link{lowercase};
  const std::string image = "oci:" + lowercase + ":dev";

  // dpkg's view of the image, before anything is installed.
  const std::string inspect =
      "set -e\n"
      "id -u\n"
      "bash -c 'echo bash works'\n"
      "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' | sort > /tmp/l\n"
      "echo \"listed $(wc -l < /tmp/l) installed $(grep -c ' ii $' /tmp/l)\"\n"
      "cut -d' ' -f1 /tmp/l | tr '\\n' ' '; echo\n"
      "dpkg -S /usr/bin/apt\n"
      "dpkg -S /bin/bash\n"
      "dpkg -L libzstd-dev | grep -c 'zstd.h$'\n"
      "echo verify; dpkg --verify; echo verified\n"
      "dpkg --audit; echo audited\n"
      "ls /var/lib/dpkg/status.d 2>&1 || true\n";
  auto before = (*podman)->Run({"--network", "host", image, "/bin/sh", "-c", inspect}, 300);
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  std::string expected_names;
  for (const auto& p : packages) expected_names += p + " ";
  EXPECT_THAT(before.out, HasSubstr(fmt::format("0\nbash works\nlisted {0} installed {0}\n{1}\n",
                                                packages.size(), expected_names)));
  // By the packages' own paths (bash ships /bin/bash, which the image stores at /usr/bin/bash).
  EXPECT_THAT(before.out, HasSubstr("apt: /usr/bin/apt\nbash: /bin/bash\n1\n"));
  // Every file dpkg lists is there with its md5sum, and the database is consistent.
  EXPECT_THAT(before.out, HasSubstr("verify\nverified\naudited\n"));
  // One database: the distroless records are gone.
  EXPECT_THAT(before.out, HasSubstr("No such file or directory"));

  // apt, from the repositories the lock came from, with the keyring the image holds.
  const std::string install =
      "set -e\n"
      "apt-get update\n"
      "apt-get install -y --no-install-recommends hello libexpat1-dev\n"
      "echo ran; hello\n"
      "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' hello libexpat1-dev\n"
      "dpkg -S /usr/bin/hello\n"
      "dpkg --audit; echo audited\n"
      "ldconfig -p | grep -c 'libexpat.so.1 '\n";
  auto after = (*podman)->Run({"--network", "host", image, "/bin/sh", "-c", install}, 600);
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_THAT(after.out, HasSubstr("ran\nHello, world!\nhello ii \nlibexpat1-dev ii \n"
                                   "hello: /usr/bin/hello\naudited\n1\n"));
  // libc-bin's interest in the ldconfig trigger is in the database: the new library is in
  // ld.so's cache.
  EXPECT_THAT(after.out, HasSubstr("Processing triggers for libc-bin"));
  // Signatures were checked against a keyring apt could read.
  EXPECT_THAT(after.out + after.err, Not(HasSubstr("NO_PUBKEY")));
  EXPECT_THAT(after.out + after.err, Not(HasSubstr("not signed")));
}

}  // namespace
}  // namespace hardbase::testing
