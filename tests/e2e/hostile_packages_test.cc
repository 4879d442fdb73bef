// End-to-end tests of what `hardbase build` reads from packages, against .debs built here to be
// hostile and published in a signed repository (tests/support/repo_fixture.h) served on
// 127.0.0.1: OCI whiteout names that would delete other packages' files and status.d records,
// names longer than Linux allows, xz streams with a lying index or a 4 GiB dictionary, a zstd
// bomb, and control files or hand-edited locks that name another package than the one shipped.
// The .debs are made by dpkg-deb or, where dpkg-deb cannot, by python3 (tarfile, lzma and
// hand-written zstd frames), never by hardbase. Each refusal is checked for its exit code, its
// one-line message, that nothing was written outside the output and that the previous output is
// intact; the bombs run under a memory cap and a time limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/repo_fixture.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Writes a .deb: python3 craft.py OUT KIND NAME VERSION ARCH.
constexpr std::string_view kCraft = R"PY(
import lzma, sys, tarfile
from hostile_archives import ar, tar, xz_dict, xz_lying_index, zstd_zero_files
out, kind, name, version, arch = sys.argv[1:6]

def entry(path, data=b'', type=tarfile.REGTYPE):
    ti = tarfile.TarInfo(path)
    ti.type, ti.mode, ti.mtime = type, 0o755 if type == tarfile.DIRTYPE else 0o644, 1000000000
    ti.size = len(data)
    return (ti, data)

control = ('Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <t@example.org>\n'
           'Description: hostile test package\n' % (name, version, arch)).encode()
control_tar = tar([entry('./control', control)])
usr = [entry('./usr/', type=tarfile.DIRTYPE), entry('./usr/share/', type=tarfile.DIRTYPE)]
if kind == 'long-name':
    data = ('data.tar.xz', lzma.compress(tar(usr + [entry('./usr/share/' + 'n' * 256, b'x')])))
elif kind == 'long-path':
    deep = './usr/share/' + '/'.join(['d' * 250] * 17)
    data = ('data.tar.xz', lzma.compress(tar(usr + [entry(deep, b'x')])))
elif kind == 'xz-lying-index':
    data = ('data.tar.xz', xz_lying_index(tar(usr + [entry('./usr/share/x', b'x')]), 3 << 30))
elif kind == 'xz-huge-dictionary':
    data = ('data.tar.xz', xz_dict(tar(usr + [entry('./usr/share/x', b'x')]), 40))
elif kind == 'zstd-bomb':
    data = ('data.tar.zst', zstd_zero_files([240 << 20] * 12, './usr/share/zero'))
else:
    sys.exit('unknown kind ' + kind)
open(out, 'wb').write(ar([('debian-binary', b'2.0\n'), ('control.tar', control_tar), data]))
)PY";

class HostilePackagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-packages-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Tmp()).has_value());
    ASSERT_TRUE(WriteFileAtomic(Work() + "/craft.py", kCraft).has_value());
    repo_.emplace(Work() + "/repo");
    server_.emplace(Work() + "/repo");
    ASSERT_TRUE(server_->Start().has_value());
    Add({"good", "1.0", "amd64", {}, {{"usr/share/good/data", "good\n"}}});
  }

  std::string Work() const { return work_->path(); }
  // hardbase's TMPDIR: checked to be empty after every run.
  std::string Tmp() const { return Work() + "/tmp"; }
  std::string Out() const { return Work() + "/out"; }

  PublishedPackage Add(PackageSpec spec) {
    auto p = repo_->AddPackage("stable", "amd64", spec);
    EXPECT_TRUE(p.has_value()) << p.error().message;
    return p.value_or(PublishedPackage{});
  }
  // The bytes of a .deb made by craft.py.
  std::string Crafted(const std::string& kind, const std::string& name,
                      const std::string& version = "1.0") {
    std::string path = Work() + "/" + kind + ".deb";
    auto r = RunProcess({"python3", Work() + "/craft.py", path, kind, name, version, "amd64"},
                        {{"PYTHONPATH", std::string(HARDBASE_SOURCE_DIR) + "/tests/support"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFile(path).value_or("");
  }
  void Publish() { ASSERT_TRUE(repo_->Publish("stable").has_value()); }

  // A spec of `packages` from the test repository, and its lock; returns the lock's path.
  std::string Locked(const std::string& id, const std::string& packages) {
    std::string spec = Work() + "/" + id + ".yaml";
    EXPECT_TRUE(WriteFileAtomic(
                    spec, "name: " + id + "\nrepositories:\n  - url: " + server_->base_url() +
                              "\n    suites: [stable]\n    keyring: " + RepoFixture::KeyringPath() +
                              "\narchs: [amd64]\npackages: [" + packages + "]\n")
                    .has_value());
    std::string lock = Work() + "/" + id + ".lock.json";
    auto r = Hardbase({"lock", spec, "-o", lock});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return lock;
  }
  std::string SpecOf(const std::string& lock) const {
    return lock.substr(0, lock.size() - std::string(".lock.json").size()) + ".yaml";
  }

  // hardbase under a time limit, with its own TMPDIR and cache, optionally under `prlimit`
  // bounds ("--as=...").
  ProcessResult Hardbase(std::vector<std::string> args, std::vector<std::string> limits = {}) {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir", Work() + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(WithinLimits(argv, 60, std::move(limits)), {{"TMPDIR", Tmp()}});
  }
  ProcessResult Build(const std::string& lock, std::vector<std::string> limits = {}) {
    return Hardbase({"--quiet", "build", SpecOf(lock), "--lock", lock, "-o", Out()},
                    std::move(limits));
  }

  // The previous output: an image of the good package alone.
  void BuildPrevious() {
    auto r = Build(Locked("previous", "good"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    previous_ = TreeSnapshot(Out());
    ASSERT_FALSE(previous_.empty());
  }

  // Builds with `lock` and expects a refusal: the integrity exit code, one line on stderr holding
  // `message`, the previous output as it was, nothing new in TMPDIR or beside the output (the
  // cache aside).
  void ExpectRefused(const std::string& lock, const std::string& message,
                     std::vector<std::string> limits = {}) {
    auto before = TreeSnapshot(Work());
    auto r = Build(lock, std::move(limits));
    EXPECT_EQ(r.exit_code, kExitIntegrity) << r.err;
    EXPECT_THAT(r.err, MatchesRegex("hardbase: error: [^\n]*\n")) << "one line";
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(TreeSnapshot(Out()), previous_) << "the previous output changed";
    EXPECT_TRUE(TreeSnapshot(Tmp()).empty()) << "hardbase left files in TMPDIR";
    for (const auto& [path, what] : TreeSnapshot(Work())) {
      if (!path.starts_with("cache") && !before.contains(path)) {
        ADD_FAILURE() << "written outside the output: " << path;
      }
    }
  }

  std::optional<TempDir> work_;
  std::optional<RepoFixture> repo_;
  std::optional<HttpServer> server_;
  std::map<std::string, std::string> previous_;
};

// An entry called .wh.<name> in a layer deletes <name> from the layers below it (and
// .wh..wh..opq empties its directory): a package shipping one removed other packages' files and
// their status.d records, so that a scan saw nothing vulnerable.
TEST_F(HostilePackagesTest, WhiteoutNamesAreRefused) {
  const std::map<std::string, std::string> files = {
      {"wh-file", "usr/share/.wh.foo"},
      {"wh-status", "var/lib/dpkg/status.d/.wh.libc6"},
      {"wh-opaque", "usr/share/.wh..wh..opq"},
  };
  for (const auto& [name, path] : files) Add({name, "1.0", "amd64", {}, {{path, ""}}});
  Publish();
  BuildPrevious();
  for (const auto& [name, path] : files) {
    SCOPED_TRACE(name);
    ExpectRefused(Locked(name, "good, " + name),
                  name + "_1.0_amd64.deb: data.tar.xz entry ./" + path +
                      ": names starting with '.wh.' are OCI whiteouts, not allowed");
  }
}

TEST_F(HostilePackagesTest, NamesLongerThanLinuxAllowsAreRefused) {
  Add({"longname", "1.0", "amd64", {}, {}, {}, {}, {}, false, Crafted("long-name", "longname")});
  Add({"longpath", "1.0", "amd64", {}, {}, {}, {}, {}, false, Crafted("long-path", "longpath")});
  Publish();
  BuildPrevious();
  ExpectRefused(Locked("longname", "good, longname"),
                "longname_1.0_amd64.deb: data.tar.xz entry ./usr/share/" + std::string(256, 'n') +
                    ": path component longer than 255 bytes");
  std::string deep = "./usr/share/" + std::string(250, 'd');
  for (int i = 1; i < 17; ++i) deep += "/" + std::string(250, 'd');
  ExpectRefused(Locked("longpath", "good, longpath"), "longpath_1.0_amd64.deb: data.tar.xz entry " +
                                                          deep + ": path longer than 4095 bytes");
}

// Each of these used to cost gigabytes (a 3 GiB buffer allocated from the lying index, a 4 GiB
// dictionary, 12 files of 240 MiB of zeros in 92 KB): under a 1.5 GiB address-space cap they must
// fail with a clean integrity error, never an allocation failure or a kill.
TEST_F(HostilePackagesTest, DecompressionBombsFailCleanlyUnderAMemoryCap) {
  struct Case {
    std::string kind;
    std::string name;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"xz-lying-index", "liar", "data.tar.xz: xz: corrupt or truncated stream"},
      {"xz-huge-dictionary", "bigdict",
       "data.tar.xz: xz: the stream needs more than 512 MiB of memory to decode"},
      {"zstd-bomb", "zbomb",
       "data.tar.zst entry ./usr/share/zero1: unpacked size exceeds the limit of 268435456 bytes"},
  };
  for (const Case& c : cases) {
    Add({c.name, "1.0", "amd64", {}, {}, {}, {}, {}, false, Crafted(c.kind, c.name)});
  }
  Publish();
  BuildPrevious();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind);
    ExpectRefused(Locked(c.name, "good, " + c.name), c.name + "_1.0_amd64.deb: " + c.message,
                  {"--as=" + std::to_string(uint64_t{1536} << 20)});
  }
}

// The Packages stanza (signed, hashed) says foo 1.0, but the .deb it points at calls itself
// bar 2.0: the image's status.d record would say bar while the SBOM and the scan said foo.
TEST_F(HostilePackagesTest, ControlFileNamingAnotherPackageIsRefused) {
  RepoFixture scratch(Work() + "/scratch");
  auto bar = scratch.AddPackage("stable", "amd64",
                                {"bar", "2.0", "amd64", {}, {{"usr/bin/bar", "bar\n"}}});
  ASSERT_TRUE(bar.has_value()) << bar.error().message;
  auto bar_deb = ReadFile(bar->path);
  ASSERT_TRUE(bar_deb.has_value());
  Add({"foo", "1.0", "amd64", {}, {}, {}, {}, {}, false, *bar_deb});
  Publish();
  BuildPrevious();
  ExpectRefused(Locked("foo", "good, foo"),
                "package foo 1.0 (pool/main/f/foo/foo_1.0_amd64.deb): control file says "
                "Package 'bar' where the lock says 'foo'");
}

// A lock edited by hand, consistently (the sha256, filename and size of another package under
// foo's name; or another version of a package whose layer is already cached): the build refuses
// instead of shipping one package under another's name, whatever the layer cache holds.
TEST_F(HostilePackagesTest, HandEditedLockCannotPassOnePackageOffAsAnother) {
  Add({"foo", "1.0", "amd64", {}, {{"usr/share/foo/data", "foo\n"}}});
  Publish();
  std::string lock = Locked("honest", "good, foo");
  auto honest = Build(lock);
  ASSERT_EQ(honest.exit_code, 0) << honest.err;  // every layer is now in the cache
  previous_ = TreeSnapshot(Out());

  auto text = ReadFile(lock);
  ASSERT_TRUE(text.has_value());
  json original = json::parse(*text);
  auto& packages = original["archs"][0]["packages"];
  auto find = [&](json& list, const std::string& name) -> json& {
    for (auto& p : list) {
      if (p["name"] == name) return p;
    }
    ADD_FAILURE() << name << " is not in the lock";
    return list[0];
  };
  ASSERT_EQ(packages.size(), 2u);

  json swapped = original;
  json& foo = find(swapped["archs"][0]["packages"], "foo");
  const json& good = find(packages, "good");
  for (const char* field : {"sha256", "filename", "size"}) foo[field] = good[field];
  std::string swapped_lock = Work() + "/swapped.lock.json";
  ASSERT_TRUE(WriteFileAtomic(swapped_lock, swapped.dump(2)).has_value());
  ASSERT_TRUE(WriteFileAtomic(SpecOf(swapped_lock), *ReadFile(SpecOf(lock))).has_value());
  ExpectRefused(swapped_lock, "control file says Package 'good' where the lock says 'foo'");

  json renumbered = original;
  find(renumbered["archs"][0]["packages"], "good")["version"] = "9.9";
  std::string renumbered_lock = Work() + "/renumbered.lock.json";
  ASSERT_TRUE(WriteFileAtomic(renumbered_lock, renumbered.dump(2)).has_value());
  ASSERT_TRUE(WriteFileAtomic(SpecOf(renumbered_lock), *ReadFile(SpecOf(lock))).has_value());
  ExpectRefused(renumbered_lock, "control file says Version '1.0' where the lock says '9.9'");
}

}  // namespace
}  // namespace hardbase::testing
