#include "spec/image_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "base/sha256.h"
#include "spec/names.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::spec {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ImageSpec MustParse(std::string_view yaml, std::string_view file = "dir/image.yaml") {
  auto spec = ParseImageSpec(yaml, file);
  EXPECT_TRUE(spec.has_value()) << (spec ? "" : spec.error().message);
  return spec ? *spec : ImageSpec{};
}

// The error message for `yaml`, which must fail with kSpec and exactly one mistake.
std::string ParseError(std::string_view yaml) {
  auto spec = ParseImageSpec(yaml, "image.yaml");
  if (spec) return "(parsed without error)";
  EXPECT_THAT(spec, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(spec.error().details, ::testing::IsEmpty()) << spec.error().message;
  return spec.error().message;
}

// Every line of the error for `yaml`, which must fail with kSpec: its message, then its details.
std::vector<std::string> ParseErrorLines(std::string_view yaml) {
  auto spec = ParseImageSpec(yaml, "image.yaml");
  if (!spec.has_value()) {
    EXPECT_THAT(spec, FailsWith(ErrorCode::kSpec));
    std::vector<std::string> lines = {spec.error().message};
    lines.insert(lines.end(), spec.error().details.begin(), spec.error().details.end());
    return lines;
  }
  return {"(parsed without error)"};
}

TEST(ImageSpecTest, MinimalSpecGetsDefaults) {
  ImageSpec spec = MustParse("name: demo\npackages: [base-files]\n");
  EXPECT_EQ(spec.name, "demo");
  EXPECT_EQ(spec.source_file, "dir/image.yaml");
  EXPECT_EQ(spec.base_dir, "dir");
  EXPECT_TRUE(spec.repositories.empty());
  auto host = HostArchitecture();
  ASSERT_TRUE(host.has_value());
  EXPECT_THAT(spec.archs, ElementsAre(*host));
  ASSERT_EQ(spec.packages.size(), 1u);
  EXPECT_EQ(spec.packages[0].name, "base-files");
  EXPECT_EQ(spec.packages[0].version, "");
  EXPECT_EQ(spec.packages[0].where, (SourceLocation{2, 12}));
  EXPECT_TRUE(spec.exclude.empty());
  EXPECT_TRUE(spec.paths.include.empty());
  EXPECT_TRUE(spec.paths.exclude.empty());
  EXPECT_TRUE(spec.files.empty());
  ASSERT_EQ(spec.accounts.users.size(), 1u);
  const User& user = spec.accounts.users[0];
  EXPECT_EQ(user.name, "nonroot");
  EXPECT_EQ(user.uid, 65532u);
  EXPECT_EQ(user.gid, 65532u);
  EXPECT_EQ(user.home, "/home/nonroot");
  EXPECT_EQ(user.shell, "/usr/sbin/nologin");
  ASSERT_EQ(spec.accounts.groups.size(), 1u);
  EXPECT_EQ(spec.accounts.groups[0], (Group{"nonroot", 65532}));
  EXPECT_EQ(spec.accounts.run_as, "nonroot");
  EXPECT_TRUE(spec.entrypoint.empty());
  EXPECT_TRUE(spec.cmd.empty());
  EXPECT_EQ(spec.env,
            (std::map<std::string, std::string>{
                {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}));
  EXPECT_EQ(spec.workdir, "/");
  EXPECT_TRUE(spec.labels.empty());
  EXPECT_TRUE(spec.annotations.empty());
  EXPECT_EQ(spec.variant, Variant::kStandard);
}

constexpr std::string_view kFullSpec = R"(# every key
name: team/app
repositories:
  - url: https://mirror.example/debian
    suites: [bookworm, bookworm-updates]
    keyring: keys/archive.gpg
  - url: file:///srv/repo
    suites: [local]
    components: [main, contrib]
    keyring: /etc/keys/local.gpg
    architectures: [arm64]
archs: [amd64, arm64]
packages:
  - base-files
  - libssl3=3.0.15-1~deb12u1
  - tzdata
exclude: [perl-base, debconf]
paths:
  include: ["/usr/share/doc/*/copyright"]
  exclude: [/usr/lib/jvm/**/libawt_xawt.so, "/usr/share/[a-z]*"]
files:
  - src: build/app
    dest: /usr/local/bin/app
    mode: "0755"
    owner: "65532:65532"
  - src: ./config
    dest: /etc/app
    mode: 0640
    owner: app
  - src: ../shared/motd
    dest: /etc/motd
accounts:
  groups:
    - {name: app, gid: 1000}
    - {name: extra, gid: 1500}
  users:
    - {name: app, uid: 1000, gid: 1000, home: /srv/app, shell: /bin/false}
    - name: helper
      uid: 1001
  run-as: app
entrypoint: ["/usr/local/bin/app", "--serve"]
cmd: [--port, "8080"]
env:
  LANG: C.UTF-8
  PORT: 8080
workdir: /srv/app
labels:
  org.opencontainers.image.title: app
annotations:
  org.opencontainers.image.source: https://example.invalid/app
variant: debug
)";

TEST(ImageSpecTest, FullSpecParsesEveryKey) {
  ImageSpec spec = MustParse(kFullSpec, "/work/specs/image.yaml");
  EXPECT_EQ(spec.name, "team/app");
  EXPECT_EQ(spec.base_dir, "/work/specs");
  ASSERT_EQ(spec.repositories.size(), 2u);
  const Repository& r0 = spec.repositories[0];
  EXPECT_EQ(r0.url, "https://mirror.example/debian");
  EXPECT_THAT(r0.suites, ElementsAre("bookworm", "bookworm-updates"));
  EXPECT_THAT(r0.components, ElementsAre("main"));
  EXPECT_EQ(r0.keyring, "keys/archive.gpg");  // kept as written
  EXPECT_TRUE(r0.architectures.empty());
  EXPECT_EQ(r0.where, (SourceLocation{4, 5}));
  EXPECT_EQ(spec.ResolvePath(r0.keyring), "/work/specs/keys/archive.gpg");
  const Repository& r1 = spec.repositories[1];
  EXPECT_THAT(r1.components, ElementsAre("main", "contrib"));
  EXPECT_EQ(r1.keyring, "/etc/keys/local.gpg");
  EXPECT_THAT(r1.architectures, ElementsAre("arm64"));
  EXPECT_THAT(spec.archs, ElementsAre("amd64", "arm64"));
  ASSERT_EQ(spec.packages.size(), 3u);
  EXPECT_EQ(spec.packages[1].name, "libssl3");
  EXPECT_EQ(spec.packages[1].version, "3.0.15-1~deb12u1");
  EXPECT_EQ(spec.packages[1].ToString(), "libssl3=3.0.15-1~deb12u1");
  EXPECT_EQ(spec.packages[1].where, (SourceLocation{15, 5}));
  EXPECT_THAT(spec.exclude, ElementsAre("perl-base", "debconf"));
  EXPECT_THAT(spec.paths.include, ElementsAre("/usr/share/doc/*/copyright"));
  EXPECT_THAT(spec.paths.exclude,
              ElementsAre("/usr/lib/jvm/**/libawt_xawt.so", "/usr/share/[a-z]*"));
  ASSERT_EQ(spec.files.size(), 3u);
  EXPECT_EQ(spec.files[0].src, "build/app");
  EXPECT_EQ(spec.files[0].dest, "/usr/local/bin/app");
  EXPECT_EQ(spec.files[0].mode, 0755u);
  EXPECT_EQ(spec.files[0].user, "65532");
  EXPECT_EQ(spec.files[0].group, "65532");
  EXPECT_EQ(spec.files[0].where, (SourceLocation{22, 5}));
  EXPECT_EQ(spec.files[1].mode, 0640u);
  EXPECT_EQ(spec.files[1].user, "app");
  EXPECT_EQ(spec.files[1].group, "");  // the user's primary group
  EXPECT_EQ(spec.ResolvePath(spec.files[1].src), "/work/specs/config");
  EXPECT_EQ(spec.files[2].mode, std::nullopt);
  EXPECT_EQ(spec.files[2].user, "0");
  EXPECT_EQ(spec.files[2].group, "0");
  EXPECT_EQ(spec.ResolvePath(spec.files[2].src), "/work/shared/motd");
  EXPECT_THAT(spec.accounts.groups, ElementsAre(Group{"app", 1000}, Group{"extra", 1500}));
  ASSERT_EQ(spec.accounts.users.size(), 2u);
  EXPECT_EQ(spec.accounts.users[0], (User{"app", 1000, 1000, "/srv/app", "/bin/false"}));
  EXPECT_EQ(spec.accounts.users[1],
            (User{"helper", 1001, 1001, "/home/helper", "/usr/sbin/nologin"}));
  EXPECT_EQ(spec.accounts.run_as, "app");
  EXPECT_THAT(spec.entrypoint, ElementsAre("/usr/local/bin/app", "--serve"));
  EXPECT_THAT(spec.cmd, ElementsAre("--port", "8080"));
  EXPECT_EQ(spec.env,
            (std::map<std::string, std::string>{
                {"LANG", "C.UTF-8"}, {"PATH", std::string(kDefaultPath)}, {"PORT", "8080"}}));
  EXPECT_EQ(spec.workdir, "/srv/app");
  EXPECT_EQ(spec.labels.at("org.opencontainers.image.title"), "app");
  EXPECT_EQ(spec.annotations.at("org.opencontainers.image.source"), "https://example.invalid/app");
  EXPECT_EQ(spec.variant, Variant::kDebug);
  EXPECT_EQ(spec.Locate(spec.packages[2].where), "/work/specs/image.yaml:16:5");
}

TEST(ImageSpecTest, EnvPathCanBeOverridden) {
  ImageSpec spec = MustParse("name: x\npackages: [aa]\nenv: {PATH: /opt/bin}\n");
  EXPECT_EQ(spec.env.at("PATH"), "/opt/bin");
}

TEST(ImageSpecTest, FileModes) {
  auto mode_of = [](std::string_view mode) {
    std::string yaml =
        "name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, mode: " + std::string(mode) +
        "}\n";
    return MustParse(yaml).files.at(0).mode;
  };
  EXPECT_EQ(mode_of("0644"), 0644u);
  EXPECT_EQ(mode_of("\"0755\""), 0755u);
  EXPECT_EQ(mode_of("755"), 0755u);  // read as octal, never decimal
  EXPECT_EQ(mode_of("0o700"), 0700u);
  EXPECT_EQ(mode_of("'4755'"), 04755u);
  EXPECT_EQ(mode_of("0"), 0u);
}

TEST(ImageSpecTest, FileOwners) {
  auto owner_of = [](std::string_view owner) {
    std::string yaml =
        "name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, owner: " + std::string(owner) +
        "}\n";
    FileEntry f = MustParse(yaml).files.at(0);
    return f.user + "|" + f.group;
  };
  EXPECT_EQ(owner_of("\"65532:65532\""), "65532|65532");
  EXPECT_EQ(owner_of("1000"), "1000|1000");
  EXPECT_EQ(owner_of("nonroot"), "nonroot|");
  EXPECT_EQ(owner_of("app:staff"), "app|staff");
  EXPECT_EQ(owner_of("\"0:daemon\""), "0|daemon");
}

TEST(ImageSpecTest, DirsGiveAPathAnOwnerAndAMode) {
  ImageSpec spec = MustParse(
      "name: x\npackages: [aa]\ndirs:\n"
      "  - {path: /var/lib/redis, owner: redis, mode: '0750'}\n"
      "  - {path: /run/app, owner: '100:adm'}\n"
      "  - path: /srv/data\n");
  ASSERT_EQ(spec.dirs.size(), 3u);
  EXPECT_EQ(spec.dirs[0], (DirEntry{"/var/lib/redis", 0750, "redis", "", {4, 5}}));
  EXPECT_EQ(spec.dirs[1], (DirEntry{"/run/app", 0755, "100", "adm", {5, 5}}));
  EXPECT_EQ(spec.dirs[2], (DirEntry{"/srv/data", 0755, "0", "0", {6, 5}}));
  EXPECT_TRUE(MustParse("name: x\npackages: [aa]\n").dirs.empty());
}

TEST(ImageSpecTest, DirsErrors) {
  const std::string head = "name: x\npackages: [aa]\n";
  EXPECT_EQ(ParseError(head + "dirs: {path: /a}\n"),
            "image.yaml:3:7: dirs: expected a list of {path, owner, mode}");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {owner: root}\n"),
            "image.yaml:4:5: dirs[0]: missing required key 'path'");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /a, ownr: root}\n"),
            "image.yaml:4:16: dirs[0]: unknown key 'ownr' (did you mean 'owner'?)");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: var/a}\n"),
            "image.yaml:4:12: dirs[0].path: expected an absolute path, got 'var/a'");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /var/a/}\n"),
            "image.yaml:4:12: dirs[0].path: path '/var/a/' is not in normal form: write '/var/a'");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /}\n"),
            "image.yaml:4:12: dirs[0].path: the root directory is the image's own: name a "
            "directory below it");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /a, mode: '0779'}\n"),
            "image.yaml:4:22: dirs[0].mode: bad mode '0779': expected octal permission bits like "
            "0644 or 0755");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /a, owner: 'Redis:x'}\n"),
            "image.yaml:4:23: dirs[0].owner: bad owner 'Redis:x': expected user:group, each a name "
            "or a number (e.g. 65532:65532)");
  EXPECT_EQ(ParseError(head + "dirs:\n  - {path: /a}\n  - {path: /b}\n  - {path: /a}\n"),
            "image.yaml:6:5: dirs[2]: path '/a' repeats dirs[0]");
  EXPECT_EQ(ParseError(head + "files:\n  - {src: d, dest: /srv/d}\ndirs:\n  - {path: /srv/d}\n"),
            "image.yaml:6:5: dirs[0]: path '/srv/d' is also the dest of a files entry (line 4): "
            "give its owner and mode there");
  // Every entry is checked.
  EXPECT_THAT(
      ParseErrorLines(head + "dirs:\n  - {path: a}\n  - {path: /b, mode: x}\n"),
      ElementsAre("image.yaml: 2 errors", HasSubstr("dirs[0].path"), HasSubstr("dirs[1].mode")));
}

TEST(ImageSpecTest, AccountsDefaultsWhenPartlyGiven) {
  // Only run-as: the default user stays.
  ImageSpec a = MustParse("name: x\npackages: [aa]\naccounts: {run-as: root}\n");
  ASSERT_EQ(a.accounts.users.size(), 1u);
  EXPECT_EQ(a.accounts.users[0].name, "nonroot");
  EXPECT_EQ(a.accounts.run_as, "root");
  // Users without groups: each user with a non-system gid gets its own group; run-as = first.
  ImageSpec b = MustParse(
      "name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: web, uid: 2000}\n"
      "    - {name: svc, uid: 2001, gid: 100}\n");
  EXPECT_THAT(b.accounts.groups, ElementsAre(Group{"web", 2000}));
  EXPECT_EQ(b.accounts.run_as, "web");
  // No users at all: run-as must be explicit.
  ImageSpec c = MustParse("name: x\npackages: [aa]\naccounts: {users: [], run-as: '65534'}\n");
  EXPECT_TRUE(c.accounts.users.empty());
  EXPECT_EQ(c.accounts.run_as, "65534");
}

TEST(ImageSpecTest, ErrorsCarryFileLineAndColumn) {
  EXPECT_EQ(ParseError("name: x\npakages: [aa]\n"),
            "image.yaml:2:1: unknown key 'pakages' (did you mean 'packages'?)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nentry_point: [a]\n"),
            "image.yaml:3:1: unknown key 'entry_point' (did you mean 'entrypoint'?)");
  EXPECT_THAT(
      ParseError("name: x\npackages: [aa]\nfrobnicate: 1\n"),
      ::testing::StartsWith("image.yaml:3:1: unknown key 'frobnicate' (expected one of name, "
                            "repositories, archs,"));
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  run_as: root\n"),
            "image.yaml:4:3: accounts: unknown key 'run_as' (did you mean 'run-as'?)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nrepositories:\n  - url: http://h/d\n"
                       "    suite: [bookworm]\n"),
            "image.yaml:5:5: repositories[0]: unknown key 'suite' (did you mean 'suites'?)");
}

TEST(ImageSpecTest, WrongTypes) {
  EXPECT_EQ(ParseError("name: x\npackages: base-files\n"),
            "image.yaml:2:11: packages: expected a list of strings");
  EXPECT_EQ(ParseError("name: x\npackages:\n  - aa\n  - [bb]\n"),
            "image.yaml:4:5: packages[1]: expected a list of strings");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\ncmd: {a: b}\n"),
            "image.yaml:3:6: cmd: expected a list of strings");
  EXPECT_EQ(ParseError("name: [x]\npackages: [aa]\n"), "image.yaml:1:7: name: expected a string");
  EXPECT_EQ(ParseError("name:\npackages: [aa]\n"), "image.yaml:1:1: name: expected a string");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nenv: [A=b]\n"),
            "image.yaml:3:6: env: expected a map of strings");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nlabels:\n  a: [b]\n"),
            "image.yaml:4:6: labels: expected a map of strings");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: a, uid: -1}\n"),
            "image.yaml:5:22: accounts.users[0].uid: expected an integer from 0 to 4294967294");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles: {src: a}\n"),
            "image.yaml:3:8: files: expected a list of {src, dest, mode, owner}");
  EXPECT_EQ(ParseError("- name: x\n"),
            "image.yaml:1:1: expected a mapping of spec keys (name, packages, ...)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\npaths: [/usr]\n"),
            "image.yaml:3:8: paths: expected a mapping with keys include, exclude");
}

TEST(ImageSpecTest, PackageErrors) {
  EXPECT_THAT(ParseError("name: x\npackages:\n  - base-files\n  - Foo\n"),
              ::testing::StartsWith("image.yaml:4:5: packages[1]: invalid package name 'Foo': "));
  EXPECT_THAT(ParseError("name: x\npackages: [a]\n"),
              ::testing::StartsWith("image.yaml:2:12: packages[0]: invalid package name 'a'"));
  EXPECT_EQ(ParseError("name: x\npackages: [libc6:amd64]\n"),
            "image.yaml:2:12: packages[0]: invalid package name 'libc6:amd64': architecture "
            "qualifiers are not supported here; use archs");
  EXPECT_EQ(ParseError("name: x\npackages: ['libc6 (>= 2.36)']\n"),
            "image.yaml:2:12: packages[0]: invalid package name 'libc6 (>= 2.36)': pin a version "
            "with name=version");
  EXPECT_EQ(ParseError("name: x\npackages: [libc6=latest]\n"),
            "image.yaml:2:12: packages[0]: invalid version 'latest' in 'libc6=latest': expected a "
            "Debian version such as 1.2-3 or 1:2.0~rc1-1");
  EXPECT_EQ(ParseError("name: x\npackages:\n  - tzdata\n  - libc6\n  - tzdata=2024a-0+deb12u1\n"),
            "image.yaml:5:5: packages[2]: duplicate package 'tzdata' (first at line 3)");
  EXPECT_EQ(ParseError("name: x\npackages: []\n"),
            "image.yaml:2:11: packages: the list is empty: name at least one package");
  EXPECT_EQ(ParseError("name: x\n"), "image.yaml:1:1: missing required key 'packages'");
  EXPECT_EQ(ParseError("packages: [aa]\n"), "image.yaml:1:1: missing required key 'name'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa, bb]\nexclude: [cc, bb]\n"),
            "image.yaml:3:15: exclude[1]: 'bb' is also listed in packages (line 2)");
  EXPECT_THAT(ParseError("name: x\npackages: [aa]\nexclude: [_x]\n"),
              ::testing::StartsWith("image.yaml:3:11: exclude[0]: invalid package name '_x'"));
}

TEST(ImageSpecTest, ArchErrors) {
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs: [x86_64]\n"),
            "image.yaml:3:9: archs[0]: invalid architecture 'x86_64': Debian calls it amd64");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs: [amd64, arm46]\n"),
            "image.yaml:3:16: archs[1]: invalid architecture 'arm46' (did you mean 'arm64'?)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs: [windows]\n"),
            "image.yaml:3:9: archs[0]: invalid architecture 'windows': expected a Debian "
            "architecture such as amd64 or arm64");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs:\n  - arm64\n  - arm64\n"),
            "image.yaml:5:5: archs[1]: duplicate architecture 'arm64' (first at line 4)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs: []\n"),
            "image.yaml:3:8: archs: must name at least one architecture");
}

TEST(ImageSpecTest, RepositoryErrors) {
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nrepositories:\n  - suites: [bookworm]\n"),
            "image.yaml:4:5: repositories[0]: missing required key 'url'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nrepositories:\n  - url: http://h/debian\n"),
            "image.yaml:4:5: repositories[0]: missing required key 'suites'");
  EXPECT_EQ(
      ParseError("name: x\npackages: [aa]\nrepositories:\n  - {url: ftp://h/d, suites: [s]}\n"),
      "image.yaml:4:11: repositories[0].url: expected an http://, https:// or file:/ URL, "
      "got 'ftp://h/d'");
  EXPECT_EQ(
      ParseError("name: x\npackages: [aa]\nrepositories:\n  - {url: http://h/d, suites: []}\n"),
      "image.yaml:4:31: repositories[0].suites: must name at least one suite");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nrepositories:\n"
                       "  - {url: http://h/d, suites: [../x]}\n"),
            "image.yaml:4:32: repositories[0].suites[0]: invalid suite name '../x'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nrepositories: {url: http://h/d}\n"),
            "image.yaml:3:15: repositories: expected a list of repositories (url, suites, ...)");
}

TEST(ImageSpecTest, FileErrors) {
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, mode: '0799'}\n"),
            "image.yaml:4:30: files[0].mode: bad mode '0799': expected octal permission bits like "
            "0644 or 0755");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, mode: 10000}\n"),
            "image.yaml:4:30: files[0].mode: bad mode '10000': expected octal permission bits like "
            "0644 or 0755");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, mode: rwx}\n"),
            "image.yaml:4:30: files[0].mode: bad mode 'rwx': expected octal permission bits like "
            "0644 or 0755");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: etc/a}\n"),
            "image.yaml:4:20: files[0].dest: expected an absolute path, got 'etc/a'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /etc/../a}\n"),
            "image.yaml:4:20: files[0].dest: path '/etc/../a' must not contain '..'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {dest: /a}\n"),
            "image.yaml:4:5: files[0]: missing required key 'src'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nfiles:\n  - {src: a, dest: /a, owner: 'a:b:c'}\n"),
            "image.yaml:4:31: files[0].owner: bad owner 'a:b:c': expected user:group, each a name "
            "or a number (e.g. 65532:65532)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\npaths:\n  exclude: [usr/share/doc]\n"),
            "image.yaml:4:13: paths.exclude[0]: invalid glob 'usr/share/doc': expected an absolute "
            "path pattern like /usr/share/doc/** with every '[' closed");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\npaths:\n  include: ['/usr/[ab']\n"),
            "image.yaml:4:13: paths.include[0]: invalid glob '/usr/[ab': expected an absolute "
            "path pattern like /usr/share/doc/** with every '[' closed");
}

TEST(ImageSpecTest, AccountErrors) {
  // Any user name: a system or a package's service user is checked by the build.
  EXPECT_EQ(MustParse("name: x\npackages: [aa]\naccounts:\n  run-as: redis\n").accounts.run_as,
            "redis");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  run-as: Redis\n"),
            "image.yaml:4:11: accounts.run-as: invalid user name 'Redis': expected a user name "
            "(from accounts.users, base-passwd or a package), root, or a numeric uid");
  EXPECT_THAT(ParseError("name: x\npackages: [aa]\naccounts:\n  run-as: '99999999999'\n"),
              HasSubstr("invalid user name '99999999999'"));
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users: []\n"),
            "image.yaml:4:3: accounts: no users are listed, so run-as must say who runs the image");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: a, uid: 5}\n"
                       "    - {name: b, uid: 5}\n"),
            "image.yaml:6:7: accounts.users[1]: uid 5 repeats accounts.users[0]");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: Bad, uid: 5}\n"),
            "image.yaml:5:14: accounts.users[0].name: invalid user name 'Bad'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: x, uid: 0}\n"),
            "image.yaml:5:7: accounts.users[0]: user root (uid 0) comes from base-passwd; to run "
            "as root write run-as: root");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  groups:\n    - {name: g}\n"),
            "image.yaml:5:7: accounts.groups[0]: missing required key 'gid'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: a, uid: 7, "
                       "home: rel}\n"),
            "image.yaml:5:31: accounts.users[0].home: expected an absolute path, got 'rel'");
}

TEST(ImageSpecTest, OtherErrors) {
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nname: y\n"),
            "image.yaml:3:1: duplicate key 'name' (first at line 1)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nenv:\n  A: 1\n  A: 2\n"),
            "image.yaml:5:3: env: duplicate key 'A' (first at line 4)");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nenv: {'A=B': c}\n"),
            "image.yaml:3:6: env: variable name 'A=B' must not contain '='");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nvariant: release\n"),
            "image.yaml:3:10: variant: unknown variant 'release': the variants are debug and dev "
            "(leave variant out for the standard image)");
  EXPECT_EQ(MustParse("name: x\npackages: [aa]\nvariant: dev\n").variant, Variant::kDev);
  // A dev image runs as root, unless its accounts say otherwise.
  EXPECT_EQ(MustParse("name: x\npackages: [aa]\nvariant: dev\n").accounts.run_as, "root");
  EXPECT_EQ(MustParse("name: x\npackages: [aa]\nvariant: dev\naccounts: {}\n").accounts.run_as,
            "nonroot");
  EXPECT_EQ(MustParse("name: x\npackages: [aa]\n").accounts.run_as, "nonroot");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nworkdir: app\n"),
            "image.yaml:3:10: workdir: expected an absolute path, got 'app'");
  EXPECT_EQ(ParseError("name: My_App\npackages: [aa]\n"),
            "image.yaml:1:7: name: invalid image name 'My_App': expected lowercase letters and "
            "digits separated by '.', '_', '-' or '/'");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\n---\nname: y\n"),
            "image.yaml:3:1: a second YAML document starts here; a spec is one document");
  EXPECT_EQ(ParseError("name: x\n---\n---\n"),
            "image.yaml:2:1: a second YAML document starts here; a spec is one document");
  EXPECT_EQ(ParseError(""), "image.yaml:1:1: the spec is empty");
  EXPECT_EQ(ParseError("# nothing\n"), "image.yaml:1:1: the spec is empty");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nlabels: {a: \"\xff\"}\n"),
            "image.yaml:3:14: the spec is not valid UTF-8");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\nlabels: {a: \"\\ud800\"}\n"),
            "image.yaml:3:20: invalid YAML: invalid unicode: 55296");
}

// Values that end up in /etc/passwd, the image's file tree or its config can neither break the
// line they are written on nor exceed what Linux accepts as a path.
TEST(ImageSpecTest, GeneratedFileFieldsAreConfined) {
  const std::string head = "name: x\npackages: [aa]\n";
  EXPECT_EQ(ParseError(head + "accounts:\n  users:\n    - {name: a, uid: 7, home: \"/h\\n"
                              "r::0:0::/:/bin/sh\"}\n"),
            "image.yaml:5:31: accounts.users[0].home: path '/h\\nr::0:0::/:/bin/sh' contains the "
            "control character \\n");
  EXPECT_EQ(ParseError(head + "accounts:\n  users:\n    - {name: a, uid: 7, home: '/a:b'}\n"),
            "image.yaml:5:31: accounts.users[0].home: path '/a:b' must not contain ':', which "
            "separates /etc/passwd fields");
  EXPECT_EQ(ParseError(head + "accounts:\n  users:\n    - {name: a, uid: 7, shell: '/bin/x:'}\n"),
            "image.yaml:5:32: accounts.users[0].shell: path '/bin/x:' must not contain ':', "
            "which separates /etc/passwd fields");
  EXPECT_EQ(ParseError(head + "accounts:\n  users:\n    - {name: a, uid: 7, home: /h//a/}\n"),
            "image.yaml:5:31: accounts.users[0].home: path '/h//a/' is not in normal form: write "
            "'/h/a'");
  EXPECT_EQ(ParseError(head + "workdir: /srv/.\n"),
            "image.yaml:3:10: workdir: path '/srv/.' is not in normal form: write '/srv'");
  EXPECT_EQ(ParseError(head + "files:\n  - {src: a, dest: \"/etc/\\x01\"}\n"),
            "image.yaml:4:20: files[0].dest: path '/etc/\\x01' contains the control character "
            "\\x01");
  EXPECT_EQ(ParseError(head + "files:\n  - {src: \"a\\tb\", dest: /a}\n"),
            "image.yaml:4:11: files[0].src: path 'a\\tb' contains the control character \\t");
  EXPECT_EQ(ParseError(head + "env: {\"A\\nB\": c}\n"),
            "image.yaml:3:6: env: variable name 'A\\nB' must not contain control characters");
  EXPECT_EQ(ParseError(head + "repositories:\n  - {url: \"http://h/\\x1b\", suites: [s]}\n"),
            "image.yaml:4:11: repositories[0].url: expected an http://, https:// or file:/ URL, "
            "got 'http://h/\\x1b'");
  const std::string name(256, 'a');
  EXPECT_EQ(ParseError(head + "paths:\n  exclude: [/usr/" + name + "]\n"),
            "image.yaml:4:13: paths.exclude[0]: path component '" + std::string(60, 'a') +
                "...' is 256 bytes long (at most 255)");
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "/" + std::string(250, 'd');
  EXPECT_EQ(ParseError(head + "workdir: " + deep + "\n"),
            "image.yaml:3:10: workdir: path is 5020 bytes long (at most 4096)");
  // The longest allowed values still parse, as do normal paths with ':' where passwd is not
  // concerned.
  std::string longest = "/" + std::string(255, 'a');
  while (longest.size() + 256 <= 4096) longest += "/" + std::string(255, 'a');
  ImageSpec spec =
      MustParse(head + "workdir: " + longest + "\nfiles:\n  - {src: a, dest: '/a:b'}\n");
  EXPECT_EQ(spec.workdir, longest);
  EXPECT_EQ(spec.files[0].dest, "/a:b");
}

TEST(ImageSpecTest, YamlSyntaxErrorsHavePositions) {
  EXPECT_EQ(ParseError("name: x\npackages: [aa, bb\n"),
            "image.yaml:3:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ParseError("name: x\npackages:\n  - aa\n - bb\n"),
            "image.yaml:4:2: invalid YAML: end of map not found");
  EXPECT_EQ(ParseError("name: x\n\tpackages: [aa]\n"),
            "image.yaml:2:1: invalid YAML: illegal tab when looking for indentation");
  EXPECT_EQ(ParseError("name: x: y\npackages: [aa]\n"),
            "image.yaml:1:8: invalid YAML: illegal map value");
  EXPECT_EQ(ParseError("name: *nothing\n"),
            "image.yaml:1:7: invalid YAML: the referenced anchor is not defined");
}

// A spec with several independent mistakes gets all of them in one error, sorted by position
// (not in the order they were found: unknown keys are found before any value is read).
TEST(ImageSpecTest, EveryMistakeIsReportedInSourceOrder) {
  constexpr std::string_view kMistakes =
      "name: demo\n"
      "packages: [base-files, Foo]\n"
      "entrypiont: [/app]\n"
      "files:\n"
      "  - {src: app, dest: usr/bin/app}\n"
      "accounts:\n"
      "  users:\n"
      "    - {name: Bad, uid: 1000}\n"
      "  run-as: Bad\n";
  auto spec = ParseImageSpec(kMistakes, "image.yaml");
  ASSERT_FALSE(spec.has_value());
  EXPECT_THAT(spec, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(spec.error().message, "image.yaml: 4 errors");
  // run-as names the user whose entry is wrong: fixing that entry fixes run-as, so it is not a
  // mistake of its own.
  EXPECT_THAT(
      spec.error().details,
      ElementsAre(
          "image.yaml:2:24: packages[1]: invalid package name 'Foo': Debian package names are at "
          "least 2 characters of a-z, 0-9, '+', '-' and '.', starting with a letter or digit",
          "image.yaml:3:1: unknown key 'entrypiont' (did you mean 'entrypoint'?)",
          "image.yaml:5:22: files[0].dest: expected an absolute path, got 'usr/bin/app'",
          "image.yaml:8:14: accounts.users[0].name: invalid user name 'Bad'"));
  // Wrapping adds context to the summary and keeps every line.
  Error wrapped = spec.error().Wrap("lock");
  EXPECT_EQ(wrapped.message, "lock: image.yaml: 4 errors");
  EXPECT_EQ(wrapped.details, spec.error().details);
}

TEST(ImageSpecTest, CrossFieldChecksAreReportedWithTheOthers) {
  EXPECT_THAT(ParseErrorLines("name: Demo\n"
                              "packages: [aa, bb]\n"
                              "exclude: [bb, cc]\n"
                              "accounts:\n"
                              "  users:\n"
                              "    - {name: a, uid: 5}\n"
                              "    - {name: b, uid: 5}\n"
                              "  run-as: No-body\n"),
              ElementsAre("image.yaml: 4 errors",
                          "image.yaml:1:7: name: invalid image name 'Demo': expected lowercase "
                          "letters and digits separated by '.', '_', '-' or '/'",
                          "image.yaml:3:11: exclude[0]: 'bb' is also listed in packages (line 2)",
                          "image.yaml:7:7: accounts.users[1]: uid 5 repeats accounts.users[0]",
                          "image.yaml:8:11: accounts.run-as: invalid user name 'No-body': "
                          "expected a user name (from accounts.users, base-passwd or a package), "
                          "root, or a numeric uid"));
}

// After a mistake the parser goes on with the next key of the same mapping and the next item of
// the same list.
TEST(ImageSpecTest, EachKeyAndItemIsCheckedAfterAMistake) {
  EXPECT_THAT(
      ParseErrorLines("name: x\npackages: [aa]\naccounts:\n  users:\n"
                      "    - {name: Bad, uid: 7, home: rel, shell: '/bin/x:'}\n"
                      "    - {uid: 8, nmae: b}\n"),
      ElementsAre("image.yaml: 4 errors",
                  "image.yaml:5:14: accounts.users[0].name: invalid user name 'Bad'",
                  "image.yaml:5:33: accounts.users[0].home: expected an absolute path, got 'rel'",
                  "image.yaml:5:45: accounts.users[0].shell: path '/bin/x:' must not contain ':', "
                  "which separates /etc/passwd fields",
                  // 'name' is missing, but the did-you-mean already says where it went
                  "image.yaml:6:16: accounts.users[1]: unknown key 'nmae' (did you mean 'name'?)"));
  EXPECT_THAT(ParseErrorLines("name: x\npackages: [aa]\nrepositories:\n"
                              "  - {suites: [bookworm]}\n"
                              "  - {url: http://h/d, suites: [ok, ../x], components: [a b]}\n"),
              ElementsAre("image.yaml: 3 errors",
                          "image.yaml:4:5: repositories[0]: missing required key 'url'",
                          "image.yaml:5:36: repositories[1].suites[1]: invalid suite name '../x'",
                          "image.yaml:5:56: repositories[1].components[0]: invalid component "
                          "name 'a b'"));
  EXPECT_THAT(ParseErrorLines("name: x\npackages: [aa, [bb], Cc, aa]\narchs: [amd46, [x], arm64, "
                              "arm64]\nenv: {A: [1], 'B=': 2}\n"),
              ElementsAre("image.yaml: 8 errors",
                          "image.yaml:2:16: packages[1]: expected a list of strings",
                          ::testing::StartsWith("image.yaml:2:22: packages[2]: invalid package "
                                                "name 'Cc'"),
                          "image.yaml:2:26: packages[3]: duplicate package 'aa' (first at line 2)",
                          "image.yaml:3:9: archs[0]: invalid architecture 'amd46' (did you mean "
                          "'amd64'?)",
                          "image.yaml:3:16: archs[1]: expected a list of strings",
                          "image.yaml:3:28: archs[3]: duplicate architecture 'arm64' (first at "
                          "line 3)",
                          // the map's own position, as for a single mistake in env
                          "image.yaml:4:6: env: variable name 'B=' must not contain '='",
                          "image.yaml:4:10: env: expected a map of strings"));
}

// A mistake is reported once, not again as what follows from leaving the bad value out.
TEST(ImageSpecTest, ConsequencesOfAMistakeAreNotReported) {
  // The user named by run-as, or the only user, has a mistake of its own.
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users:\n    - {name: a, uid: x}\n"
                       "  run-as: a\n"),
            "image.yaml:5:22: accounts.users[0].uid: expected an integer from 0 to 4294967294");
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  users: {name: a}\n"),
            "image.yaml:4:10: accounts.users: expected a list of {name, uid, gid, home, shell}");
  // A gid that could not be read is not taken for gid 0.
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\naccounts:\n  groups:\n    - {name: g, gid: -1}\n"),
            "image.yaml:5:22: accounts.groups[0].gid: expected an integer from 0 to 4294967294");
  // A misspelt required key is not missing as well.
  EXPECT_EQ(ParseError("nmae: x\npackages: [aa]\n"),
            "image.yaml:1:1: unknown key 'nmae' (did you mean 'name'?)");
  // A list whose only items are bad is not empty as well.
  EXPECT_THAT(ParseError("name: x\npackages: [Foo]\n"),
              ::testing::StartsWith("image.yaml:2:12: packages[0]: invalid package name 'Foo'"));
  EXPECT_EQ(ParseError("name: x\npackages: [aa]\narchs: [i386x]\n"),
            "image.yaml:3:9: archs[0]: invalid architecture 'i386x' (did you mean 'i386'?)");
  // Without a near key, the unknown key and the missing one are two mistakes.
  EXPECT_THAT(ParseErrorLines("title: x\npackages: [aa]\n"),
              ElementsAre("image.yaml: 2 errors",
                          ::testing::StartsWith("image.yaml:1:1: unknown key 'title' (expected "
                                                "one of name, "),
                          "image.yaml:1:1: missing required key 'name'"));
}

TEST(ImageSpecTest, ManyMistakesAreListedUpToALimit) {
  auto spec_with = [](int bad) {
    std::string yaml = "name: x\npackages:\n";
    for (int i = 0; i < bad; ++i) yaml += "  - Bad" + std::to_string(i) + "\n";
    return yaml;
  };
  std::vector<std::string> lines = ParseErrorLines(spec_with(25));
  ASSERT_EQ(lines.size(), 22u);
  EXPECT_EQ(lines[0], "image.yaml: 25 errors");
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(lines[static_cast<size_t>(i) + 1],
                ::testing::StartsWith("image.yaml:" + std::to_string(i + 3) + ":5: packages[" +
                                      std::to_string(i) + "]: invalid package name 'Bad" +
                                      std::to_string(i) + "'"));
  }
  EXPECT_EQ(lines[21], "... and 5 more errors");
  lines = ParseErrorLines(spec_with(20));
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_EQ(lines[0], "image.yaml: 20 errors");
  EXPECT_THAT(lines[20], ::testing::StartsWith("image.yaml:22:5: packages[19]: "));
  // Past 1000 mistakes reading stops (aliases could repeat one mistake without end).
  lines = ParseErrorLines(spec_with(1200));
  ASSERT_EQ(lines.size(), 22u);
  EXPECT_EQ(lines[0], "image.yaml: more than 1000 errors");
  EXPECT_THAT(lines[1], ::testing::StartsWith("image.yaml:3:5: packages[0]: "));
  EXPECT_EQ(lines[21], "... and more than 980 more errors");
  // A thousand aliases of a repository whose thousand suites are all bad: reading stops early
  // instead of going through a million mistakes.
  std::string suites = "&b ../x";
  for (int i = 1; i < 1000; ++i) suites += ", *b";
  std::string many = "name: x\npackages: [aa]\nrepositories:\n  - &r {url: http://h/d, suites: [" +
                     suites + "]}\n";
  for (int i = 1; i < 1000; ++i) many += "  - *r\n";
  lines = ParseErrorLines(many);
  ASSERT_EQ(lines.size(), 22u);
  EXPECT_EQ(lines[0], "image.yaml: more than 1000 errors");
  EXPECT_EQ(lines[1], "image.yaml:4:35: repositories[0].suites[0]: invalid suite name '../x'");
}

// yaml-cpp gives no tree after a syntax error, so that one is all there is to report, whatever
// else is wrong.
TEST(ImageSpecTest, AYamlSyntaxErrorIsTheOnlyOneReported) {
  EXPECT_EQ(ParseError("nmae: x\npackages: [Foo, bb\n"),
            "image.yaml:3:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ParseError("nmae: x\npackages: [Foo]\n---\nname: y\n"),
            "image.yaml:3:1: a second YAML document starts here; a spec is one document");
}

TEST(ImageSpecTest, StrayFlowIndicatorsAreErrorsNotHangs) {
  // yaml-cpp 0.7's LoadAll loops forever on these (jbeder/yaml-cpp#1040).
  EXPECT_EQ(ParseError(", every key\nname: x\n"), "image.yaml:1:1: invalid YAML: unexpected ','");
  EXPECT_EQ(ParseError(","), "image.yaml:1:1: invalid YAML: unexpected ','");
  EXPECT_EQ(ParseError("[a], b\n"), "image.yaml:1:4: invalid YAML: unexpected ','");
}

TEST(ImageSpecTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "name: x\npackages: " + std::string(100000, '[');
  EXPECT_THAT(ParseError(deep), HasSubstr("invalid YAML"));
}

TEST(ImageSpecTest, LoadImageSpecReadsFileAndSetsBaseDir) {
  auto dir = TempDir::Create("spec-test-");
  ASSERT_TRUE(dir.has_value());
  std::string path = dir->path() + "/image.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, "name: x\npackages: [aa]\nfiles: [{src: app, dest: /app}]\n"));
  auto spec = LoadImageSpec(path);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec->base_dir, dir->path());
  EXPECT_EQ(spec->ResolvePath(spec->files[0].src), dir->path() + "/app");

  auto missing = LoadImageSpec(dir->path() + "/nope.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing, FailsWith(ErrorCode::kIo));
  EXPECT_THAT(missing.error().message, HasSubstr("nope.yaml"));

  ASSERT_TRUE(WriteFileAtomic(path, "name: x\n"));
  auto bad = LoadImageSpec(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, path + ":1:1: missing required key 'packages'");
}

TEST(ImageSpecTest, ResolveRelativePath) {
  EXPECT_EQ(ResolveRelativePath("/a/b", "c/d"), "/a/b/c/d");
  EXPECT_EQ(ResolveRelativePath("/a/b", "./c/../d"), "/a/b/d");
  EXPECT_EQ(ResolveRelativePath("/a/b", "../c"), "/a/c");
  EXPECT_EQ(ResolveRelativePath("/a/b", "/etc/x"), "/etc/x");
  EXPECT_EQ(ResolveRelativePath("", "keys/k.gpg"), "keys/k.gpg");
  EXPECT_EQ(ResolveRelativePath(".", "./keys/k.gpg"), "keys/k.gpg");
  EXPECT_EQ(ResolveRelativePath("examples/java17", "app.jar"), "examples/java17/app.jar");
}

TEST(ImageSpecTest, RequestedPackagesAddsBusyboxForDebug) {
  ImageSpec plain = MustParse("name: x\npackages: [aa]\n");
  EXPECT_EQ(RequestedPackages(plain).size(), 1u);
  ImageSpec debug = MustParse("name: x\npackages: [aa]\nvariant: debug\n");
  auto req = RequestedPackages(debug);
  ASSERT_EQ(req.size(), 2u);
  EXPECT_EQ(req[1].name, "busybox");
  ImageSpec named = MustParse("name: x\npackages: [aa, busybox]\nvariant: debug\n");
  EXPECT_EQ(RequestedPackages(named).size(), 2u);
}

// --- Resolution digest ---

std::string DigestOf(std::string_view yaml) { return ResolutionDigest(MustParse(yaml)); }

TEST(ResolutionDigestTest, MatchesTheDocumentedCanonicalJson) {
  ImageSpec spec = MustParse(
      "name: x\narchs: [arm64, amd64]\npackages: [zz, aa=1.0-1]\nexclude: [qq, pp, qq]\n"
      "repositories:\n  - {url: 'http://h/d', suites: [s1, s0], keyring: k.gpg}\n");
  const std::string canonical =
      R"({"archs":["amd64","arm64"],"digest_version":2,"exclude":["pp","qq"],)"
      R"("packages":["aa=1.0-1","zz"],"repositories":[{"architectures":[],"components":["main"],)"
      R"("keyring":"k.gpg","suites":["s1","s0"],"url":"http://h/d"}],"variant":"standard"})";
  // Independent hash: sha256sum over the canonical text.
  auto out = testing::RunProcess({"sha256sum"}, {}, canonical);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(ResolutionDigest(spec), "sha256:" + out.out.substr(0, 64));
}

TEST(ResolutionDigestTest, StableAcrossKeyOrderAndListOrder) {
  std::string a = DigestOf("name: x\narchs: [amd64]\npackages: [aa, bb]\nexclude: [cc]\n");
  EXPECT_EQ(a, DigestOf("exclude: [cc]\npackages: [bb, aa]\narchs: [amd64]\nname: x\n"));
  EXPECT_EQ(a, DigestOf("packages:\n  - bb\n  - aa\narchs: [amd64]\nexclude: [cc, cc]\nname: x\n"));
  EXPECT_THAT(a, ::testing::MatchesRegex("sha256:[0-9a-f]{64}"));
  // Pinned golden value: changing it invalidates every lock users have, so it must be deliberate.
  EXPECT_EQ(DigestOf("name: x\narchs: [amd64]\npackages: [base-files]\n"),
            "sha256:cf71c2daf3234155de9be22b2d5d4f868dfff1d08fcbc73006f3e7a8ff46450d");
}

TEST(ResolutionDigestTest, OnlyResolutionInputsChangeIt) {
  const std::string base = "name: x\narchs: [amd64]\npackages: [aa, bb]\n";
  std::string d = DigestOf(base);
  // Image-shaping keys do not change it.
  EXPECT_EQ(d, DigestOf(base + "cmd: [run]\n"));
  EXPECT_EQ(d, DigestOf(base + "entrypoint: [/bin/x]\nworkdir: /srv\n"));
  EXPECT_EQ(d, DigestOf(base + "labels: {a: b}\nannotations: {c: d}\nenv: {X: y}\n"));
  EXPECT_EQ(d,
            DigestOf(base + "files: [{src: a, dest: /a}]\npaths: {exclude: [/usr/share/doc]}\n"));
  EXPECT_EQ(d, DigestOf(base + "accounts: {run-as: root}\n"));
  EXPECT_EQ(d, DigestOf(base + "dirs: [{path: /srv/data, owner: nonroot}]\n"));
  EXPECT_EQ(d, DigestOf("name: other\narchs: [amd64]\npackages: [aa, bb]\n"));
  // Resolution inputs do.
  std::set<std::string> digests = {
      d,
      DigestOf("name: x\narchs: [amd64]\npackages: [aa, bb, cc]\n"),
      DigestOf("name: x\narchs: [amd64]\npackages: [aa, bb=1.0]\n"),
      DigestOf("name: x\narchs: [arm64]\npackages: [aa, bb]\n"),
      DigestOf("name: x\narchs: [amd64, arm64]\npackages: [aa, bb]\n"),
      DigestOf(base + "exclude: [cc]\n"),
      DigestOf(base + "variant: debug\n"),
      DigestOf(base + "repositories: [{url: 'http://h/d', suites: [s]}]\n"),
      DigestOf(base +
               "repositories: [{url: 'http://h/d', suites: [s], components: [main, non-free]}]\n"),
      DigestOf(base + "repositories: [{url: 'http://h/d', suites: [s], keyring: k.gpg}]\n"),
  };
  EXPECT_EQ(digests.size(), 10u);
}

// --- Names ---

TEST(NamesTest, HostArchitectureMatchesDpkg) {
  auto dpkg = testing::RunProcess({"dpkg", "--print-architecture"});
  ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
  auto host = HostArchitecture();
  ASSERT_TRUE(host.has_value()) << host.error().message;
  EXPECT_EQ(*host + "\n", dpkg.out);
}

TEST(NamesTest, MachineNames) {
  EXPECT_EQ(DebianArchitectureForMachine("x86_64"), "amd64");
  EXPECT_EQ(DebianArchitectureForMachine("aarch64"), "arm64");
  EXPECT_EQ(DebianArchitectureForMachine("armv7l"), "armhf");
  EXPECT_EQ(DebianArchitectureForMachine("armv6l"), "armel");
  EXPECT_EQ(DebianArchitectureForMachine("i686"), "i386");
  EXPECT_EQ(DebianArchitectureForMachine("ppc64le"), "ppc64el");
  EXPECT_EQ(DebianArchitectureForMachine("s390x"), "s390x");
  EXPECT_EQ(DebianArchitectureForMachine("riscv64"), "riscv64");
  EXPECT_EQ(DebianArchitectureForMachine("loongarch64"), "loong64");
  EXPECT_EQ(DebianArchitectureForMachine("z80"), std::nullopt);
  for (std::string_view m : {"x86_64", "aarch64", "armv7l", "ppc64le", "mips64", "parisc"}) {
    EXPECT_TRUE(IsKnownArchitecture(*DebianArchitectureForMachine(m))) << m;
  }
}

TEST(NamesTest, KnownArchitecturesAreDpkgs) {
  auto known = KnownArchitectures();
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
  auto dpkg = testing::RunProcess({"dpkg-architecture", "-L"});
  ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
  std::set<std::string> linux_archs;
  std::istringstream lines(dpkg.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.find('-') == std::string::npos) linux_archs.insert(line);
  }
  std::set<std::string> ours(known.begin(), known.end());
  EXPECT_EQ(ours, linux_archs);
  EXPECT_FALSE(IsKnownArchitecture("all"));
  EXPECT_FALSE(IsKnownArchitecture(""));
}

// Random strings over the characters that matter, judged by dpkg itself.
std::vector<std::string> RandomStrings(std::string_view alphabet, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    size_t len = 1 + rng() % 8;
    std::string s;
    for (size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    out.push_back(s);
  }
  return out;
}

TEST(NamesTest, VersionSyntaxAgreesWithDpkg) {
  std::vector<std::string> cases = {"1.0",          "1.0-1",
                                    "a1.0",         "1:2.0-1",
                                    ":1.0",         "1.0-",
                                    "1 0",          "1_0",
                                    "1.0-1-2",      "1:2:3",
                                    "1.0-a~b",      "0",
                                    "1:",           "x:1",
                                    "1.0-1:2",      "3.0.15-1~deb12u1",
                                    "2:1.02.185-2", "1.0+dfsg~rc1-0.1"};
  auto random = RandomStrings("0123456789a:-.~+_", 250, 42);
  cases.insert(cases.end(), random.begin(), random.end());
  for (const std::string& v : cases) {
    auto dpkg = testing::RunProcess({"dpkg", "--validate-version", "--", v});
    EXPECT_EQ(IsValidVersion(v), dpkg.exit_code == 0) << "'" << v << "': dpkg says " << dpkg.err;
  }
}

TEST(NamesTest, PackageNamesFollowPolicyAndDpkgAcceptsThem) {
  EXPECT_TRUE(IsValidPackageName("libstdc++6"));
  EXPECT_TRUE(IsValidPackageName("openjdk-17-jre-headless"));
  EXPECT_TRUE(IsValidPackageName("0ad"));
  EXPECT_FALSE(IsValidPackageName("a"));
  EXPECT_FALSE(IsValidPackageName("Abc"));  // dpkg allows capitals; policy does not
  EXPECT_FALSE(IsValidPackageName("a_b"));  // likewise '_'
  EXPECT_FALSE(IsValidPackageName("-ab"));
  EXPECT_FALSE(IsValidPackageName("+ab"));
  EXPECT_FALSE(IsValidPackageName("ab:any"));
  // Policy names are a subset of what dpkg accepts.
  for (const std::string& n : RandomStrings("ab0+-._:A", 250, 7)) {
    if (!IsValidPackageName(n)) continue;
    auto dpkg = testing::RunProcess({"dpkg", "--validate-pkgname", "--", n});
    EXPECT_EQ(dpkg.exit_code, 0) << "'" << n << "': " << dpkg.err;
  }
}

TEST(NamesTest, ClosestMatch) {
  constexpr std::string_view keys[] = {"name", "packages", "exclude", "entrypoint", "run-as"};
  EXPECT_EQ(ClosestMatch("pakages", keys), "packages");
  EXPECT_EQ(ClosestMatch("entrypiont", keys), "entrypoint");
  EXPECT_EQ(ClosestMatch("run_as", keys), "run-as");
  EXPECT_EQ(ClosestMatch("Name", keys), "name");
  EXPECT_EQ(ClosestMatch("xyz", keys), "");
  EXPECT_EQ(ClosestMatch("completely-different", keys), "");
}

// --- Examples ---

TEST(ExamplesTest, EveryExampleParses) {
  namespace fs = std::filesystem;
  const fs::path examples = fs::path(HARDBASE_SOURCE_DIR) / "examples";
  std::map<std::string, ImageSpec> specs;
  for (const auto& entry : fs::directory_iterator(examples)) {
    fs::path file = entry.path() / "image.yaml";
    if (!fs::exists(file)) continue;
    auto spec = LoadImageSpec(file.string());
    ASSERT_TRUE(spec.has_value()) << spec.error().message;
    EXPECT_TRUE(spec->repositories.empty()) << file << ": examples use the host's apt sources";
    EXPECT_EQ(spec->name, entry.path().filename().string());
    specs.emplace(spec->name, *spec);
  }
  for (const char* name : {"static", "cc", "java17", "python3", "nodejs"}) {
    ASSERT_EQ(specs.count(name), 1u) << "examples/" << name << "/image.yaml is missing";
  }
  auto names = [](const ImageSpec& s) {
    std::set<std::string> out;
    for (const auto& p : s.packages) out.insert(p.name);
    return out;
  };
  const std::set<std::string> static_set = {"base-files", "ca-certificates", "tzdata", "netbase"};
  std::set<std::string> cc_set = static_set;
  cc_set.insert({"libc6", "libgcc-s1", "libstdc++6", "libssl3"});
  auto plus = [](std::set<std::string> s, std::string extra) {
    s.insert(std::move(extra));
    return s;
  };
  EXPECT_EQ(names(specs.at("static")), static_set);
  EXPECT_EQ(names(specs.at("cc")), cc_set);
  EXPECT_EQ(names(specs.at("java17")), plus(cc_set, "openjdk-17-jre-headless"));
  EXPECT_EQ(names(specs.at("python3")), plus(cc_set, "python3"));
  EXPECT_EQ(names(specs.at("nodejs")), plus(cc_set, "nodejs"));
  EXPECT_THAT(specs.at("java17").entrypoint, ElementsAre("/usr/bin/java"));
  EXPECT_THAT(specs.at("python3").entrypoint, ElementsAre("/usr/bin/python3"));
  EXPECT_THAT(specs.at("nodejs").entrypoint, ElementsAre("/usr/bin/node"));
  for (const auto& [name, spec] : specs) {
    EXPECT_EQ(spec.accounts.run_as, "nonroot") << name;
  }
}

}  // namespace
}  // namespace hardbase::spec
