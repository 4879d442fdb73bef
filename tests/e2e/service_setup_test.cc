// End-to-end tests of what the packages' maintainer scripts would have set up, built from real
// Debian packages of the host's repositories: the service users and their directories (from
// postinst scripts and tmpfiles.d files), the spec's `dirs:` and a run-as naming a package's
// user, Debian's layout (/var/run, /var/lock, /var/tmp, the C.UTF-8 locale), the build's warnings
// about setup it could not do and scripts whose interpreter the image lacks, and the debug
// variant's busybox applets. Images are unpacked by umoci (as root, so owners are kept) and read
// from the file system it makes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "support/examples.h"
#include "support/oci_runtime.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A service image: redis (its user made by redis-tools' postinst through a shell function and
// variables, its directories and the statoverride of its configuration) and nginx (www-data from
// base-passwd, nginx-common's postinst: a link, a copied index page, the log directory's owner).
constexpr std::string_view kServicesSpec = R"(name: services
packages:
  - base-files
  - base-passwd
  - nginx-light
  - redis-server
accounts:
  run-as: redis
dirs:
  - {path: /var/lib/app, owner: redis, mode: "0700"}
  - {path: /run/nginx, owner: "www-data:adm"}
entrypoint: ["/usr/bin/redis-server"]
)";

struct Stat {
  uint32_t mode = 0;  // permission bits, with setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  bool dir = false, link = false;
};

std::optional<Stat> StatOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  return Stat{static_cast<uint32_t>(st.st_mode & 07777), st.st_uid, st.st_gid, S_ISDIR(st.st_mode),
              S_ISLNK(st.st_mode)};
}

// name -> {uid, gid} of a passwd(5) or group(5) file (gid only, twice, for group).
std::map<std::string, std::pair<uint32_t, uint32_t>> Accounts(const std::string& path) {
  std::map<std::string, std::pair<uint32_t, uint32_t>> out;
  std::istringstream lines(ReadFile(path).value_or(""));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ':');) f.push_back(field);
    if (f.size() < 3) continue;
    uint32_t id = static_cast<uint32_t>(std::stoul(f[2]));
    out[f[0]] = {id, f.size() > 3 && !f[3].empty() && f[3].find(',') == std::string::npos &&
                             std::isdigit(static_cast<unsigned char>(f[3][0]))
                         ? static_cast<uint32_t>(std::stoul(f[3]))
                         : id};
  }
  return out;
}

class ServiceSetupE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-setup-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  }
  std::string Work() const { return work_->path(); }

  // Writes `text` as a spec in the work dir and locks it into the suite dir (shared by the tests
  // of one run, resolved again when older than an hour or made for another spec text).
  std::pair<std::string, std::string> SpecAndLock(const std::string& name, std::string_view text) {
    std::string spec = Work() + "/" + name + ".yaml";
    EXPECT_TRUE(WriteFileAtomic(spec, std::string(text)).has_value());
    std::string lock = ExamplesSuiteDir() + "/" + name + ".lock.json";
    std::string stamp = lock + ".spec";
    auto age = fs::exists(lock) ? fs::file_time_type::clock::now() - fs::last_write_time(lock)
                                : std::chrono::hours(24);
    if (age > std::chrono::hours(1) || ReadFile(stamp).value_or("") != text) {
      auto r = HardbaseWithCache({"lock", spec, "-o", lock});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_TRUE(WriteFileAtomic(stamp, std::string(text)).has_value());
    }
    return {spec, lock};
  }

  // Builds and unpacks; `err` gets the build's stderr.
  UnpackedImage BuildAndUnpack(const std::string& spec, const std::string& lock,
                               std::string* err = nullptr) {
    std::string layout = Work() + "/image";
    auto r = HardbaseWithCache({"build", spec, "--lock", lock, "-o", layout, "--tag", "test"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (err) *err = r.err;
    auto image = UnpackWithUmoci(layout, "test", Work() + "/bundle");
    EXPECT_TRUE(image.has_value()) << (image ? "" : image.error().message);
    return image.value_or(UnpackedImage{});
  }

  std::optional<TempDir> work_;
};

TEST_F(ServiceSetupE2ETest, ServiceUsersTheirDirectoriesAndDebiansLayout) {
  auto [spec, lock] = SpecAndLock("services", kServicesSpec);
  std::string err;
  UnpackedImage image = BuildAndUnpack(spec, lock, &err);
  const std::string& root = image.rootfs;
  ASSERT_FALSE(root.empty());

  // The service users: redis made by redis-tools' postinst (a system user with a group of its
  // own), www-data and adm from base-passwd.
  auto users = Accounts(root + "/etc/passwd");
  auto groups = Accounts(root + "/etc/group");
  ASSERT_TRUE(users.count("redis")) << ReadFile(root + "/etc/passwd").value_or("");
  ASSERT_TRUE(groups.count("redis"));
  auto [redis_uid, redis_gid] = users["redis"];
  EXPECT_GE(redis_uid, 100u);
  EXPECT_LE(redis_uid, 999u);
  EXPECT_EQ(redis_gid, groups["redis"].first);
  EXPECT_EQ(users["www-data"].first, 33u);
  ASSERT_TRUE(groups.count("adm"));
  EXPECT_THAT(
      ReadFile(root + "/etc/passwd").value_or(""),
      HasSubstr("redis:x:" + std::to_string(redis_uid) + ":" + std::to_string(redis_gid) + ":"));
  // run-as names the package's user.
  EXPECT_EQ(image.config["process"]["user"]["uid"], redis_uid);
  EXPECT_EQ(image.config["process"]["user"]["gid"], redis_gid);

  // redis-tools' Setup_dir calls: owner and mode, the setgid bit cleared by the hardening policy.
  auto lib = StatOf(root + "/var/lib/redis");
  ASSERT_TRUE(lib.has_value());
  EXPECT_TRUE(lib->dir);
  EXPECT_EQ(lib->uid, redis_uid);
  EXPECT_EQ(lib->gid, redis_gid);
  EXPECT_EQ(lib->mode, 0750u);
  auto log = StatOf(root + "/var/log/redis");
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->uid, redis_uid);
  EXPECT_EQ(log->gid, groups["adm"].first);
  EXPECT_EQ(log->mode, 0750u) << "2750 without the setgid bit";
  // redis-server's dpkg-statoverride of its configuration file.
  auto conf = StatOf(root + "/etc/redis/redis.conf");
  ASSERT_TRUE(conf.has_value());
  EXPECT_EQ(conf->uid, redis_uid);
  EXPECT_EQ(conf->mode, 0640u);

  // nginx-common's postinst: the default site's link, the copied index page.
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink(root + "/etc/nginx/sites-enabled/default", ec),
            "/etc/nginx/sites-available/default");
  EXPECT_TRUE(fs::is_regular_file(root + "/var/www/html/index.nginx-debian.html"));

  // The spec's dirs, owned by a package's user and a base-passwd one.
  auto app = StatOf(root + "/var/lib/app");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->uid, redis_uid);
  EXPECT_EQ(app->gid, redis_gid) << "a lone user name means its primary group";
  EXPECT_EQ(app->mode, 0700u);
  auto run_nginx = StatOf(root + "/run/nginx");
  ASSERT_TRUE(run_nginx.has_value());
  EXPECT_EQ(run_nginx->uid, 33u);
  EXPECT_EQ(run_nginx->gid, groups["adm"].first);

  // Debian's layout.
  EXPECT_EQ(fs::read_symlink(root + "/var/run", ec), "/run");
  EXPECT_EQ(fs::read_symlink(root + "/var/lock", ec), "/run/lock");
  for (const char* dir : {"/tmp", "/var/tmp", "/run/lock"}) {
    auto st = StatOf(root + dir);
    ASSERT_TRUE(st.has_value()) << dir;
    EXPECT_TRUE(st->dir) << dir;
    EXPECT_EQ(st->mode, 01777u) << dir;
  }
  // libc-bin gives the C.UTF-8 locale and nothing else.
  for (const char* file : {"LC_CTYPE", "LC_COLLATE", "LC_MESSAGES/SYS_LC_MESSAGES"}) {
    EXPECT_TRUE(fs::is_regular_file(root + "/usr/lib/locale/C.utf8/" + file)) << file;
  }
  EXPECT_TRUE(fs::exists(root + "/var/lib/dpkg/status.d/libc-bin"));
  EXPECT_TRUE(fs::exists(root + "/usr/share/doc/libc-bin/copyright"));
  for (const char* tool : {"/usr/sbin/ldconfig", "/usr/bin/locale", "/usr/bin/getent"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(root + tool))) << tool;
  }
  // Still hardened: no setuid/setgid bit anywhere, nothing world-writable but the sticky three.
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    auto st = StatOf(it->path());
    ASSERT_TRUE(st.has_value());
    if (st->link) continue;
    std::string rel = it->path().string().substr(root.size());
    EXPECT_EQ(st->mode & 06000, 0u) << rel;
    if (rel != "/tmp" && rel != "/var/tmp" && rel != "/run/lock") {
      EXPECT_EQ(st->mode & 02, 0u) << rel;
    }
  }

  // The warnings: one line per package and interpreter, naming the scripts.
  EXPECT_THAT(err, ::testing::ContainsRegex(
                       "warning: [a-z0-9.+-]+: [0-9]+ scripts? needs? /bin/sh, which the image "
                       "does not have: /"));
  std::istringstream lines(err);
  std::set<std::string> seen;
  size_t setup_warnings = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("warning: ")) continue;
    EXPECT_TRUE(seen.insert(line).second) << "said twice: " << line;
    // Setup warnings name the package and the lines, e.g. "iproute2: 3 setup lines not applied:
    // postinst:17: setcap ...".
    if (line.find(" setup line") != std::string::npos) {
      ++setup_warnings;
      EXPECT_THAT(line,
                  ::testing::MatchesRegex(
                      "warning: [a-z0-9.+-]+: [0-9]+ setup lines? not applied: .*:[0-9]+: .*"));
    }
  }
  // iproute2's postinst gives /bin/ip file capabilities, which an image layer cannot carry.
  EXPECT_THAT(err, ::testing::ContainsRegex(
                       "warning: iproute2: [0-9]+ setup lines? not applied: postinst:[0-9]+: "
                       "setcap "));
  EXPECT_GE(setup_warnings, 1u) << err;
}

TEST_F(ServiceSetupE2ETest, RunAsAndDirsOwnersMustBeUsersTheImageHas) {
  std::string bad_run_as = std::string(kServicesSpec);
  bad_run_as.replace(bad_run_as.find("run-as: redis"), 13, "run-as: mysql");
  auto [spec, lock] = SpecAndLock("services", kServicesSpec);
  std::string path = Work() + "/bad.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, bad_run_as).has_value());
  auto r =
      HardbaseWithCache({"build", path, "--lock", lock, "-o", Work() + "/image", "--tag", "test"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("accounts.run-as: unknown user 'mysql': the image's users"));
  EXPECT_THAT(r.err, HasSubstr(", redis"));
  EXPECT_FALSE(fs::exists(Work() + "/image"));

  std::string bad_dir = std::string(kServicesSpec);
  bad_dir.replace(bad_dir.find("owner: redis"), 12, "owner: postgres");
  ASSERT_TRUE(WriteFileAtomic(path, bad_dir).has_value());
  r = HardbaseWithCache({"build", path, "--lock", lock, "-o", Work() + "/image", "--tag", "test"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:10:5: dirs: /var/lib/app: unknown user 'postgres'"));
}

// The debug variant's applet links are busybox applets of the real package, and work.
TEST_F(ServiceSetupE2ETest, DebugVariantLinksBusyboxsCoreUtilities) {
  auto text = ReadFile(ExampleSpec("static"));
  ASSERT_TRUE(text.has_value());
  auto [spec, lock] = SpecAndLock("static-debug", *text + "\nvariant: debug\n");
  UnpackedImage image = BuildAndUnpack(spec, lock);
  ASSERT_FALSE(image.rootfs.empty());
  auto list = RunWithCrun(image.bundle, {"/usr/bin/busybox", "--list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::set<std::string> applets;
  std::istringstream names(list.out);
  for (std::string name; std::getline(names, name);) applets.insert(name);
  size_t links = 0;
  for (const auto& e : fs::directory_iterator(image.rootfs + "/usr/bin")) {
    if (!e.is_symlink() || fs::read_symlink(e.path()) != "busybox") continue;
    EXPECT_TRUE(applets.count(e.path().filename())) << e.path() << " is no applet";
    ++links;
  }
  EXPECT_GE(links, 70u);
  auto run = RunWithCrun(image.bundle, {"/usr/bin/sh", "-c",
                                        "ls / | grep -c usr; id -u; "
                                        "echo a,b | cut -d, -f2"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "1\n65532\nb\n");
}

}  // namespace
}  // namespace hardbase::testing
