#include "vuln/match.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hardbase::vuln {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Entry EntryFor(std::string source, std::string id, std::string fixed, std::string introduced = "0",
               std::string urgency = "", std::string release = "12") {
  return Entry{std::move(release),
               std::move(source),
               std::move(id),
               std::move(introduced),
               std::move(fixed),
               std::move(urgency),
               {}};
}

InstalledPackage Package(std::string name, std::string version, std::string source = "",
                         std::string source_version = "") {
  InstalledPackage p{std::move(name), std::move(version), "amd64", std::move(source),
                     std::move(source_version)};
  if (p.source.empty()) p.source = p.name;
  if (p.source_version.empty()) p.source_version = p.version;
  return p;
}

// "package id" of each finding, in order.
std::vector<std::string> Keys(const MatchResult& result) {
  std::vector<std::string> keys;
  for (const Finding& f : result.findings) keys.push_back(f.package + " " + f.id);
  return keys;
}

TEST(MatchTest, JoinsBinariesOnTheirSourcePackageAndVersion) {
  Entry glibc = EntryFor("glibc", "CVE-2024-2961", "2.36-9+deb12u7", "0", "high");
  glibc.advisories = {"DSA-5673-1"};
  Database db =
      Database::Make({}, {glibc},
                     {Vulnerability{"CVE-2024-2961", "iconv overflow",
                                    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1, "", ""}});
  // The binary's own name and version differ from its source's.
  MatchResult result =
      Match(db, "12", {Package("libc6", "2.36-9+deb12u4+b1", "glibc", "2.36-9+deb12u4")});
  ASSERT_EQ(result.findings.size(), 1u);
  const Finding& f = result.findings[0];
  EXPECT_EQ(f.id, "CVE-2024-2961");
  EXPECT_THAT(f.advisories, ElementsAre("DSA-5673-1"));
  EXPECT_EQ(f.package, "libc6");
  EXPECT_EQ(f.version, "2.36-9+deb12u4+b1");
  EXPECT_EQ(f.architecture, "amd64");
  EXPECT_EQ(f.source, "glibc");
  EXPECT_EQ(f.source_version, "2.36-9+deb12u4");
  EXPECT_EQ(f.fixed_version, "2.36-9+deb12u7");
  EXPECT_EQ(f.status, FixStatus::kFixable);
  EXPECT_EQ(FixStatusName(f.status), "fixable");
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.severity_source, "debian");
  EXPECT_EQ(f.urgency, "high");
  EXPECT_DOUBLE_EQ(f.cvss_score, 8.1);
  EXPECT_EQ(f.cvss_vector, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_EQ(f.summary, "iconv overflow");
  EXPECT_FALSE(f.kernel_headers);
  EXPECT_FALSE(f.suppressed);
  EXPECT_THAT(result.unmatched, IsEmpty());

  // Matching on the binary's name or version would miss or mismatch it.
  EXPECT_THAT(Match(db, "12", {Package("libc6", "2.36-9+deb12u7")}).findings, IsEmpty());
  EXPECT_THAT(
      Match(db, "12", {Package("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7")}).findings,
      IsEmpty());
  // Another release's data does not apply.
  EXPECT_THAT(Match(db, "11", {Package("libc6", "2.36-9", "glibc", "2.36-9")}).findings, IsEmpty());
}

TEST(MatchTest, ComparesWithDpkgOrdering) {
  Database db =
      Database::Make({},
                     {EntryFor("epoch", "CVE-1", "1:2.0"), EntryFor("tilde", "CVE-2", "1.0"),
                      EntryFor("revision", "CVE-3", "1.2-10")},
                     {});
  auto affected = [&](std::string source, std::string version) {
    return !Match(db, "12", {Package(source, version)}).findings.empty();
  };
  EXPECT_TRUE(affected("epoch", "2.1"));  // epoch 0 sorts before any 1:
  EXPECT_TRUE(affected("epoch", "1:1.9"));
  EXPECT_FALSE(affected("epoch", "1:2.0"));
  EXPECT_FALSE(affected("epoch", "2:0.1"));
  EXPECT_TRUE(affected("tilde", "1.0~rc1"));  // ~ sorts before the release
  EXPECT_FALSE(affected("tilde", "1.0"));
  EXPECT_FALSE(affected("tilde", "1.0+deb12u1"));
  EXPECT_TRUE(affected("revision", "1.2-9"));  // numerically, not as text
  EXPECT_FALSE(affected("revision", "1.2-10"));
  EXPECT_FALSE(affected("revision", "1.2-11"));
}

TEST(MatchTest, IntroducedBoundsTheAffectedRange) {
  Database db = Database::Make({}, {EntryFor("pkg", "CVE-1", "3.0", "2.0")}, {});
  auto affected = [&](std::string version) {
    return !Match(db, "12", {Package("pkg", version)}).findings.empty();
  };
  EXPECT_FALSE(affected("1.9"));
  EXPECT_FALSE(affected("2.0~beta"));
  EXPECT_TRUE(affected("2.0"));
  EXPECT_TRUE(affected("2.5-1"));
  EXPECT_FALSE(affected("3.0"));
  // Two ranges of one id: a version between them is not affected, one in both reported once.
  Database ranges = Database::Make(
      {}, {EntryFor("pkg", "CVE-1", "1.0", "0"), EntryFor("pkg", "CVE-1", "3.0", "2.0")}, {});
  EXPECT_TRUE(Match(ranges, "12", {Package("pkg", "2.1")}).findings.size() == 1u);
  EXPECT_TRUE(Match(ranges, "12", {Package("pkg", "1.5")}).findings.empty());
  Database overlapping = Database::Make(
      {}, {EntryFor("pkg", "CVE-1", "", "0"), EntryFor("pkg", "CVE-1", "3.0", "2.0")}, {});
  EXPECT_EQ(Match(overlapping, "12", {Package("pkg", "2.1")}).findings.size(), 1u);
  // "0" means every version, however small.
  Database all = Database::Make({}, {EntryFor("pkg", "CVE-1", "3.0", "0")}, {});
  EXPECT_EQ(Match(all, "12", {Package("pkg", "0~~")}).findings.size(), 1u);
}

TEST(MatchTest, UnfixedEntriesAffectEveryVersionFromIntroducedOn) {
  Database db = Database::Make(
      {}, {EntryFor("pkg", "CVE-1", "", "0", "unimportant"), EntryFor("pkg", "CVE-2", "", "5.0")},
      {});
  MatchResult result = Match(db, "12", {Package("pkg", "99:9.9")});
  ASSERT_THAT(Keys(result), ElementsAre("pkg CVE-1", "pkg CVE-2"));
  const Finding& f = result.findings[0];
  EXPECT_EQ(f.status, FixStatus::kUnfixed);
  EXPECT_EQ(FixStatusName(f.status), "unfixed");
  EXPECT_EQ(f.fixed_version, "");
  EXPECT_EQ(f.severity, Severity::kNegligible);
  EXPECT_EQ(Keys(Match(db, "12", {Package("pkg", "4.9")})), std::vector<std::string>{"pkg CVE-1"});
}

TEST(MatchTest, SeverityFromUrgencyThenCvssThenUnknown) {
  Database db = Database::Make(
      {},
      {EntryFor("pkg", "CVE-1", "", "0", "low**"),
       EntryFor("pkg", "CVE-2", "", "0", "not yet assigned"), EntryFor("pkg", "CVE-3", "", "0", ""),
       EntryFor("pkg", "CVE-4", "", "0", "unimportant")},
      {Vulnerability{"CVE-1", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "", ""},
       Vulnerability{"CVE-2", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "", ""},
       Vulnerability{"CVE-3", "no score", "", -1, "", ""},
       Vulnerability{"CVE-4", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "", ""}});
  MatchResult result = Match(db, "12", {Package("pkg", "1.0")});
  ASSERT_EQ(result.findings.size(), 4u);
  EXPECT_EQ(result.findings[0].severity, Severity::kLow);  // Debian's word over the CVSS 9.8
  EXPECT_EQ(result.findings[0].severity_source, "debian");
  EXPECT_EQ(result.findings[1].severity, Severity::kCritical);
  EXPECT_EQ(result.findings[1].severity_source, "cvss");
  EXPECT_EQ(result.findings[2].severity, Severity::kUnknown);
  EXPECT_EQ(result.findings[2].severity_source, "");
  EXPECT_EQ(result.findings[2].summary, "no score");
  EXPECT_EQ(result.findings[3].severity, Severity::kNegligible);
  EXPECT_EQ(result.findings[3].severity_source, "debian");
}

TEST(MatchTest, UnparseableVersionsAreReportedNotMatched) {
  Database db = Database::Make({}, {EntryFor("pkg", "CVE-1", ""), EntryFor("ok", "CVE-2", "")}, {});
  MatchResult result =
      Match(db, "12",
            {Package("pkg", "x:1.0"), Package("bin", "1.0", "pkg", "a.0"), Package("ok", "1.0")});
  EXPECT_THAT(Keys(result), ElementsAre("ok CVE-2"));
  ASSERT_EQ(result.unmatched.size(), 2u);
  EXPECT_THAT(result.unmatched[0], HasSubstr("pkg x:1.0: "));
  EXPECT_THAT(result.unmatched[1], HasSubstr("bin a.0: "));
}

TEST(MatchTest, KernelHeadersAreFlagged) {
  Database db = Database::Make({}, {EntryFor("linux", "CVE-2024-1086", "6.1.76-1")}, {});
  MatchResult result =
      Match(db, "12",
            {Package("linux-libc-dev", "6.1.69-1", "linux", "6.1.69-1"),
             Package("linux-headers-6.1.0-17-amd64", "6.1.69-1", "linux", "6.1.69-1"),
             Package("linux-kbuild-6.1", "6.1.69-1", "linux", "6.1.69-1")});
  ASSERT_THAT(Keys(result),
              ElementsAre("linux-headers-6.1.0-17-amd64 CVE-2024-1086",
                          "linux-kbuild-6.1 CVE-2024-1086", "linux-libc-dev CVE-2024-1086"));
  EXPECT_TRUE(result.findings[0].kernel_headers);
  EXPECT_FALSE(result.findings[1].kernel_headers);
  EXPECT_TRUE(result.findings[2].kernel_headers);
  EXPECT_TRUE(IsKernelHeaders("linux-headers-amd64"));
  EXPECT_FALSE(IsKernelHeaders("linux-image-amd64"));
  EXPECT_FALSE(IsKernelHeaders("linux-libc-dev-arm64-cross"));
}

TEST(MatchTest, EveryBinaryOfASourceGetsItsFindingsSortedByPackageAndId) {
  Database db = Database::Make({},
                               {EntryFor("glibc", "CVE-2024-33599", "2.36-9+deb12u7"),
                                EntryFor("glibc", "CVE-2024-2961", "2.36-9+deb12u7"),
                                EntryFor("zlib", "CVE-2023-45853", "")},
                               {});
  MatchResult result = Match(db, "12",
                             {Package("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
                              Package("libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
                              Package("libc-bin", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4")});
  EXPECT_THAT(Keys(result),
              ElementsAre("libc-bin CVE-2024-2961", "libc-bin CVE-2024-33599",
                          "libc6 CVE-2024-2961", "libc6 CVE-2024-33599", "zlib1g CVE-2023-45853"));
}

}  // namespace
}  // namespace hardbase::vuln
