#include "image/package_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace hardbase::image {
namespace {

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

std::map<std::string, oci::LayerEntry> ByPath(const PackageFiles& files) {
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
}

TEST(PackageLayerFilesTest, MergesUsrAndRecordsThePackagesOwnPaths) {
  auto files = PackageLayerFiles(
      Package({Dir("/lib"), Dir("/lib/x86_64-linux-gnu"),
               File("/lib/x86_64-linux-gnu/libdemo.so.1", "elf", 0644), Dir("/usr"),
               Dir("/usr/lib"), Link("/usr/lib/libdemo.so", "/lib/x86_64-linux-gnu/libdemo.so.1")}),
      "demo", Policy(), 5000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  auto by_path = ByPath(*files);
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
  EXPECT_EQ(files.error().code, ErrorCode::kIntegrity);
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
    EXPECT_EQ(files.error().code, ErrorCode::kIntegrity);
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
  auto by_path = ByPath(*files);
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
  auto by_path = ByPath(*files);
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
  auto by_path = ByPath(*files);
  EXPECT_EQ(by_path["/usr/bin/su"].mode, 0755u);
  EXPECT_EQ(by_path["/usr/bin/wall"].mode, 0755u);
  EXPECT_EQ(by_path["/var/tmp"].mode, 0775u);
  EXPECT_EQ(by_path["/tmp"].mode, 01777u);
  EXPECT_EQ(by_path["/usr/bin/open"].mode, 0664u);
  EXPECT_FALSE(by_path.count("/usr/bin/bash"));
  EXPECT_FALSE(by_path.count("/usr/bin/sh"));
  EXPECT_EQ(files->privileges_cleared, 4u);
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
  auto by_path = ByPath(*files);
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
  auto by_path = ByPath(*files);
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

TEST(PackageLayerFilesTest, APackageWithoutControlIsRefused) {
  deb::DebContents deb;
  deb.data = {Dir("/etc")};
  auto files = PackageLayerFiles(deb, "demo", Policy(), 5000);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files.error().message, HasSubstr("package demo: no control file"));
}

}  // namespace
}  // namespace hardbase::image
