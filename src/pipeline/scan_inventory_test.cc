// The scan flow on an image hardbase built: ReadInventory reads its package database back from the
// layout, ScanInventory matches it against a small database made here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/fs.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/fake_repository_test_support.h"
#include "pipeline/inventory.h"
#include "pipeline/lock_pipeline.h"
#include "pipeline/scan.h"
#include "support/result_matchers.h"
#include "vuln/database.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ScanInventoryTest : public FakeRepositoryTest {
 protected:
  // An image of libfoo1 (source foo 1.0-1), libbar1 (source bar 2.0-1) and an os-release saying
  // Debian 12 (BuildDebian12Image), in Work()/image.
  void BuildSmallImage() {
    digest_ = BuildDebian12Image(Layout());
    ASSERT_FALSE(HasFailure());
  }
  std::string Layout() const { return Work() + "/image"; }

  // foo 1.0-1 is affected by one fixed and one unfixed CVE; bar 2.0-1 is the version that fixed
  // its CVE; baz is not installed; a Debian 11 entry for foo does not apply to a Debian 12 image.
  static vuln::Database SmallDatabase() {
    vuln::Metadata metadata;
    metadata.format_version = vuln::kDatabaseFormatVersion;
    metadata.source = "osv:test";
    metadata.data_date = "2023-11-15T00:00:00Z";
    metadata.records = 5;
    auto entry = [](std::string release, std::string source, std::string id, std::string fixed,
                    std::string urgency) {
      vuln::Entry e;
      e.release = std::move(release);
      e.source = std::move(source);
      e.id = std::move(id);
      e.introduced = "0";
      e.fixed = std::move(fixed);
      e.urgency = std::move(urgency);
      return e;
    };
    std::vector<vuln::Entry> entries = {
        entry("12", "foo", "CVE-2099-0001", "1.1-1", "high"),
        entry("12", "foo", "CVE-2099-0002", "", "unimportant"),
        entry("12", "bar", "CVE-2099-0003", "2.0-1", "high"),
        entry("12", "baz", "CVE-2099-0004", "", "high"),
        entry("11", "foo", "CVE-2099-0005", "", "high"),
    };
    std::vector<vuln::Vulnerability> vulnerabilities;
    for (const vuln::Entry& e : entries) {
      vulnerabilities.push_back({e.id, e.id + " in " + e.source, "", -1, "", ""});
    }
    return vuln::Database::Make(metadata, std::move(entries), std::move(vulnerabilities));
  }

  std::string digest_;
};

TEST_F(ScanInventoryTest, ReadsTheBuiltImagesPackagesAndFindsTheVulnerableOne) {
  BuildSmallImage();
  ASSERT_FALSE(HasFatalFailure());
  const std::string ref = "oci:" + Layout() + ":test";
  auto inventory = ReadInventory(ref, {});
  ASSERT_TRUE(inventory.has_value()) << inventory.error().message;
  EXPECT_EQ(inventory->reference, ref);
  EXPECT_EQ(inventory->digest, digest_);
  EXPECT_EQ(inventory->architecture, "amd64");
  EXPECT_EQ(inventory->created, "2023-11-14T22:13:20Z") << "the lock's timestamp";
  EXPECT_EQ(inventory->package_database, "var/lib/dpkg/status.d");
  EXPECT_THAT(inventory->os_release, HasSubstr("VERSION_ID=\"12\""));
  std::vector<std::string> names;
  for (const auto& p : inventory->packages) names.push_back(p.name);
  EXPECT_THAT(names, ElementsAre("base-files", "libbar1", "libfoo1"));
  auto libfoo = std::find_if(inventory->packages.begin(), inventory->packages.end(),
                             [](const auto& p) { return p.name == "libfoo1"; });
  ASSERT_NE(libfoo, inventory->packages.end());
  EXPECT_EQ(libfoo->version, "1.0-1");
  EXPECT_EQ(libfoo->source, "foo");
  EXPECT_EQ(libfoo->source_version, "1.0-1");

  // The release comes from the image's os-release.
  auto report = ScanInventory(*inventory, SmallDatabase(), "", {});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->release, "12");
  EXPECT_EQ(report->image_digest, digest_);
  std::vector<std::string> found;
  for (const vuln::Finding& f : report->match.findings) found.push_back(f.id + " " + f.package);
  EXPECT_THAT(found, ElementsAre("CVE-2099-0001 libfoo1", "CVE-2099-0002 libfoo1"))
      << "bar 2.0-1 has its fix, baz is not installed, CVE-2099-0005 is Debian 11's";
  ASSERT_EQ(report->match.findings.size(), 2u);
  const vuln::Finding& fixable = report->match.findings[0];
  EXPECT_EQ(fixable.status, vuln::FixStatus::kFixable);
  EXPECT_EQ(fixable.fixed_version, "1.1-1");
  EXPECT_EQ(fixable.source, "foo");
  EXPECT_EQ(fixable.version, "1.0-1");
  EXPECT_EQ(report->match.findings[1].status, vuln::FixStatus::kUnfixed);
}

// An image without a package database is not reported clean: nothing could be matched.
TEST_F(ScanInventoryTest, AnImageWithoutAPackageDatabaseIsNotClean) {
  std::string root = Work() + "/rootfs";
  ASSERT_TRUE(MakeDirs(root + "/etc").has_value());
  ASSERT_TRUE(WriteFileAtomic(root + "/etc/os-release", "ID=debian\nVERSION_ID=12\n").has_value());
  auto inventory = ReadInventory("dir:" + root, {});
  ASSERT_TRUE(inventory.has_value()) << inventory.error().message;
  EXPECT_TRUE(inventory->packages.empty());
  EXPECT_THAT(ScanInventory(*inventory, SmallDatabase(), "", {}),
              FailsWith(ErrorCode::kNotFound, HasSubstr("no package database")));
}

}  // namespace
}  // namespace hardbase::pipeline
