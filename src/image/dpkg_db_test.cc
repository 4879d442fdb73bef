#include "image/dpkg_db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using testing::RunProcess;

// A control file as packages ship it: Package not first, folded Description with a "." line.
constexpr std::string_view kControl =
    "Source: glibc\n"
    "Package: libc6-test\n"
    "Version: 2.36-9+deb12u13\n"
    "Architecture: amd64\n"
    "Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n"
    "Installed-Size: 12986\n"
    "Depends: libgcc-s1\n"
    "Recommends: libidn2-0 (>= 2.0.5~)\n"
    "Breaks: busybox (<< 1.30.1-6), hurd (<< 1:0.9.git20220301-2)\n"
    "Section: libs\n"
    "Priority: optional\n"
    "Multi-Arch: same\n"
    "Homepage: https://www.gnu.org/software/libc/libc.html\n"
    "Description: GNU C Library: Shared libraries\n"
    " Contains the standard libraries that are used by nearly all programs on\n"
    " the system.\n"
    " .\n"
    " This package includes shared versions of the standard C library.\n";

TEST(StatusStanzaTest, InsertsStatusAfterPackageAndKeepsTheRest) {
  auto stanza = StatusStanza(kControl);
  ASSERT_TRUE(stanza.has_value()) << stanza.error().message;
  std::string expected(kControl);
  size_t after_package = expected.find('\n', expected.find("Package:")) + 1;
  expected.insert(after_package, "Status: install ok installed\n");
  EXPECT_EQ(*stanza, expected);
}

TEST(StatusStanzaTest, NormalisesTheEndAndReplacesAStatusField) {
  auto a = StatusStanza("\nPackage: a\nVersion: 1\n\n\n");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(*a, "Package: a\nStatus: install ok installed\nVersion: 1\n");
  auto b = StatusStanza("Package: a\nVersion: 1");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(*b, "Package: a\nStatus: install ok installed\nVersion: 1\n");
  auto c = StatusStanza("Status: purge ok not-installed\n x\npackage: a\nX-Y: \n z\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(*c, "package: a\nStatus: install ok installed\nX-Y: \n z\n");
}

TEST(StatusStanzaTest, Errors) {
  const char* bad[] = {
      "",
      "\n\n",
      "Version: 1\n",                          // no Package
      "Package: a\n\nPackage: b\n",            // two stanzas
      "Package: a\n\n x\n",                    // continuation after the stanza ended
      " x\nPackage: a\n",                      // continuation first
      "Package: a\nno colon here\n",           // not a field
      "Package: a\n-Bad: x\n",                 // not a field name
      "Package: a\nVersion: 1\nversion: 2\n",  // duplicate
      "Package:  \n",                          // empty Package
      "Package: a\n b\n",                      // folded Package
  };
  for (const char* text : bad) {
    auto stanza = StatusStanza(text);
    ASSERT_FALSE(stanza.has_value()) << text;
    EXPECT_THAT(stanza, FailsWith(ErrorCode::kSpec));
  }
  EXPECT_NE(StatusStanza("Package: a\nversion: 1\nVersion: 2\n").error().message.find("line 3"),
            std::string::npos);
}

// python3-apt's deb822 reader: the fields of each stanza as "name\tvalue" lines, stanzas
// separated by a line "--".
std::string AptFields(const std::string& path) {
  auto r = RunProcess({"/usr/bin/python3", "-c",
                       "import sys, apt_pkg\n"
                       "with apt_pkg.TagFile(sys.argv[1]) as tf:\n"
                       "    for s in tf:\n"
                       "        for k in s.keys():\n"
                       "            print(k + '\\t' + repr(s[k]))\n"
                       "        print('--')\n",
                       path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// A control file that dpkg-deb accepted into a .deb and gives back, turned into a status.d
// stanza, reads in apt as the same fields plus Status, and in dpkg-query as an installed package.
TEST(StatusStanzaTest, RealToolsReadTheStanza) {
  auto dir = TempDir::Create("hb-dpkgdb-");
  ASSERT_TRUE(dir.has_value());
  std::string root = dir->path() + "/pkg";
  ASSERT_TRUE(MakeDirs(root + "/DEBIAN"));
  ASSERT_TRUE(MakeDirs(root + "/usr/share/doc/libc6-test"));
  ASSERT_TRUE(WriteFileAtomic(root + "/DEBIAN/control", kControl));
  ASSERT_TRUE(WriteFileAtomic(root + "/usr/share/doc/libc6-test/README", "x\n"));
  std::string deb = dir->path() + "/x.deb";
  auto build = RunProcess({"dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, deb});
  ASSERT_EQ(build.exit_code, 0) << build.err;
  auto control = RunProcess({"dpkg-deb", "--info", deb, "control"});
  ASSERT_EQ(control.exit_code, 0) << control.err;
  ASSERT_EQ(control.out, kControl);

  auto stanza = StatusStanza(control.out);
  ASSERT_TRUE(stanza.has_value()) << stanza.error().message;
  ASSERT_TRUE(WriteFileAtomic(dir->path() + "/control", control.out));
  ASSERT_TRUE(WriteFileAtomic(dir->path() + "/stanza", *stanza));
  std::string expected = AptFields(dir->path() + "/control");
  size_t after_package = expected.find('\n', expected.find("Package\t")) + 1;
  expected.insert(after_package, "Status\t'install ok installed'\n");
  EXPECT_EQ(AptFields(dir->path() + "/stanza"), expected);

  std::string admin = dir->path() + "/admin";
  ASSERT_TRUE(MakeDirs(admin + "/info"));
  ASSERT_TRUE(MakeDirs(admin + "/updates"));
  ASSERT_TRUE(WriteFileAtomic(admin + "/status", *stanza));
  auto query =
      RunProcess({"dpkg-query", "--admindir=" + admin, "-W",
                  "-f=${Package} ${Version} ${db:Status-Abbrev}${Depends}|${Description}"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.out,
            "libc6-test 2.36-9+deb12u13 ii libgcc-s1|GNU C Library: Shared libraries\n"
            " Contains the standard libraries that are used by nearly all programs on\n"
            " the system.\n"
            " .\n"
            " This package includes shared versions of the standard C library.");
}

// Md5sums equals what coreutils' md5sum prints for the same files, listed as dh_md5sums does
// (`find -type f`, sorted in the C locale).
TEST(Md5sumsTest, AgreesWithMd5sum) {
  auto dir = TempDir::Create("hb-md5-");
  ASSERT_TRUE(dir.has_value());
  std::mt19937 rng(99);
  std::vector<std::pair<std::string, std::string>> owned = {
      {"/usr/bin/tool", "#!/bin/sh\necho hi\n"},
      {"/usr/share/doc/x/copyright", ""},
      {"/etc/x.conf", std::string("\0\x01\xff binary", 10)},
      {"/lib/x86_64-linux-gnu/libz.so.1", std::string(70000, 'z')},
      {"/usr/share/doc/x/changelog.Debian.gz", ""},
      {"/usr/share/doc/x-Y/a b", "space"},
      {"/usr/share/doc/x.y/Z", "upper"},
  };
  for (int i = 0; i < 20; ++i) {
    std::string content(rng() % 3000, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    owned.emplace_back("/usr/lib/r/" + std::to_string(rng()), content);
  }
  std::shuffle(owned.begin(), owned.end(), rng);
  std::vector<ShippedFile> files;
  for (const auto& [path, content] : owned) {
    std::string on_disk = dir->path() + path;
    ASSERT_TRUE(MakeDirs(DirName(on_disk)));
    ASSERT_TRUE(WriteFileAtomic(on_disk, content));
    files.push_back({.path = path, .content = content});
  }
  auto md5sum = RunProcess(
      {"sh", "-c",
       "cd \"$1\" && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 md5sum", "sh",
       dir->path()});
  ASSERT_EQ(md5sum.exit_code, 0) << md5sum.err;
  EXPECT_EQ(Md5sums(files), md5sum.out);
  EXPECT_EQ(Md5sums({}), "");
}

// On this machine's own packages, Md5sums of the installed files reproduces dpkg's md5sums file
// (files that dpkg lists are not conffiles, so they are as shipped).
TEST(Md5sumsTest, ReproducesInstalledPackagesMd5sums) {
  int checked = 0;
  for (const char* package : {"sed", "grep", "gzip"}) {
    auto listed = ReadFile(std::string("/var/lib/dpkg/info/") + package + ".md5sums");
    if (!listed) continue;
    std::vector<std::string> contents;
    std::vector<std::string> paths;
    std::istringstream lines(*listed);
    for (std::string line; std::getline(lines, line);) {
      std::string path = "/" + line.substr(34);
      auto content = ReadFile(path);
      ASSERT_TRUE(content.has_value()) << content.error().message;
      paths.push_back(path);
      contents.push_back(std::move(*content));
    }
    std::vector<ShippedFile> files;
    for (size_t i = paths.size(); i-- > 0;) files.push_back({paths[i], contents[i]});
    EXPECT_EQ(Md5sums(files), *listed) << package;
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no dpkg database on this machine";
}

}  // namespace
}  // namespace hardbase::image
