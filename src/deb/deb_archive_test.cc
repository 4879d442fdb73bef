#include "deb/deb_archive.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

namespace fs = std::filesystem;
using ::hardbase::testing::RunProcess;
using ::testing::HasSubstr;

constexpr int64_t kMtime = 1000000000;  // 2001-09-09, before any SOURCE_DATE_EPOCH clamp

std::string MustRun(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                    const std::map<std::string, std::string>& env = {}) {
  auto r = RunProcess(argv, env, stdin_data);
  EXPECT_EQ(r.exit_code, 0) << argv[0] << ": " << r.err;
  return r.out;
}

// One entry of a package tree built on disk, as dpkg-deb --build should pack it.
struct Want {
  std::string path;  // absolute, as ReadDeb reports it
  EntryType type;
  uint32_t mode;
  std::string content_or_target;  // kFile: content; kSymlink: target; kHardlink: target path
};

std::string RandomBytes(size_t n) {
  std::mt19937 gen(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

// A package with every kind of entry dpkg-deb packs: dirs (one sticky), files (empty, binary,
// multi-megabyte, setuid), relative and absolute symlinks, a hard link, and names and a symlink
// target longer than tar's 100-character fields.
std::vector<Want> TreeWanted() {
  std::string long_dir = "/usr/share/" + std::string(90, 'd');
  std::string long_file = long_dir + "/" + std::string(120, 'f') + ".txt";
  std::vector<Want> w = {
      {"/etc", EntryType::kDirectory, 0755, ""},
      {"/etc/foo.conf", EntryType::kFile, 0644, "key = value\n"},
      {"/usr", EntryType::kDirectory, 0755, ""},
      {"/usr/bin", EntryType::kDirectory, 0755, ""},
      {"/usr/bin/a_file", EntryType::kFile, 0755, std::string("bin\0ary\n", 8)},
      {"/usr/bin/b_link", EntryType::kHardlink, 0755, "/usr/bin/a_file"},
      {"/usr/bin/empty", EntryType::kFile, 0600, ""},
      {"/usr/bin/suid", EntryType::kFile, 04755, "#!/bin/true\n"},
      {"/usr/lib", EntryType::kDirectory, 02755, ""},
      {"/usr/lib/big.so", EntryType::kFile, 0644, RandomBytes(3 << 20)},
      {"/usr/lib/libfoo.so", EntryType::kSymlink, 0777, "libfoo.so.1"},
      {"/usr/lib/libfoo.so.1", EntryType::kSymlink, 0777, "../../etc/foo.conf"},
      {"/usr/lib/abs", EntryType::kSymlink, 0777, "/etc/foo.conf"},
      {"/usr/share", EntryType::kDirectory, 0755, ""},
      {long_dir, EntryType::kDirectory, 0755, ""},
      {long_file, EntryType::kFile, 0644, "long\n"},
      {"/usr/share/long-link", EntryType::kSymlink, 0777, long_file.substr(1)},
      {"/var", EntryType::kDirectory, 0755, ""},
      {"/var/tmp", EntryType::kDirectory, 01777, ""},
  };
  return w;
}

constexpr std::string_view kControl =
    "Package: libfoo\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Test <t@example.org>\n"
    "Description: test package\n";
constexpr std::string_view kPostinst = "#!/bin/sh\nexit 0\n";
constexpr std::string_view kConffiles = "/etc/foo.conf\n";

void SetMtime(const std::string& path) {
  timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Lays `wanted` out under `root` with a DEBIAN directory, for dpkg-deb --build.
void MakeTree(const std::string& root, const std::vector<Want>& wanted) {
  fs::create_directories(root + "/DEBIAN");
  fs::permissions(root + "/DEBIAN", fs::perms(0755));
  ASSERT_TRUE(WriteFileAtomic(root + "/DEBIAN/control", kControl, 0644));
  ASSERT_TRUE(WriteFileAtomic(root + "/DEBIAN/postinst", kPostinst, 0755));
  ASSERT_TRUE(WriteFileAtomic(root + "/DEBIAN/conffiles", kConffiles, 0644));
  for (const Want& w : wanted) {
    std::string p = root + w.path;
    switch (w.type) {
      case EntryType::kDirectory:
        fs::create_directory(p);
        break;
      case EntryType::kFile:
        ASSERT_TRUE(WriteFileAtomic(p, w.content_or_target, 0644));
        break;
      case EntryType::kSymlink:
        fs::create_symlink(w.content_or_target, p);
        break;
      case EntryType::kHardlink:
        fs::create_hard_link(root + w.content_or_target, p);
        break;
    }
    if (w.type != EntryType::kSymlink) {
      ASSERT_EQ(::chmod(p.c_str(), w.mode), 0) << p;
    }
  }
  for (const Want& w : wanted) SetMtime(root + w.path);
}

Result<DebContents> ReadFileAsDeb(const std::string& path,
                                  uint64_t max_unpacked = uint64_t{1} << 30) {
  HB_TRY(std::string bytes, ReadFile(path));
  return ReadDeb(bytes, BaseName(path), max_unpacked);
}

// `ls -l`-style mode string as GNU tar prints it.
std::string ModeString(EntryType type, uint32_t mode) {
  std::string s = "-rwxrwxrwx";
  s[0] = type == EntryType::kDirectory  ? 'd'
         : type == EntryType::kSymlink  ? 'l'
         : type == EntryType::kHardlink ? 'h'
                                        : '-';
  for (int i = 0; i < 9; ++i) {
    if (!(mode & (0400u >> i))) s[1 + i] = '-';
  }
  auto special = [&](uint32_t bit, int pos, char set) {
    if (mode & bit) s[pos] = s[pos] == '-' ? static_cast<char>(set - 'a' + 'A') : set;
  };
  special(04000, 3, 's');
  special(02000, 6, 's');
  special(01000, 9, 't');
  return s;
}

// Our entries as `tar -tv --numeric-owner --full-time` lines (TZ=UTC), whitespace-normalised.
std::vector<std::string> AsTarListing(const std::vector<DataEntry>& data) {
  std::vector<std::string> out;
  for (const DataEntry& e : data) {
    char date[32];
    time_t t = e.mtime;
    tm tm_utc;
    gmtime_r(&t, &tm_utc);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm_utc);
    std::string line =
        ModeString(e.type, e.mode) + " " + std::to_string(e.uid) + "/" + std::to_string(e.gid) +
        " " + std::to_string(e.content ? e.content->size() : 0) + " " + date + " ." + e.path;
    if (e.type == EntryType::kDirectory) line += "/";
    if (e.type == EntryType::kSymlink) line += " -> " + e.link_target;
    if (e.type == EntryType::kHardlink) line += " link to ." + e.link_target;
    out.push_back(line);
  }
  return out;
}

// GNU tar's listing of the package's data.tar, the root entry left out.
std::vector<std::string> TarListing(const std::string& deb) {
  std::string tar = MustRun({"dpkg-deb", "--fsys-tarfile", deb});
  std::istringstream listing(
      MustRun({"tar", "-tv", "--numeric-owner", "--full-time", "-f", "-"}, tar, {{"TZ", "UTC"}}));
  std::vector<std::string> out;
  for (std::string line; std::getline(listing, line);) {
    std::istringstream fields(line);
    std::string mode, owner, size, day, time, rest;
    fields >> mode >> owner >> size >> day >> time >> std::ws;
    std::getline(fields, rest);
    if (rest == "./") continue;
    out.push_back(mode + " " + owner + " " + size + " " + day + " " + time + " " + rest);
  }
  return out;
}

class DebArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("deb-archive-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  // Builds a package from `wanted` with dpkg-deb and returns the .deb's path.
  std::string BuildDeb(const std::vector<Want>& wanted, const std::string& compression) {
    std::string root = Path("root-" + compression);
    MakeTree(root, wanted);
    std::string deb = Path("libfoo_1.0_amd64-" + compression + ".deb");
    MustRun({"dpkg-deb", "--root-owner-group", "-Z" + compression, "--build", root, deb});
    return deb;
  }

  // Writes the .deb files named by `snippets`, each described by python code calling add(...)
  // for data.tar entries, and optionally setting `members` (the ar members) or `raw` (the file).
  // One python3 run for all of them, as starting python is slow.
  void CraftDebs(const std::map<std::string, std::string>& snippets) {
    static constexpr std::string_view kPrelude = R"(
import io, sys, tarfile
entries = []
def add(name, type=tarfile.REGTYPE, data=b'', link='', mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname, ti.mtime = type, mode, link, 1000000000
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    for k, v in kw.items(): setattr(ti, k, v)
    entries.append((ti, data))
from hostile_archives import *
def with_data(name, data):
    return [('debian-binary', b'2.0\n'), ('control.tar.gz', ctl_tar('w:gz')), (name, data)]
def ctl_tar(mode='w'):
    ti = tarfile.TarInfo('./control')
    ti.size = len(b'Package: evil\n')
    return tar([(ti, b'Package: evil\n')], mode)
)";
    static constexpr std::string_view kEpilogue = R"(
if 'members' not in globals():
    members = [('debian-binary', b'2.0\n'), ('control.tar.gz', ctl_tar('w:gz')),
               ('data.tar.xz', tar(entries, 'w:xz'))]
open(out, 'wb').write(raw if 'raw' in globals() else ar(members))
)";
    std::vector<std::string> argv = {"python3", "-c",
                                     "import sys\n"
                                     "for script in sys.argv[1:]:\n"
                                     "    exec(open(script).read(), {'out': script[:-3]})\n"};
    for (const auto& [name, snippet] : snippets) {
      std::string script = Path(name + ".py");
      EXPECT_TRUE(
          WriteFileAtomic(script, std::string(kPrelude) + snippet + std::string(kEpilogue)));
      argv.push_back(script);
    }
    MustRun(argv, "", {{"PYTHONPATH", std::string(HARDBASE_SOURCE_DIR) + "/tests/support"}});
  }
  std::string CraftDeb(const std::string& name, const std::string& snippet) {
    CraftDebs({{name, snippet}});
    return Path(name);
  }

  std::unique_ptr<TempDir> dir_;
};

TEST(NormaliseMemberPathTest, NormalisesAndRefuses) {
  EXPECT_EQ(NormaliseMemberPath("./usr/bin/").value(), "/usr/bin");
  EXPECT_EQ(NormaliseMemberPath("usr//lib/./x").value(), "/usr/lib/x");
  EXPECT_EQ(NormaliseMemberPath("./").value(), "");
  EXPECT_EQ(NormaliseMemberPath(".").value(), "");
  EXPECT_EQ(NormaliseMemberPath("./a..b/..c").value(), "/a..b/..c");
  using namespace std::string_view_literals;
  for (std::string_view bad :
       {""sv, "/etc/passwd"sv, "./../etc"sv, "./a/../b"sv, ".."sv, "a/.."sv, "a\0b"sv}) {
    auto r = NormaliseMemberPath(bad);
    ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity)) << bad;
  }
}

TEST_F(DebArchiveTest, ReadsEveryFieldOfDpkgDebPackages) {
  const std::vector<Want> wanted = TreeWanted();
  for (std::string compression : {"xz", "gzip", "zstd", "none"}) {
    SCOPED_TRACE(compression);
    std::string deb = BuildDeb(wanted, compression);
    auto contents = ReadFileAsDeb(deb);
    ASSERT_TRUE(contents) << contents.error().message;

    std::map<std::string, std::string> want_control = {{"control", std::string(kControl)},
                                                       {"postinst", std::string(kPostinst)},
                                                       {"conffiles", std::string(kConffiles)}};
    EXPECT_EQ(contents->control_files, want_control);

    std::map<std::string, const DataEntry*> got;
    for (const DataEntry& e : contents->data) {
      EXPECT_TRUE(got.emplace(e.path, &e).second) << e.path;
    }
    ASSERT_EQ(got.size(), wanted.size());
    for (const Want& w : wanted) {
      SCOPED_TRACE(w.path);
      ASSERT_TRUE(got.contains(w.path));
      const DataEntry& e = *got[w.path];
      EXPECT_EQ(e.type, w.type);
      EXPECT_EQ(e.mode, w.mode) << std::oct << e.mode;
      EXPECT_EQ(e.uid, 0u);
      EXPECT_EQ(e.gid, 0u);
      EXPECT_EQ(e.mtime, kMtime);
      if (w.type == EntryType::kFile) {
        ASSERT_NE(e.content, nullptr);
        EXPECT_TRUE(*e.content == w.content_or_target);  // not EXPECT_EQ: 3 MiB in a failure
        EXPECT_EQ(e.link_target, "");
      } else {
        EXPECT_EQ(e.content, nullptr);
        EXPECT_EQ(e.link_target, w.type == EntryType::kDirectory ? "" : w.content_or_target);
      }
    }
    // An independent reader: dpkg-deb extracts data.tar, GNU tar lists it.
    EXPECT_EQ(AsTarListing(contents->data), TarListing(deb));
  }
}

TEST_F(DebArchiveTest, EveryTruncationFails) {
  std::string deb = BuildDeb(
      {{"/etc", EntryType::kDirectory, 0755, ""}, {"/etc/foo.conf", EntryType::kFile, 0644, "x"}},
      "gzip");
  auto bytes = ReadFile(deb);
  ASSERT_TRUE(bytes);
  ASSERT_TRUE(ReadDeb(*bytes, "t.deb"));
  // The last byte may be the ar padding of an odd-sized member, which nobody needs.
  for (size_t n = 0; n + 1 < bytes->size(); ++n) {
    auto r = ReadDeb(std::string_view(*bytes).substr(0, n), "t.deb");
    ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity)) << "cut at " << n;
    EXPECT_THAT(r.error().message, ::testing::StartsWith("t.deb: "));
  }
}

TEST_F(DebArchiveTest, ReadsPaxNamesUncompressedTarAndIgnoresUnderscoreMembers) {
  std::string long_name = "./usr/share/" + std::string(150, 'p') + "/" + std::string(200, 'q');
  std::string deb = CraftDeb("pax.deb", R"(
add('./', tarfile.DIRTYPE, mode=0o755)
add('usr/', tarfile.DIRTYPE, mode=0o755, uid=5, gid=7)
add('./usr/caf\u00e9', data=b'utf8', uid=100000, gid=4294967295)
add(')" + long_name + R"(', data=b'long', mode=0o4750)
add('./usr/l', tarfile.SYMTYPE, link='/)" + std::string(300, 't') +
                                            R"(')
members = [('debian-binary', b'2.0\n'), ('_ignored', b'x'), ('control.tar', ctl_tar()),
           ('_also', b''), ('data.tar', tar(entries, fmt=tarfile.PAX_FORMAT)), ('trailing', b'')]
)");
  auto r = ReadFileAsDeb(deb);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->control_files.at("control"), "Package: evil\n");
  ASSERT_EQ(r->data.size(), 4u);
  EXPECT_EQ(r->data[0].path, "/usr");
  EXPECT_EQ(r->data[0].type, EntryType::kDirectory);
  EXPECT_EQ(r->data[0].uid, 5u);
  EXPECT_EQ(r->data[0].gid, 7u);
  EXPECT_EQ(r->data[1].path, "/usr/caf\xc3\xa9");
  EXPECT_EQ(*r->data[1].content, "utf8");
  EXPECT_EQ(r->data[1].uid, 100000u);
  EXPECT_EQ(r->data[1].gid, 4294967295u);
  EXPECT_EQ(r->data[2].path, long_name.substr(1));
  EXPECT_EQ(r->data[2].mode, 04750u);
  EXPECT_EQ(*r->data[2].content, "long");
  EXPECT_EQ(r->data[3].type, EntryType::kSymlink);
  EXPECT_EQ(r->data[3].link_target, "/" + std::string(300, 't'));
  EXPECT_EQ(r->data[3].mtime, kMtime);
}

TEST_F(DebArchiveTest, AllowsSymlinksThatStayInsideTheRoot) {
  std::string deb = CraftDeb("ok.deb", R"(
add('./usr/lib/x', tarfile.SYMTYPE, link='../../etc')
add('./usr/lib/y', tarfile.SYMTYPE, link='a/../../b/./../..')
add('./z', tarfile.SYMTYPE, link='/../../etc/passwd')
add('./w', tarfile.SYMTYPE, link='.')
)");
  auto r = ReadFileAsDeb(deb);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->data.size(), 4u);
  EXPECT_EQ(r->data[2].link_target, "/../../etc/passwd");
}

TEST_F(DebArchiveTest, RefusesUnsafeOrMalformedPackages) {
  struct Case {
    std::string name;
    std::string snippet;
    std::string error;
    uint64_t max_unpacked = uint64_t{1} << 30;
  };
  const std::string e = "evil.deb: data.tar.xz entry ";
  const std::vector<Case> cases = {
      {"absolute", "add('/etc/passwd', data=b'x')", e + "/etc/passwd: absolute path"},
      {"dotdot", "add('./../etc/passwd', data=b'x')", e + "./../etc/passwd: path leaves the root"},
      {"dotdot-inner", "add('./usr/../../x')", e + "./usr/../../x: path leaves the root"},
      {"newline-in-name", "add('./a\\n/../../x')", e + "./a\\x0a/../../x: path leaves the root"},
      {"escaping-symlink", "add('usr/lib/x', tarfile.SYMTYPE, link='../../../../etc')",
       e + "usr/lib/x: symlink target ../../../../etc leaves the root"},
      {"escaping-symlink-via-dir", "add('./a', tarfile.SYMTYPE, link='b/../..')",
       e + "./a: symlink target b/../.. leaves the root"},
      {"empty-symlink", "add('./a', tarfile.SYMTYPE, link='')", e + "./a: symlink without"},
      {"hardlink-missing", "add('./b', tarfile.LNKTYPE, link='./usr/missing')",
       e + "./b: hard link to ./usr/missing, not an earlier regular file"},
      {"hardlink-outside", "add('./a', data=b'x')\nadd('./b', tarfile.LNKTYPE, link='../a')",
       e + "./b: hard link to ../a"},
      {"hardlink-absolute", "add('./a', data=b'x')\nadd('./b', tarfile.LNKTYPE, link='/a')",
       e + "./b: hard link to /a"},
      {"hardlink-before-file", "add('./b', tarfile.LNKTYPE, link='./a')\nadd('./a', data=b'x')",
       e + "./b: hard link to ./a"},
      {"hardlink-to-dir", "add('./d', tarfile.DIRTYPE)\nadd('./b', tarfile.LNKTYPE, link='./d')",
       e + "./b: hard link to ./d"},
      {"hardlink-to-symlink",
       "add('./s', tarfile.SYMTYPE, link='x')\nadd('./b', tarfile.LNKTYPE, link='./s')",
       e + "./b: hard link to ./s"},
      {"char-device", "add('./dev/null', tarfile.CHRTYPE, devmajor=1, devminor=3)",
       e + "./dev/null: device nodes are not allowed"},
      {"block-device", "add('./dev/sda', tarfile.BLKTYPE, devmajor=8)",
       e + "./dev/sda: device nodes are not allowed"},
      {"fifo", "add('./run/fifo', tarfile.FIFOTYPE)", e + "./run/fifo: FIFOs are not allowed"},
      {"duplicate", "add('./usr/x', data=b'1')\nadd('usr//x', data=b'2')",
       e + "usr//x: duplicate path"},
      {"bomb", "add('./zeros', data=bytes(2 << 20))",
       e + "./zeros: unpacked size exceeds the limit of 1048576 bytes", 1 << 20},
      {"many-entries", "for i in range(3000): add('./f%d' % i)",
       "unpacked size exceeds the limit of 1048576 bytes", 1 << 20},
      {"control-symlink",
       "add('./postinst', tarfile.SYMTYPE, link='control')\n"
       "members = [('debian-binary', b'2.0\\n'),"
       " ('control.tar', tar([(tarfile.TarInfo('./control'), b'')] + entries)),"
       " ('data.tar', tar([]))]",
       "evil.deb: control.tar entry ./postinst: not a regular file at the top level"},
      {"control-nested",
       "add('./sub/control')\n"
       "members = [('debian-binary', b'2.0\\n'), ('control.tar', tar(entries)),"
       " ('data.tar', tar([]))]",
       "evil.deb: control.tar entry ./sub/control: not a regular file at the top level"},
      {"wrong-version", "members = [('debian-binary', b'3.0\\n')]",
       "evil.deb: debian-binary: unsupported format version '3.0'"},
      {"first-member", "members = [('control.tar', ctl_tar())]",
       "evil.deb: unexpected member 'control.tar' where debian-binary belongs"},
      {"missing-data", "members = [('debian-binary', b'2.0\\n'), ('control.tar', ctl_tar())]",
       "evil.deb: no data.tar member"},
      {"missing-control", "members = [('debian-binary', b'2.0\\n')]",
       "evil.deb: no control.tar member"},
      {"data-before-control",
       "members = [('debian-binary', b'2.0\\n'), ('data.tar', tar([])), ('control.tar', b'')]",
       "evil.deb: unexpected member 'data.tar' where control.tar belongs"},
      {"bzip2",
       "members = [('debian-binary', b'2.0\\n'), ('control.tar', ctl_tar()),"
       " ('data.tar.bz2', tar([], 'w:bz2'))]",
       "evil.deb: data.tar.bz2: unsupported compression"},
      {"corrupt-xz",
       "add('./x', data=bytes(range(256)) * 64)\nd = bytearray(tar(entries, 'w:xz'))\n"
       "d[len(d) // 2] ^= 0xff\n"
       "members = [('debian-binary', b'2.0\\n'), ('control.tar', ctl_tar()),"
       " ('data.tar.xz', bytes(d))]",
       "evil.deb: data.tar.xz"},
      {"not-tar",
       "members = [('debian-binary', b'2.0\\n'), ('control.tar', ctl_tar()),"
       " ('data.tar', b'hello' * 300)]",
       "evil.deb: data.tar: "},
      {"wrong-compression",
       "members = [('debian-binary', b'2.0\\n'), ('control.tar', ctl_tar()),"
       " ('data.tar.xz', tar([], 'w:gz'))]",
       "evil.deb: data.tar.xz: compressed differently than its name says"},
      {"not-ar", "raw = b'hello world\\n' * 10", "evil.deb: ar archive: "},
      {"whiteout", "add('./usr/share/.wh.foo')",
       e + "./usr/share/.wh.foo: names starting with '.wh.' are OCI whiteouts, not allowed"},
      {"whiteout-opaque", "add('./usr/share/.wh..wh..opq')",
       e + "./usr/share/.wh..wh..opq: names starting with '.wh.'"},
      {"whiteout-dir", "add('./var/lib/dpkg/status.d/.wh.libc6/', tarfile.DIRTYPE)",
       e + "./var/lib/dpkg/status.d/.wh.libc6/: names starting with '.wh.'"},
      {"whiteout-symlink", "add('./.wh.etc', tarfile.SYMTYPE, link='usr')",
       e + "./.wh.etc: names starting with '.wh.'"},
      {"long-component", "add('./usr/' + 'n' * 256)", "path component longer than 255 bytes"},
      {"long-path", "add('./' + '/'.join(['d' * 200] * 21))", "path longer than 4095 bytes"},
      {"long-symlink-target", "add('./l', tarfile.SYMTYPE, link='a/' * 2048)",
       e + "./l: symlink target longer than 4095 bytes"},
      {"xz-lying-index",
       "add('./x', data=b'hello')\n"
       "members = with_data('data.tar.xz', xz_lying_index(tar(entries), 3 << 30))",
       "evil.deb: data.tar.xz: xz: corrupt or truncated stream"},
      {"xz-huge-dictionary",
       "add('./x', data=b'hello')\nmembers = with_data('data.tar.xz', xz_dict(tar(entries), 40))",
       "evil.deb: data.tar.xz: xz: the stream needs more than 512 MiB of memory to decode"},
      {"zstd-huge-window",
       "add('./x', data=b'hello')\nmembers = with_data('data.tar.zst', zstd_raw(tar(entries), 31))",
       "evil.deb: data.tar.zst: zstd: the stream's window is larger than the limit of 128 MiB"},
      {"zstd-bomb", "members = with_data('data.tar.zst', zstd_zero_files([600 << 10] * 4))",
       "evil.deb: data.tar.zst entry ./zero1: unpacked size exceeds the limit of 1048576 bytes",
       1 << 20},
      {"zstd-trailing-zeros",
       "add('./x', data=b'hello')\n"
       "members = with_data('data.tar.zst', zstd_frame([tar(entries)] + [(b'\\0', 1 << 17)] * 40))",
       "evil.deb: data.tar.zst: unpacks to more than the limit of", 1 << 20},
      {"zstd-truncated",
       "add('./x', data=b'hello')\n"
       "members = with_data('data.tar.zst', zstd_raw(tar(entries))[:-100])",
       "evil.deb: data.tar.zst: zstd: truncated stream"},
      {"gzip-truncated",
       "add('./x', data=bytes(range(256)) * 64)\n"
       "members = with_data('data.tar.gz', tar(entries, 'w:gz')[:-200])",
       "evil.deb: data.tar.gz: gzip: truncated stream"},
  };
  std::map<std::string, std::string> snippets;
  for (const Case& c : cases) snippets[c.name + ".deb"] = c.snippet;
  CraftDebs(snippets);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto bytes = ReadFile(Path(c.name + ".deb"));
    ASSERT_TRUE(bytes);
    auto r = ReadDeb(*bytes, "evil.deb", c.max_unpacked);
    ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity));
    EXPECT_THAT(r.error().message, HasSubstr(c.error));
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST_F(DebArchiveTest, BudgetCountsEveryFileOfTheArchive) {
  std::string deb = CraftDeb("big.deb",
                             "add('./a', data=bytes(600 << 10))\n"
                             "add('./b', data=bytes(600 << 10))");
  EXPECT_TRUE(ReadFileAsDeb(deb, 2 << 20));
  auto r = ReadFileAsDeb(deb, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("entry ./b: unpacked size exceeds"));
}

TEST_F(DebArchiveTest, ReadsNamesUpToTheLimitsAndHandCraftedZstd) {
  // The longest names Linux has (NAME_MAX 255, PATH_MAX 4096 with its NUL), zstd frames of raw
  // and RLE blocks, and an xz stream whose dictionary (1 MiB) is within the limit.
  std::string deb = CraftDeb("ok.deb",
                             "add('./' + 'n' * 255, data=b'x')\n"
                             "add('./' + '/'.join(['d' * 199] * 20) + '/' + 'f' * 94)\n"
                             "add('./l', tarfile.SYMTYPE, link='a/' * 2047 + 'b')\n"
                             "members = with_data('data.tar.zst', zstd_raw(tar(entries)))");
  auto r = ReadFileAsDeb(deb);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->data.size(), 3u);
  EXPECT_EQ(r->data[0].path.size(), 256u);
  EXPECT_EQ(r->data[1].path.size(), 4095u);
  EXPECT_EQ(r->data[2].link_target.size(), 4095u);

  std::string zeros =
      CraftDeb("zeros.deb", "members = with_data('data.tar.zst', zstd_zero_files([3 << 20]))");
  r = ReadFileAsDeb(zeros);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->data.size(), 1u);
  EXPECT_EQ(*r->data[0].content, std::string(3 << 20, '\0'));

  std::string dict = CraftDeb("dict.deb",
                              "add('./x', data=b'hello')\n"
                              "members = with_data('data.tar.xz', xz_dict(tar(entries), 16))");
  r = ReadFileAsDeb(dict);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r->data[0].content, "hello");
}

TEST(DefaultMaxUnpackedTest, IsAMultipleOfThePackageSizeWithinBounds) {
  EXPECT_EQ(DefaultMaxUnpacked(0), uint64_t{256} << 20);
  EXPECT_EQ(DefaultMaxUnpacked(800), uint64_t{256} << 20);
  EXPECT_EQ(DefaultMaxUnpacked(44 << 20), uint64_t{64 * 44} << 20);
  EXPECT_EQ(DefaultMaxUnpacked(uint64_t{1} << 30), uint64_t{4} << 30);
  EXPECT_EQ(DefaultMaxUnpacked(UINT64_MAX), uint64_t{4} << 30);
}

}  // namespace
}  // namespace hardbase::deb
