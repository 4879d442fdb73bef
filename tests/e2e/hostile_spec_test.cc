// End-to-end tests of what a hostile spec, lock, or the files a spec names can make `hardbase lock`
// and `hardbase build` do. Each test builds its hostile input itself (a spec, a lock edit, a
// symlink, a FIFO, a deep tree, a repository whose index points outside it) next to a real signed
// file:// repository (tests/support/repo_fixture.h), runs the real binary, and checks the exit
// code, the one-line error, that nothing in the work directory changed (the previous image in
// particular) and that no byte from outside the spec's directory reached an image.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/repo_fixture.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kSecret = "TOP-SECRET-6f1c2a";
// Address-space cap for the resource tests (prlimit takes bytes): 1 GiB.
const std::string kMemoryCap = "1073741824";

class HostileSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-spec-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Proj()).has_value());
    ASSERT_TRUE(MakeDirs(Outside()).has_value());
    ASSERT_TRUE(WriteFileAtomic(Outside() + "/secret", std::string(kSecret) + "\n").has_value());
    repo_.emplace(Work() + "/repo");
    auto hello = repo_->AddPackage(
        "stable", "amd64",
        {.name = "hello", .version = "1.0", .files = {{"usr/share/hello", "hi\n"}}});
    ASSERT_TRUE(hello.has_value()) << hello.error().message;
    auto published = repo_->Publish("stable");
    ASSERT_TRUE(published.has_value()) << published.error().message;

    // The previous output every refused build must leave as it was.
    WriteSpec("files:\n  - src: data.txt\n    dest: /data.txt\n");
    ASSERT_TRUE(WriteFileAtomic(Proj() + "/data.txt", "data\n").has_value());
    auto lock = Hardbase({"lock", Spec()});
    ASSERT_EQ(lock.exit_code, 0) << lock.err;
    auto build = Build();
    ASSERT_EQ(build.exit_code, 0) << build.err;
  }

  std::string Work() const { return work_->path(); }
  std::string Proj() const { return Work() + "/proj"; }
  std::string Outside() const { return Work() + "/outside"; }
  std::string Spec() const { return Proj() + "/image.yaml"; }
  std::string Lock() const { return Proj() + "/image.lock.json"; }
  std::string Out() const { return Work() + "/out"; }

  // The spec: these 7 lines, then `body` from line 8 on.
  void WriteSpec(const std::string& body, const std::string& suite = "stable",
                 const std::string& package = "hello") {
    std::string text = "name: hostile\nrepositories:\n  - url: file://" + Work() +
                       "/repo\n    suites: [" + suite +
                       "]\n    keyring: " + RepoFixture::KeyringPath() +
                       "\narchs: [amd64]\npackages: [" + package + "]\n" + body;
    ASSERT_TRUE(WriteFileAtomic(Spec(), text).has_value());
  }

  // hardbase with this test's cache, under a time limit (so a hang fails instead of blocking)
  // and, when `memory_cap` is set, an address-space cap.
  ProcessResult Hardbase(std::vector<std::string> args, const std::string& memory_cap = "") {
    std::vector<std::string> argv = {HardbaseBinary(), "--quiet", "--cache-dir", Work() + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> limits;
    if (!memory_cap.empty()) limits.push_back("--as=" + memory_cap);
    return RunProcess(WithinLimits(argv, 60, limits));
  }
  ProcessResult Build(std::vector<std::string> extra = {}, const std::string& memory_cap = "") {
    std::vector<std::string> args = {"build", Spec(), "--locked", "-o", Out(), "--tag", "test"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Hardbase(args, memory_cap);
  }

  // Every entry below the work directory but the cache: type, mode, content hash, link target.
  std::map<std::string, std::string> Snapshot() const { return TreeSnapshot(Work(), {"cache"}); }

  // Runs hardbase with `args` and expects it to refuse: `exit_code`, one line on stderr that
  // contains `message`, nothing on stdout, and no file in the work directory written, removed or
  // touched (the previous image included).
  void ExpectRefused(const std::vector<std::string>& args, int exit_code,
                     const std::string& message, const std::string& memory_cap = "") {
    auto before = Snapshot();
    auto index_before = ReadFile(Out() + "/index.json");
    ASSERT_TRUE(index_before.has_value());
    auto r = Hardbase(args, memory_cap);
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_THAT(r.err, StartsWith("hardbase: error: "));
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(Snapshot(), before) << "a refused run changed the work directory";
    EXPECT_EQ(ReadFile(Out() + "/index.json").value_or(""), *index_before);
  }
  void ExpectBuildRefused(int exit_code, const std::string& message,
                          std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"build", Spec(), "--locked", "-o", Out(), "--tag", "test"};
    args.insert(args.end(), extra.begin(), extra.end());
    ExpectRefused(args, exit_code, message);
  }

  // The image's own (top) layer: `tar -tvz` listing and the concatenated contents of its files.
  std::pair<std::string, std::string> TopLayer() {
    using nlohmann::json;
    auto blob = [&](const std::string& digest) {
      return Out() + "/blobs/sha256/" + digest.substr(std::string("sha256:").size());
    };
    json index = json::parse(ReadFile(Out() + "/index.json").value_or("{}"));
    json manifest = json::parse(ReadFile(blob(index["manifests"][0]["digest"])).value_or("{}"));
    std::string layer = blob(manifest["layers"].back()["digest"]);
    auto list = RunProcess({"tar", "-tvzf", layer});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    auto content = RunProcess({"tar", "-xzOf", layer});
    EXPECT_EQ(content.exit_code, 0) << content.err;
    return {list.out, content.out};
  }

  std::optional<TempDir> work_;
  std::optional<RepoFixture> repo_;
};

TEST_F(HostileSpecTest, FilesSourceOutsideTheSpecDirectoryIsRefused) {
  for (const std::string& src :
       std::vector<std::string>{"../outside/secret", Outside() + "/secret",
                                "sub/../../outside/secret", "./../outside"}) {
    SCOPED_TRACE(src);
    WriteSpec("files:\n  - src: " + src + "\n    dest: /etc/stolen\n");
    ExpectBuildRefused(kExitSpec, "image.yaml:9:5: files: source " +
                                      (fs::path(Proj()) / src).lexically_normal().string() +
                                      " is outside the spec's directory " + Proj() +
                                      "; pass --allow-outside-files to allow that");
  }
  // The user's explicit choice still works, and so copies the file.
  WriteSpec("files:\n  - src: ../outside/secret\n    dest: /etc/copied\n");
  auto r = Build({"--allow-outside-files"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(TopLayer().second, HasSubstr(std::string(kSecret)));
}

TEST_F(HostileSpecTest, SymlinksNeverLeadOutOfTheSpecDirectory) {
  fs::create_directory_symlink("../outside", Proj() + "/escape");
  fs::create_directories(Proj() + "/tree/sub");
  ASSERT_TRUE(WriteFileAtomic(Proj() + "/tree/sub/ok", "ok\n").has_value());
  fs::create_symlink(Outside() + "/secret", Proj() + "/tree/sub/abs-link");
  fs::create_symlink("../../../outside/secret", Proj() + "/tree/rel-link");
  fs::create_directory_symlink(Outside(), Proj() + "/tree/dir-link");
  fs::create_symlink(Outside() + "/secret", Proj() + "/top-link");
  fs::create_directory_symlink("tree", Proj() + "/inner");

  // A symlink on the way to the source that leads out is refused, at any depth.
  for (std::string src : {"escape/secret", "tree/dir-link/secret"}) {
    SCOPED_TRACE(src);
    WriteSpec("files:\n  - src: " + src + "\n    dest: /etc/stolen\n");
    ExpectBuildRefused(kExitSpec, "image.yaml:9:5: files: source " + Proj() + "/" + src +
                                      " leads outside the spec's directory through a symbolic "
                                      "link; pass --allow-outside-files to allow that");
  }

  // A loop of links, or a /proc magic link even where the user allows outside files.
  fs::create_symlink("loop-b", Proj() + "/loop-a");
  fs::create_symlink("loop-a", Proj() + "/loop-b");
  WriteSpec("files:\n  - src: loop-a/x\n    dest: /etc/x\n");
  ExpectBuildRefused(kExitSpec, "image.yaml:9:5: files: source " + Proj() +
                                    "/loop-a/x: too many symbolic links or a /proc magic link on "
                                    "the way");
  WriteSpec("files:\n  - src: /proc/self/root" + Outside() + "/secret\n    dest: /etc/x\n");
  ExpectBuildRefused(kExitSpec,
                     "image.yaml:9:5: files: source /proc/self/root" + Outside() +
                         "/secret: too many symbolic links or a /proc magic link on the way",
                     {"--allow-outside-files"});

  // A symlink as the source or inside a copied directory is copied as a symlink, never read; one
  // on the way that stays inside the spec's directory is followed.
  WriteSpec(
      "files:\n  - src: tree\n    dest: /srv/tree\n  - src: top-link\n    dest: /srv/top\n"
      "  - src: escape\n    dest: /srv/escape\n  - src: inner/sub/ok\n    dest: /srv/ok\n");
  auto r = Build();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [listing, content] = TopLayer();
  EXPECT_THAT(content, Not(HasSubstr(std::string(kSecret))));
  EXPECT_THAT(content, HasSubstr("ok\n"));
  EXPECT_THAT(listing, HasSubstr("srv/tree/sub/abs-link -> " + Outside() + "/secret"));
  EXPECT_THAT(listing, HasSubstr("srv/tree/rel-link -> ../../../outside/secret"));
  EXPECT_THAT(listing, HasSubstr("srv/tree/dir-link -> " + Outside()));
  EXPECT_THAT(listing, HasSubstr("srv/top -> " + Outside() + "/secret"));
  EXPECT_THAT(listing, HasSubstr("srv/escape -> ../outside"));
  EXPECT_THAT(listing, Not(HasSubstr("srv/tree/dir-link/")));
  EXPECT_THAT(listing, HasSubstr("srv/ok\n"));
}

TEST_F(HostileSpecTest, FifosAndDevicesAmongTheFilesAreRefusedAtOnce) {
  ASSERT_EQ(::mkfifo((Proj() + "/fifo").c_str(), 0644), 0);
  fs::create_directories(Proj() + "/tree");
  ASSERT_TRUE(WriteFileAtomic(Proj() + "/tree/a", "a\n").has_value());
  ASSERT_EQ(::mkfifo((Proj() + "/tree/b-fifo").c_str(), 0644), 0);

  WriteSpec("files:\n  - src: fifo\n    dest: /etc/fifo\n");
  ExpectBuildRefused(kExitSpec, "image.yaml:9:5: files: " + Proj() +
                                    "/fifo is not a file, directory or symbolic link (a FIFO)");
  WriteSpec("files:\n  - src: tree\n    dest: /srv/tree\n");
  ExpectBuildRefused(kExitSpec, "image.yaml:9:5: files: " + Proj() +
                                    "/tree/b-fifo is not a file, directory or symbolic link (a "
                                    "FIFO)");
  // The same with the user's leave to read anywhere: /dev/zero would fill memory.
  WriteSpec("files:\n  - src: /dev/zero\n    dest: /etc/zero\n");
  ExpectBuildRefused(kExitSpec,
                     "image.yaml:9:5: files: /dev/zero is not a file, directory or symbolic "
                     "link (a character device)",
                     {"--allow-outside-files"});
}

TEST_F(HostileSpecTest, AccountFieldsCannotAddPasswdLines) {
  struct Case {
    std::string users;  // the accounts.users list, from line 10
    std::string message;
  };
  const std::vector<Case> cases = {
      {"    - {name: app, uid: 1000, home: \"/home/app\\nevil::0:0::/:/bin/sh\"}\n",
       "image.yaml:10:36: accounts.users[0].home: path '/home/app\\nevil::0:0::/:/bin/sh' contains "
       "the control character \\n"},
      {"    - {name: app, uid: 1000, home: \"/home/app:0:0\"}\n",
       "image.yaml:10:36: accounts.users[0].home: path '/home/app:0:0' must not contain ':', "
       "which separates /etc/passwd fields"},
      {"    - {name: app, uid: 1000, shell: \"/bin/sh\\r\"}\n",
       "image.yaml:10:37: accounts.users[0].shell: path '/bin/sh\\x0d' contains the control "
       "character \\x0d"},
      {"    - {name: \"app\\nevil\", uid: 1000}\n",
       "image.yaml:10:14: accounts.users[0].name: invalid user name 'app\\nevil'"},
      {"    - {name: \"evil:x:0:0:\", uid: 1000}\n",
       "image.yaml:10:14: accounts.users[0].name: invalid user name 'evil:x:0:0:'"},
      {"    - {name: app, uid: 1000, home: /home//app/}\n",
       "image.yaml:10:36: accounts.users[0].home: path '/home//app/' is not in normal form: "
       "write '/home/app'"},
      {"    - {name: app, uid: 1000, home: /home/./app}\n",
       "image.yaml:10:36: accounts.users[0].home: path '/home/./app' is not in normal form: "
       "write '/home/app'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.users);
    WriteSpec("accounts:\n  users:\n" + c.users);
    ExpectBuildRefused(kExitSpec, c.message);
    ExpectRefused({"lock", Spec()}, kExitSpec, c.message);
  }
  // The groups a user gets are checked as well.
  WriteSpec("accounts:\n  groups:\n    - {name: \"g\\nroot::0:\", gid: 1000}\n");
  ExpectBuildRefused(kExitSpec,
                     "image.yaml:10:14: accounts.groups[0].name: invalid group name "
                     "'g\\nroot::0:'");
}

TEST_F(HostileSpecTest, OverlongPathsAreRefusedWithTheSpecLocation) {
  const std::string long_name(256, 'n');
  std::string long_path = "/srv";  // 21 components of 199 bytes: each fits, the whole does not
  for (int i = 0; i < 21; ++i) long_path += "/" + std::string(199, 'd');
  struct Case {
    std::string body;
    std::string message;
  };
  const std::string component_message =
      "path component '" + std::string(60, 'n') + "...' is 256 bytes long (at most 255)";
  const std::vector<Case> cases = {
      {"files:\n  - src: data.txt\n    dest: /srv/" + long_name + "\n",
       "image.yaml:10:11: files[0].dest: " + component_message},
      {"files:\n  - src: " + long_name + "\n    dest: /srv/x\n",
       "image.yaml:9:10: files[0].src: " + component_message},
      {"workdir: /srv/" + long_name + "\n", "image.yaml:8:10: workdir: " + component_message},
      {"paths:\n  include: [/usr/" + long_name + "/**]\n",
       "image.yaml:9:13: paths.include[0]: " + component_message},
      {"accounts:\n  users:\n    - {name: app, uid: 1000, home: /home/" + long_name + "}\n",
       "image.yaml:10:36: accounts.users[0].home: " + component_message},
      {"workdir: " + long_path + "\n", "image.yaml:8:10: workdir: path is " +
                                           std::to_string(long_path.size()) +
                                           " bytes long (at most 4096)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    WriteSpec(c.body);
    ExpectBuildRefused(kExitSpec, c.message);
    ExpectRefused({"lock", Spec()}, kExitSpec, c.message);
  }
}

TEST_F(HostileSpecTest, DeepSourceTreeIsRefusedUnderMemoryAndTimeLimits) {
  if (UnderAddressSanitizer()) GTEST_SKIP() << "the memory cap is what this test is about";
  // 40 levels of 120-byte names: each fits, their path does not (about 4.8 kB below /srv/deep).
  int fd = ::open(Proj().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string level(120, 'd');
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(::mkdirat(fd, (i == 0 ? std::string("deep") : level).c_str(), 0755), 0);
    int next = ::openat(fd, (i == 0 ? std::string("deep") : level).c_str(),
                        O_PATH | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    ASSERT_GE(next, 0);
    fd = next;
  }
  ::close(fd);
  WriteSpec("files:\n  - src: deep\n    dest: /srv/deep\n");
  auto before = Snapshot();
  auto r = Build({}, kMemoryCap);
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  EXPECT_THAT(r.err, HasSubstr("image.yaml:9:5: files: " + Proj() + "/deep/"));
  EXPECT_THAT(r.err, HasSubstr(": image path is "));
  EXPECT_THAT(r.err, HasSubstr(" bytes long (at most 4096)"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(HostileSpecTest, OversizedOrSpecialSpecAndLockFilesAreRefusedUnderLimits) {
  if (UnderAddressSanitizer()) GTEST_SKIP() << "the memory cap is what this test is about";
  const std::string cap = kMemoryCap;
  // A 2 GiB spec (sparse, so the test writes nothing) is refused before it is read.
  const std::string huge = Proj() + "/huge.yaml";
  {
    int fd = ::open(huge.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{2} << 30), 0);
    ::close(fd);
  }
  ExpectRefused({"build", huge, "--lock", Lock(), "-o", Out()}, kExitSpec,
                "load spec: " + huge + ": more than 4194304 bytes", cap);
  ExpectRefused({"build", Spec(), "--lock", huge, "--locked", "-o", Out()}, kExitSpec,
                "load lock: " + huge + ": more than 67108864 bytes", cap);
  // A FIFO or a device as the spec or the lock fails at once instead of blocking or filling memory.
  const std::string fifo = Proj() + "/fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  ExpectRefused({"build", fifo, "-o", Out()}, kExitIo,
                "load spec: open " + fifo + ": not a regular file", cap);
  ExpectRefused({"build", Spec(), "--lock", "/dev/zero", "--locked", "-o", Out()}, kExitIo,
                "load lock: open /dev/zero: not a regular file", cap);
  // Aliases nested ten deep would stand for 10^9 strings if they were expanded.
  std::string laughs = "env:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) laughs += (k ? ", *l" : "*l") + std::to_string(i - 1);
    laughs += "]\n";
  }
  WriteSpec(laughs + "entrypoint: *l9\n");
  // Every mistake is reported, none expanded: env's ten values are lists, not strings, and so are
  // entrypoint's ten items, each the list anchored as l8 on line 17.
  auto before = Snapshot();
  auto r = Hardbase({"build", Spec(), "--locked", "-o", Out()}, cap);
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  EXPECT_THAT(r.err,
              StartsWith("hardbase: error: build " + Spec() + ": " + Spec() + ": 20 errors\n"));
  EXPECT_THAT(r.err,
              HasSubstr("\n  " + Spec() + ":17:7: entrypoint[0]: expected a list of strings\n"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 21) << r.err;
  EXPECT_EQ(Snapshot(), before) << "a refused run changed the work directory";
}

// The line of `text` where `needle` first occurs.
int LineOf(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

TEST_F(HostileSpecTest, LockFilenameCannotLeaveTheRepository) {
  // A real .deb outside the repository, which the edited lock points at with its true hash.
  RepoFixture other(Outside() + "/repo");
  auto evil = other.AddPackage(
      "stable", "amd64",
      {.name = "hello", .version = "1.0", .files = {{"usr/share/hello", std::string(kSecret)}}});
  ASSERT_TRUE(evil.has_value()) << evil.error().message;
  const std::string original = *ReadFile(Lock());
  struct Case {
    std::string filename;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"%2e%2e/outside/repo/" + evil->filename, "contains the percent-escape '%2e'"},
      {"pool/%2E%2E/%2e%2E/%2e%2e/outside/repo/" + evil->filename,
       "contains the percent-escape '%2E'"},
      {"pool/../../outside/repo/" + evil->filename, "has a '..' component"},
      {Outside() + "/repo/" + evil->filename, "is absolute"},
      {"pool\\..\\..\\outside\\repo\\" + evil->filename, "contains '\\'"},
      {"pool//main/" + evil->filename, "has an empty component"},
      {"pool/./" + evil->filename, "has a '.' component"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filename);
    auto lock = nlohmann::json::parse(original);
    auto& p = lock["archs"][0]["packages"][0];
    p["filename"] = c.filename;
    p["sha256"] = evil->sha256;
    p["size"] = evil->size;
    std::string text = lock.dump(2) + "\n";
    ASSERT_TRUE(WriteFileAtomic(Lock(), text).has_value());
    int line = LineOf(text, "\"filename\"");
    ExpectBuildRefused(kExitSpec, "image.lock.json:" + std::to_string(line) +
                                      ": /archs/0/packages/0/filename: repository path '");
    ExpectRefused({"fetch", Spec()}, kExitSpec, c.why);
  }
}

TEST_F(HostileSpecTest, PackagesFilenameLeavingTheRepositoryIsRefusedAtLock) {
  RepoFixture other(Outside() + "/repo");
  auto evil = other.AddPackage(
      "stable", "amd64",
      {.name = "evil", .version = "1.0", .files = {{"usr/share/evil", std::string(kSecret)}}});
  ASSERT_TRUE(evil.has_value()) << evil.error().message;
  // A signed index whose stanza sends `evil` two levels up, out of the repository.
  for (std::string filename :
       {"%2e%2e/outside/repo/" + evil->filename, "pool/../../outside/repo/" + evil->filename}) {
    SCOPED_TRACE(filename);
    std::string stanza = evil->stanza;
    size_t at = stanza.find("Filename: ");
    ASSERT_NE(at, std::string::npos);
    stanza.replace(at, stanza.find('\n', at) - at, "Filename: " + filename);
    PublishOptions options;
    options.extra_packages_text = stanza + "\n";
    auto published = repo_->Publish("hostile", options);
    ASSERT_TRUE(published.has_value()) << published.error().message;
    WriteSpec("", "hostile", "evil");
    ExpectRefused({"lock", Spec()}, kExitSpec,
                  filename.starts_with("%")
                      ? "binary-amd64/Packages: package evil 1.0: Filename: repository path "
                        "'%2e%2e/outside/repo/"
                      : "package 'evil': Filename '" + filename +
                            "' is not a relative path inside the repository");
  }
}

// A spec with several mistakes gets them all in one run: a summary line, then one indented line
// per mistake in source order, and the spec exit code; the lock is left as it was. run-as names
// the user whose entry is wrong, which is that entry's mistake and not one of its own.
TEST_F(HostileSpecTest, EveryMistakeInASpecIsReportedAtOnce) {
  WriteSpec(
      "workdir: srv\n"
      "entrypiont: [/app]\n"
      "accounts:\n"
      "  users:\n"
      "    - {name: Bad, uid: 1000}\n"
      "  run-as: Bad\n");
  auto before = Snapshot();
  auto r = Hardbase({"lock", Spec()});
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  EXPECT_EQ(r.err, "hardbase: error: " + Spec() + ": 3 errors\n  " + Spec() +
                       ":8:10: workdir: expected an absolute path, got 'srv'\n  " + Spec() +
                       ":9:1: unknown key 'entrypiont' (did you mean 'entrypoint'?)\n  " + Spec() +
                       ":12:14: accounts.users[0].name: invalid user name 'Bad'\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Snapshot(), before) << "a refused lock changed the work directory";
}

}  // namespace
}  // namespace hardbase::testing
