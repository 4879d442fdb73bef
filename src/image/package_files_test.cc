#include "image/package_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using ::testing::Not;

deb::DataEntry Dir(std::string path, uint32_t mode = 0755) {
  deb::DataEntry e;
  e.path = std::move(path);
  e.type = deb::EntryType::kDirectory;
  e.mode = mode;
  e.mtime = 1000;
  return e;
}

deb::DataEntry File(std::string path, std::string content, uint32_t mode = 0644,
                    int64_t mtime = 1000) {
  deb::DataEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.mtime = mtime;
  e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

deb::DataEntry Link(std::string path, std::string target,
                    deb::EntryType type = deb::EntryType::kSymlink) {
  deb::DataEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = 0777;
  e.mtime = 1000;
  e.link_target = std::move(target);
  return e;
}

deb::DebContents Package(std::vector<deb::DataEntry> data) {
  deb::DebContents deb;
  deb.control_files["control"] =
      "Package: demo\nVersion: 1.0\nArchitecture: amd64\nMaintainer: A <a@example.org>\n"
      "Description: demo\n long text\n";
  deb.data = std::move(data);
  return deb;
}

std::map<std::string, oci::LayerEntry> FilesByPath(const PackageFiles& files) {
  std::map<std::string, oci::LayerEntry> out;
  for (const auto& e : files.entries) out[e.path] = e;
  return out;
}

FilePolicy Policy(spec::PathFilter paths = {}) { return *MakeFilePolicy(paths); }

TEST(MergedUsrPathTest, MovesTopLevelDirectoriesUnderUsr) {
  EXPECT_EQ(MergedUsrPath("/lib/x86_64-linux-gnu/libc.so.6"),
            "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(MergedUsrPath("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(MergedUsrPath("/bin"), "/usr/bin");
  EXPECT_EQ(MergedUsrPath("/sbin/ldconfig"), "/usr/sbin/ldconfig");
  EXPECT_EQ(MergedUsrPath("/library/x"), "/library/x");
  EXPECT_EQ(MergedUsrPath("/binx"), "/binx");
  EXPECT_EQ(MergedUsrPath("/etc/passwd"), "/etc/passwd");
}

TEST(HardeningExclusionTest, LeavesOutPackageManagersAndShells) {
  EXPECT_TRUE(HardeningExclusion("dpkg", spec::Variant::kStandard));
  EXPECT_TRUE(HardeningExclusion("apt", spec::Variant::kStandard));
  EXPECT_TRUE(HardeningExclusion("bash", spec::Variant::kStandard));
  EXPECT_TRUE(HardeningExclusion("busybox", spec::Variant::kStandard));
  EXPECT_FALSE(HardeningExclusion("busybox", spec::Variant::kDebug));
  EXPECT_FALSE(HardeningExclusion("libc6", spec::Variant::kStandard));
  EXPECT_FALSE(HardeningExclusion("dpkg", spec::Variant::kDev));
}

// The list the resolver leaves out is the same table, per variant.
TEST(HardeningExclusionTest, TheListPerVariant) {
  std::vector<std::string> standard = HardeningExclusions(spec::Variant::kStandard);
  EXPECT_TRUE(std::is_sorted(standard.begin(), standard.end()));
  for (const char* name : {"adduser", "apt", "bash", "busybox", "dash", "dpkg", "passwd"}) {
    EXPECT_TRUE(std::count(standard.begin(), standard.end(), name)) << name;
  }
  std::vector<std::string> debug = HardeningExclusions(spec::Variant::kDebug);
  EXPECT_EQ(debug.size() + 1, standard.size());
  EXPECT_FALSE(std::count(debug.begin(), debug.end(), "busybox"));
  EXPECT_TRUE(HardeningExclusions(spec::Variant::kDev).empty());
  for (const std::string& name : standard) {
    EXPECT_TRUE(HardeningExclusion(name, spec::Variant::kStandard)) << name;
  }
}

TEST(PackageLayerFilesTest, MergesUsrAndRecordsThePackagesOwnPaths) {
  auto files = PackageLayerFiles(
      Package({Dir("/lib"), Dir("/lib/x86_64-linux-gnu"),
               File("/lib/x86_64-linux-gnu/libdemo.so.1", "elf", 0644), Dir("/usr"),
               Dir("/usr/lib"), Link("/usr/lib/libdemo.so", "/lib/x86_64-linux-gnu/libdemo.so.1")}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_TRUE(by_path.count("/usr/lib/x86_64-linux-gnu/libdemo.so.1"));
  EXPECT_FALSE(by_path.count("/lib/x86_64-linux-gnu/libdemo.so.1"));
  EXPECT_EQ(by_path["/usr/lib"].type, oci::LayerEntryType::kDirectory);
  EXPECT_EQ(by_path["/usr/lib/libdemo.so"].link_target, "/lib/x86_64-linux-gnu/libdemo.so.1");
  const auto& md5sums = *by_path["/var/lib/dpkg/status.d/demo.md5sums"].content;
  EXPECT_EQ(md5sums, "aab4b125bca447f96d4fe7920863a1ed  lib/x86_64-linux-gnu/libdemo.so.1\n");
  const auto& status = *by_path["/var/lib/dpkg/status.d/demo"].content;
  EXPECT_THAT(status, HasSubstr("Package: demo\nStatus: install ok installed\n"));
}

TEST(PackageLayerFilesTest, ShippingAPathTwiceAcrossTheMergeIsAnError) {
  auto files = PackageLayerFiles(Package({File("/bin/tool", "a"), File("/usr/bin/tool", "b")}),
                                 "demo", Policy(), 5000);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(files.error().message, HasSubstr("package demo: /usr/bin/tool"));
}

TEST(PackageLayerFilesTest, RecordsInThePackageDatabaseAreRefused) {
  for (auto entry : {File("/var/lib/dpkg/status.d/openssl", "Package: openssl\n"),
                     File("/var/lib/dpkg/status", "Package: x\n"),
                     Link("/var/lib/dpkg/status.d/demo.md5sums", "/dev/null")}) {
    auto files =
        PackageLayerFiles(Package({Dir("/var"), Dir("/var/lib"), Dir("/var/lib/dpkg"), entry}),
                          "demo", Policy(), 5000);
    ASSERT_FALSE(files.has_value()) << entry.path;
    EXPECT_THAT(files, FailsWith(ErrorCode::kIntegrity));
    EXPECT_EQ(files.error().message, "package demo: " + entry.path +
                                         ": the package database is hardbase's to write: refused");
  }
  auto dirs = PackageLayerFiles(
      Package({Dir("/var"), Dir("/var/lib"), Dir("/var/lib/dpkg"), Dir("/var/lib/dpkg/info")}),
      "demo", Policy(), 5000);
  EXPECT_TRUE(dirs.has_value()) << "real packages ship the directories";
}

TEST(IsShellPathTest, KnowsShellsByTheirMergedUsrPath) {
  EXPECT_TRUE(IsShellPath("/usr/bin/sh"));
  EXPECT_TRUE(IsShellPath("/usr/bin/bash"));
  EXPECT_FALSE(IsShellPath("/bin/sh")) << "callers resolve the path first";
  EXPECT_FALSE(IsShellPath("/usr/bin/shx"));
}

TEST(PackageLayerFilesTest, StripsDocumentationButKeepsEveryCopyright) {
  auto files = PackageLayerFiles(
      Package({Dir("/usr"), Dir("/usr/share"), Dir("/usr/share/doc"), Dir("/usr/share/doc/demo"),
               File("/usr/share/doc/demo/copyright", "GPL"),
               File("/usr/share/doc/demo/changelog.Debian.gz", "log"),
               Link("/usr/share/doc/demo-data", "demo"), Dir("/usr/share/man"),
               Dir("/usr/share/man/man1"), File("/usr/share/man/man1/demo.1.gz", "man"),
               Dir("/usr/share/locale"), File("/usr/share/locale/de.mo", "de"),
               File("/usr/share/demo.dat", "data")}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  for (const char* kept : {"/usr/share/doc", "/usr/share/doc/demo", "/usr/share/doc/demo/copyright",
                           "/usr/share/doc/demo-data", "/usr/share/demo.dat"}) {
    EXPECT_TRUE(by_path.count(kept)) << kept;
  }
  for (const char* gone : {"/usr/share/doc/demo/changelog.Debian.gz", "/usr/share/man",
                           "/usr/share/man/man1/demo.1.gz", "/usr/share/locale/de.mo"}) {
    EXPECT_FALSE(by_path.count(gone)) << gone;
  }
  EXPECT_EQ(files->stripped, 3u);
  EXPECT_THAT(*by_path["/var/lib/dpkg/status.d/demo.md5sums"].content, Not(HasSubstr("changelog")));
}

TEST(PackageLayerFilesTest, SpecGlobsIncludeAndExcludeAndCountTheirMatches) {
  spec::PathFilter paths;
  paths.include = {"/usr/share/locale/de*", "/nothing/**"};
  paths.exclude = {"/usr/lib/demo/plugins/**", "/lib/demo.so"};
  auto files = PackageLayerFiles(
      Package({Dir("/usr"), Dir("/usr/share"), Dir("/usr/share/locale"),
               File("/usr/share/locale/de.mo", "de"), File("/usr/share/locale/fr.mo", "fr"),
               Dir("/usr/lib"), Dir("/usr/lib/demo"), Dir("/usr/lib/demo/plugins"),
               File("/usr/lib/demo/plugins/a.so", "a"), File("/usr/lib/demo/core.so", "c"),
               Dir("/lib"), File("/lib/demo.so", "d")}),
      "demo", Policy(paths), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_TRUE(by_path.count("/usr/share/locale/de.mo"));
  EXPECT_FALSE(by_path.count("/usr/share/locale/fr.mo"));
  EXPECT_FALSE(by_path.count("/usr/lib/demo/plugins/a.so"));
  EXPECT_TRUE(by_path.count("/usr/lib/demo/core.so"));
  EXPECT_FALSE(by_path.count("/usr/lib/demo.so")) << "globs match the package's own path too";
  EXPECT_EQ(files->include_hits, (std::vector<uint64_t>{1, 0}));
  EXPECT_EQ(files->exclude_hits, (std::vector<uint64_t>{2, 1}));
}

TEST(PackageLayerFilesTest, HardensModesAndDropsShells) {
  auto files = PackageLayerFiles(
      Package({Dir("/usr"), Dir("/usr/bin"), File("/usr/bin/su", "su", 04755),
               File("/usr/bin/wall", "w", 02755), Dir("/var"), Dir("/var/tmp", 01777),
               Dir("/tmp", 01777), File("/usr/bin/open", "o", 0666), Dir("/bin"),
               File("/bin/bash", "sh", 0755), Link("/bin/sh", "bash")}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_EQ(by_path["/usr/bin/su"].mode, 0755u);
  EXPECT_EQ(by_path["/usr/bin/wall"].mode, 0755u);
  EXPECT_EQ(by_path["/var/tmp"].mode, 01777u) << "sticky and world-writable, as in Debian";
  EXPECT_EQ(by_path["/tmp"].mode, 01777u);
  EXPECT_EQ(by_path["/usr/bin/open"].mode, 0664u);
  EXPECT_FALSE(by_path.count("/usr/bin/bash"));
  EXPECT_FALSE(by_path.count("/usr/bin/sh"));
  EXPECT_EQ(files->privileges_cleared, 3u);
  // Only those directories: a world-writable file there, or another directory, is cleared.
  auto more = PackageLayerFiles(Package({Dir("/var"), Dir("/var/spool", 01777), Dir("/run"),
                                         Dir("/run/lock", 01777), File("/var/tmp", "x", 0666)}),
                                "demo", Policy(), 5000);
  ASSERT_TRUE(more.has_value()) << more.error().message;
  by_path = FilesByPath(*more);
  EXPECT_EQ(by_path["/var/spool"].mode, 0775u);
  EXPECT_EQ(by_path["/run/lock"].mode, 01777u);
  EXPECT_EQ(by_path["/var/tmp"].mode, 0664u);
}

TEST(ImagePathTest, MovesMergedUsrAndRuntimeDirectories) {
  EXPECT_EQ(ImagePath("/bin/ls"), "/usr/bin/ls");
  EXPECT_EQ(ImagePath("/var/run"), "/run");
  EXPECT_EQ(ImagePath("/var/run/redis/redis.pid"), "/run/redis/redis.pid");
  EXPECT_EQ(ImagePath("/var/lock"), "/run/lock");
  EXPECT_EQ(ImagePath("/var/lock/subsys"), "/run/lock/subsys");
  EXPECT_EQ(ImagePath("/var/running"), "/var/running");
  EXPECT_EQ(ImagePath("/var/lib/x"), "/var/lib/x");
}

TEST(PackageLayerFilesTest, WhatIsShippedUnderVarRunAndVarLockGoesToRun) {
  // As base-files ships them: /run, /var/run and /var/lock (1777) as directories.
  auto files = PackageLayerFiles(
      Package({Dir("/run"), Dir("/var"), Dir("/var/run"), Dir("/var/lock", 01777),
               Dir("/var/run/demo"), File("/var/run/demo/x", "x"), File("/var/lock/demo.lock", ""),
               Link("/var/lock/prev", "/var/run/demo/x", deb::EntryType::kHardlink)}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_FALSE(by_path.count("/var/run"));
  EXPECT_FALSE(by_path.count("/var/lock"));
  EXPECT_EQ(by_path["/run/lock"].mode, 01777u);
  EXPECT_EQ(by_path["/run/demo/x"].type, oci::LayerEntryType::kFile);
  EXPECT_EQ(by_path["/run/lock/demo.lock"].type, oci::LayerEntryType::kFile);
  EXPECT_EQ(by_path["/run/lock/prev"].link_target, "/run/demo/x");
  // md5sums name the paths as the package ships them.
  EXPECT_THAT(*by_path["/var/lib/dpkg/status.d/demo.md5sums"].content,
              HasSubstr("  var/run/demo/x\n"));
  // A package's own link at /var/run is the skeleton's.
  auto link =
      PackageLayerFiles(Package({Dir("/var"), Link("/var/run", "/run")}), "demo", Policy(), 5000);
  ASSERT_TRUE(link.has_value()) << link.error().message;
  EXPECT_FALSE(FilesByPath(*link).count("/run"));
  // One path shipped twice.
  auto twice = PackageLayerFiles(Package({Dir("/run"), File("/run/x", "a"), Dir("/var"),
                                          Dir("/var/run"), File("/var/run/x", "b")}),
                                 "demo", Policy(), 5000);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().message,
            "package demo: /var/run/x: ships /run/x twice (as /run/x too), and the image has one "
            "path for both");
}

TEST(PackageLayerFilesTest, OfLibcBinOnlyTheCUtf8LocaleAndTheCopyrightStay) {
  deb::DebContents deb = Package(
      {Dir("/sbin"), File("/sbin/ldconfig", "elf", 0755), Dir("/usr"), Dir("/usr/bin"),
       File("/usr/bin/locale", "elf", 0755), File("/usr/bin/ldd", "#!/bin/bash\n", 0755),
       Dir("/usr/lib"), Dir("/usr/lib/locale"), Dir("/usr/lib/locale/C.utf8"),
       File("/usr/lib/locale/C.utf8/LC_CTYPE", "ctype"), Dir("/usr/lib/locale/C.utf8/LC_MESSAGES"),
       File("/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES", "m"), Dir("/usr/share"),
       Dir("/usr/share/doc"), Dir("/usr/share/doc/libc-bin"),
       File("/usr/share/doc/libc-bin/copyright", "GPL"),
       File("/usr/share/doc/libc-bin/changelog.gz", "log"), Dir("/etc"),
       File("/etc/ld.so.conf", "include")});
  auto files = PackageLayerFiles(deb, "libc-bin", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  std::set<std::string> paths;
  for (const auto& e : files->entries) paths.insert(e.path);
  EXPECT_EQ(paths,
            (std::set<std::string>{
                "/usr", "/usr/lib", "/usr/lib/locale", "/usr/lib/locale/C.utf8",
                "/usr/lib/locale/C.utf8/LC_CTYPE", "/usr/lib/locale/C.utf8/LC_MESSAGES",
                "/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES", "/usr/share",
                "/usr/share/doc", "/usr/share/doc/libc-bin", "/usr/share/doc/libc-bin/copyright",
                "/var/lib/dpkg/status.d/libc-bin", "/var/lib/dpkg/status.d/libc-bin.md5sums"}));
  EXPECT_TRUE(files->facts.interpreters.empty()) << "ldd is not in the image";
  // The same files of another package all stay; the spec can add libc-bin's back.
  auto other = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(FilesByPath(*other).count("/usr/sbin/ldconfig"));
  auto included = PackageLayerFiles(deb, "libc-bin", Policy({{"/usr/bin/locale"}, {}}), 5000);
  ASSERT_TRUE(included.has_value());
  EXPECT_TRUE(FilesByPath(*included).count("/usr/bin/locale"));
  EXPECT_FALSE(FilesByPath(*included).count("/usr/sbin/ldconfig"));
  // The kept-in-part packages are part of the policy's digest (and so of layer keys).
  EXPECT_NE(Policy().Digest(), Policy({{"/usr/bin/locale"}, {}}).Digest());
}

TEST(PackageLayerFilesTest, RecordsTheInterpreterOfEveryShippedScript) {
  auto files = PackageLayerFiles(
      Package({Dir("/usr"), Dir("/usr/bin"),
               File("/usr/bin/perl-tool", "#!/usr/bin/perl -w\n", 0755),
               File("/usr/bin/py", "#! /usr/bin/env -S python3 -u\nprint()\n", 0755),
               File("/usr/bin/bare-env", "#!/usr/bin/env\n", 0755),
               File("/usr/bin/not-exec", "#!/usr/bin/perl\n", 0644),
               File("/usr/bin/relative", "#!perl\n", 0755), File("/usr/bin/elf", "\177ELF", 0755),
               Dir("/bin"), File("/bin/sh-tool", "#!/bin/sh\r\nexit 0\n", 0755), Dir("/usr/share"),
               Dir("/usr/share/doc"), Dir("/usr/share/doc/demo"),
               File("/usr/share/doc/demo/example", "#!/usr/bin/ruby\n", 0755)}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  std::map<std::string, std::string> interpreters(files->facts.interpreters.begin(),
                                                  files->facts.interpreters.end());
  EXPECT_EQ(interpreters,
            (std::map<std::string, std::string>{{"/usr/bin/perl-tool", "/usr/bin/perl"},
                                                {"/usr/bin/py", "/usr/bin/env python3"},
                                                {"/usr/bin/bare-env", "/usr/bin/env"},
                                                {"/usr/bin/sh-tool", "/bin/sh"}}));
}

TEST(PackageLayerFilesTest, AHardLinkWhoseTargetIsStrippedBecomesAFile) {
  auto files = PackageLayerFiles(
      Package({Dir("/usr"), Dir("/usr/share"), Dir("/usr/share/doc"), Dir("/usr/share/doc/demo"),
               File("/usr/share/doc/demo/NEWS", "news"), Dir("/usr/bin"),
               Link("/usr/bin/news", "/usr/share/doc/demo/NEWS", deb::EntryType::kHardlink),
               File("/usr/bin/a", "same"),
               Link("/usr/bin/b", "/usr/bin/a", deb::EntryType::kHardlink)}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_EQ(by_path["/usr/bin/news"].type, oci::LayerEntryType::kFile);
  EXPECT_EQ(*by_path["/usr/bin/news"].content, "news");
  EXPECT_EQ(by_path["/usr/bin/b"].type, oci::LayerEntryType::kHardlink);
  EXPECT_EQ(by_path["/usr/bin/b"].link_target, "/usr/bin/a");
}

TEST(PackageLayerFilesTest, ClampsTimestampsToTheBuildTime) {
  auto files = PackageLayerFiles(
      Package({Dir("/etc"), File("/etc/old", "o", 0644, 100), File("/etc/new", "n", 0644, 9000)}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = FilesByPath(*files);
  EXPECT_EQ(by_path["/etc/old"].mtime, 100);
  EXPECT_EQ(by_path["/etc/new"].mtime, 5000);
  EXPECT_EQ(by_path["/var/lib/dpkg/status.d/demo"].mtime, 5000);
}

TEST(PackageLayerFilesTest, CollectsWhatTheImageWideStepsNeed) {
  deb::DebContents deb = Package(
      {Dir("/usr"), Dir("/usr/share"), Dir("/usr/share/ca-certificates"),
       Dir("/usr/share/ca-certificates/mozilla"),
       File("/usr/share/ca-certificates/mozilla/Root.crt", "PEM"), Dir("/usr/share/base-passwd"),
       File("/usr/share/base-passwd/passwd.master", "root:*:0:0:root:/root:/bin/sh\n"),
       Dir("/usr/lib"), Dir("/usr/lib/jvm"),
       File("/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo",
            "name=java-1.17.0-openjdk-amd64\npriority=1711\nsection=main\n\n"
            "hl java /usr/lib/jvm/java-17-openjdk-amd64/bin/java\n")});
  deb.control_files["postinst"] =
      "#!/bin/sh\nupdate-alternatives --install /usr/bin/demo demo /usr/bin/demo.real 40\n";
  auto files = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  ASSERT_EQ(files->facts.ca_certificates.size(), 1u);
  EXPECT_EQ(files->facts.ca_certificates[0].name, "mozilla/Root.crt");
  EXPECT_EQ(files->facts.passwd_master, "root:*:0:0:root:/root:/bin/sh\n");
  EXPECT_FALSE(files->facts.group_master.has_value());
  ASSERT_EQ(files->facts.alternatives.size(), 2u);
  EXPECT_EQ(files->facts.alternatives[0].link, "/usr/bin/java");
  EXPECT_EQ(files->facts.alternatives[1].target, "/usr/bin/demo.real");
}

TEST(PackageLayerFilesTest, ReadsTheSetupOfSysusersTmpfilesAndThePostinst) {
  deb::DebContents deb =
      Package({Dir("/usr"), Dir("/usr/lib"), Dir("/usr/lib/sysusers.d"),
               File("/usr/lib/sysusers.d/demo.conf", "u demo - \"Demo daemon\" /var/lib/demo\n"),
               Dir("/usr/lib/tmpfiles.d"),
               File("/usr/lib/tmpfiles.d/b.conf", "d /run/demo 0755 demo demo -\n"),
               File("/usr/lib/tmpfiles.d/a.conf", "d /var/lib/demo 0750 demo demo -\n"),
               File("/usr/lib/tmpfiles.d/notes.txt", "d /ignored\n"), Dir("/etc"), Dir("/etc/demo"),
               File("/etc/demo/demo.conf", "secret=1\n"), File("/etc/demo/other.conf", "x\n")});
  deb.control_files["postinst"] =
      "#!/bin/sh\nset -e\nchmod 0640 /etc/demo/demo.conf\nfrobnicate --all /var/lib/demo\n";
  deb.control_files["preinst"] =
      "#!/bin/sh\ncase \"$1\" in\n  install) addgroup --system demo-admins ;;\nesac\n";
  auto files = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  const auto& setup = files->facts.setup;
  std::vector<std::string> origins;
  for (const auto& a : setup) origins.push_back(a.origin);
  // As a fresh install goes: `preinst install`, sysusers.d, tmpfiles.d in name order, then
  // `postinst configure`.
  ASSERT_GE(origins.size(), 2u);
  EXPECT_EQ(origins[0], "demo: preinst:3");
  EXPECT_EQ(setup[0].name, "demo-admins");
  EXPECT_EQ(origins[1], "demo: /usr/lib/sysusers.d/demo.conf:1");
  auto first_of = [&](std::string_view prefix) {
    return std::find_if(origins.begin(), origins.end(),
                        [&](const std::string& o) { return o.starts_with(prefix); }) -
           origins.begin();
  };
  EXPECT_LT(first_of("demo: /usr/lib/tmpfiles.d/a.conf"),
            first_of("demo: /usr/lib/tmpfiles.d/b.conf"));
  EXPECT_LT(first_of("demo: /usr/lib/tmpfiles.d/b.conf"), first_of("demo: postinst"));
  EXPECT_EQ(static_cast<size_t>(first_of("/usr/lib/tmpfiles.d/notes.txt")), origins.size());
  ASSERT_GE(setup.size(), 3u);
  EXPECT_EQ(setup[1].kind, SetupAction::Kind::kGroup);  // a group of the user's own name
  EXPECT_EQ(setup[2].kind, SetupAction::Kind::kUser);
  EXPECT_EQ(setup[2].name, "demo");
  EXPECT_EQ(setup.back().kind, SetupAction::Kind::kChmod);
  EXPECT_EQ(setup.back().origin, "demo: postinst:3");
  ASSERT_EQ(files->facts.not_applied.size(), 1u);
  EXPECT_EQ(files->facts.not_applied[0].origin, "demo: postinst:4");
  EXPECT_THAT(files->facts.not_applied[0].text, HasSubstr("frobnicate"));
  // The content of the file whose mode it changes is kept for the top layer; no other.
  EXPECT_EQ(files->facts.setup_files,
            (std::map<std::string, std::string>{{"/etc/demo/demo.conf", "secret=1\n"}}));
}

// What base-passwd's, libc-bin's, ... scripts set up, the image gets otherwise: they are not read,
// so they give neither actions nor warnings. Their sysusers.d and tmpfiles.d files still are.
TEST(PackageLayerFilesTest, TheScriptsOfPackagesHardbaseEmulatesAreNotRead) {
  deb::DebContents deb =
      Package({Dir("/usr"), Dir("/usr/lib"), Dir("/usr/lib/tmpfiles.d"),
               File("/usr/lib/tmpfiles.d/x.conf", "d /run/x 0755 root root -\n")});
  deb.control_files["postinst"] = "#!/bin/sh\ncp /usr/share/x /etc/x\nfrobnicate\n";
  deb.control_files["preinst"] = "#!/bin/sh\nfrobnicate\n";
  for (std::string_view package : {"base-passwd", "libc-bin", "tzdata", "netbase"}) {
    auto files = PackageLayerFiles(deb, package, Policy(), 5000);
    ASSERT_TRUE(files.has_value()) << files.error().message;
    EXPECT_TRUE(files->facts.not_applied.empty()) << package;
    ASSERT_FALSE(files->facts.setup.empty()) << package;
    for (const auto& a : files->facts.setup) {
      EXPECT_THAT(a.origin, HasSubstr("tmpfiles.d")) << package;
    }
  }
  auto other = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->facts.not_applied.size(), 2u);
}

TEST(PackageLayerFilesTest, APackageWithoutControlIsRefused) {
  deb::DebContents deb;
  deb.data = {Dir("/etc")};
  auto files = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files.error().message, HasSubstr("package demo: no control file"));
}

}  // namespace
}  // namespace hardbase::image
