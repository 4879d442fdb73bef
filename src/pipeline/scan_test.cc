#include "pipeline/scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

vuln::Finding MakeFinding(std::string id, std::string package, vuln::Severity severity,
                          vuln::FixStatus status) {
  vuln::Finding f;
  f.id = std::move(id);
  f.package = std::move(package);
  f.severity = severity;
  f.status = status;
  return f;
}

vuln::Report SampleReport() {
  vuln::Report report;
  report.image = "oci:img";
  auto& findings = report.match.findings;
  findings.push_back(
      MakeFinding("CVE-1", "libssl3", vuln::Severity::kHigh, vuln::FixStatus::kUnfixed));
  findings.push_back(
      MakeFinding("CVE-2", "zlib1g", vuln::Severity::kMedium, vuln::FixStatus::kFixable));
  findings.push_back(
      MakeFinding("CVE-3", "libc6", vuln::Severity::kCritical, vuln::FixStatus::kFixable));
  findings.back().suppressed = true;  // by VEX
  findings.push_back(
      MakeFinding("CVE-4", "linux-libc-dev", vuln::Severity::kCritical, vuln::FixStatus::kFixable));
  findings.back().kernel_headers = true;
  return report;
}

TEST(CheckScanGateTest, AGateThatAsksForNothingPasses) {
  EXPECT_TRUE(CheckScanGate(SampleReport(), {}).has_value());
}

TEST(CheckScanGateTest, CountsFindingsAtOrAboveTheThreshold) {
  auto high = CheckScanGate(SampleReport(), {vuln::Severity::kHigh, false});
  ASSERT_FALSE(high.has_value());
  EXPECT_THAT(high, FailsWith(ErrorCode::kVulnerable));
  // Suppressed and kernel-header findings do not count, however severe.
  EXPECT_EQ(high.error().message,
            "scan oci:img: 1 high or worse finding (first: CVE-1 in libssl3)");

  auto medium = CheckScanGate(SampleReport(), {vuln::Severity::kMedium, false});
  ASSERT_FALSE(medium.has_value());
  EXPECT_THAT(medium.error().message, HasSubstr(": 2 medium or worse findings (first: CVE-1"));

  EXPECT_TRUE(CheckScanGate(SampleReport(), {vuln::Severity::kCritical, false}).has_value());
}

TEST(CheckScanGateTest, FixableOnlyCountsFindingsWithAFix) {
  auto fixable = CheckScanGate(SampleReport(), {std::nullopt, true});
  ASSERT_FALSE(fixable.has_value());
  EXPECT_EQ(fixable.error().message, "scan oci:img: 1 fixable finding (first: CVE-2 in zlib1g)");
  auto both = CheckScanGate(SampleReport(), {vuln::Severity::kMedium, true});
  ASSERT_FALSE(both.has_value());
  EXPECT_THAT(both.error().message, HasSubstr("1 fixable medium or worse finding"));
  EXPECT_TRUE(CheckScanGate(SampleReport(), {vuln::Severity::kHigh, true}).has_value());
}

TEST(LockReleaseTest, TakesTheReleaseOfAKnownCodename) {
  spec::Lock lock;
  EXPECT_EQ(LockRelease(lock), std::nullopt);
  lock.releases.push_back({"Third party", "stable", "nosuchcodename", "", {}});
  EXPECT_EQ(LockRelease(lock), std::nullopt);
  lock.releases.push_back({"Debian", "bookworm", "bookworm", "", {}});
  EXPECT_EQ(LockRelease(lock), "12");
  lock.releases.push_back({"Debian", "bookworm-updates", "bookworm-updates", "", {}});
  EXPECT_EQ(LockRelease(lock), "12");  // not a codename of a release: the last known one stays
  lock.releases.push_back({"Debian", "trixie", "trixie", "", {}});
  EXPECT_EQ(LockRelease(lock), "13");
}

}  // namespace
}  // namespace hardbase::pipeline
