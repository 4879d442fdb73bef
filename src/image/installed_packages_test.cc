#include "image/installed_packages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(IsPackageDatabasePathTest, TakesTheStatusFileAndStanzaFilesOnly) {
  for (std::string_view path :
       {"var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6", "var/lib/dpkg/status.d/base-files"}) {
    EXPECT_TRUE(IsPackageDatabasePath(path)) << path;
  }
  for (std::string_view path :
       {"var/lib/dpkg/status-old", "var/lib/dpkg/status.d", "var/lib/dpkg/status.d/",
        "var/lib/dpkg/status.d/libc6.md5sums", "var/lib/dpkg/status.d/.hidden",
        "var/lib/dpkg/status.d/sub/libc6", "var/lib/dpkg/status.dx/libc6", "/var/lib/dpkg/status",
        "var/lib/dpkg/available"}) {
    EXPECT_FALSE(IsPackageDatabasePath(path)) << path;
  }
}

const std::map<std::string, std::string> kBoth = {
    {"var/lib/dpkg/status",
     "Package: removed\nStatus: deinstall ok config-files\nVersion: 1\n\n"
     "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\nArchitecture: amd64\n"
     "Source: zlib\n\n"
     "Package: half\nStatus: install ok half-installed\nVersion: 2\n"},
    {"var/lib/dpkg/status.d/base-files",
     "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n"},
};

TEST(PackagesFromDatabaseTest, ReadsInstalledPackagesOfBothLayoutsSorted) {
  auto packages = PackagesFromDatabase(kBoth);
  ASSERT_TRUE(packages.has_value()) << packages.error().message;
  ASSERT_EQ(packages->size(), 2u);
  EXPECT_EQ((*packages)[0].name, "base-files");
  EXPECT_EQ((*packages)[1].name, "zlib1g");
  EXPECT_EQ((*packages)[1].source, "zlib");
  EXPECT_EQ(PackageDatabaseName(kBoth), "var/lib/dpkg/status + var/lib/dpkg/status.d");
  EXPECT_EQ(PackageDatabaseName({{"var/lib/dpkg/status", ""}}), "var/lib/dpkg/status");
  EXPECT_EQ(PackageDatabaseName({{"var/lib/dpkg/status.d/x", ""}}), "var/lib/dpkg/status.d");
  EXPECT_EQ(PackageDatabaseName({{"etc/os-release", ""}}), "");
}

TEST(PackagesFromDatabaseTest, NamesTheFileOfABrokenStanza) {
  auto bad = PackagesFromDatabase({{"var/lib/dpkg/status.d/broken", "Package: broken\n"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(bad.error().message, HasSubstr("var/lib/dpkg/status.d/broken"));
  EXPECT_THAT(bad.error().message, HasSubstr("no Package or Version"));
}

TEST(InstalledStanzasTest, GivesTheInstalledStanzasWhole) {
  auto stanzas = InstalledStanzas(kBoth);
  ASSERT_TRUE(stanzas.has_value()) << stanzas.error().message;
  EXPECT_THAT(*stanzas, ElementsAre("Package: zlib1g\nStatus: install ok installed\n"
                                    "Version: 1:1.2.13\nArchitecture: amd64\nSource: zlib\n",
                                    "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n"));
}

}  // namespace
}  // namespace hardbase::image
