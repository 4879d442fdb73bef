#include "vuln/osv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A CVE record as osv.dev exports Debian's: three Debian releases, an Alpine entry, a GIT-only
// entry with an empty package, and a CVSS 3.1 vector.
constexpr std::string_view kCveRecord = R"({
  "schema_version": "1.6.0",
  "id": "CVE-2024-2961",
  "modified": "2025-01-14T12:15:36.976360Z",
  "published": "2024-04-17T18:15:15Z",
  "related": ["DSA-5673-1", "DLA-3807-1", "USN-6737-1", "RHSA-2024:2722"],
  "aliases": ["GHSA-xxxx-yyyy-zzzz", "CVE-2024-9999"],
  "details": "The iconv() function in the GNU C Library versions 2.39 and older may overflow.\nSecond line.",
  "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
               {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [
    {"package": {"ecosystem": "Debian:11", "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31-13+deb11u9"}]}],
     "ecosystem_specific": {"urgency": "high"}},
    {"package": {"ecosystem": "Debian:12", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u6"}]}],
     "versions": ["2.36-9", "2.36-9+deb12u1"],
     "ecosystem_specific": {"urgency": "not yet assigned"}},
    {"package": {"ecosystem": "Debian:13", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
    {"package": {"ecosystem": "Alpine:v3.19", "name": "musl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.4-r3"}]}]},
    {"package": {},
     "ranges": [{"type": "GIT", "repo": "https://example.org/glibc.git",
                 "events": [{"introduced": "abc"}, {"fixed": "def"}, {"limit": "fff"}]}]}
  ]
})";

TEST(OsvTest, CveRecordWithSeveralReleases) {
  auto record = ParseOsvRecord(kCveRecord, "CVE-2024-2961.json");
  ASSERT_TRUE(record) << record.error().message;
  const Vulnerability& v = record->vulnerability;
  EXPECT_EQ(v.id, "CVE-2024-2961");
  EXPECT_EQ(v.summary,
            "The iconv() function in the GNU C Library versions 2.39 and older may overflow.");
  EXPECT_EQ(v.cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_DOUBLE_EQ(v.cvss_score, 9.8);
  EXPECT_EQ(v.modified, "2025-01-14T12:15:36.976360Z");
  EXPECT_EQ(v.published, "2024-04-17T18:15:15Z");
  EXPECT_THAT(record->related, ElementsAre("CVE-2024-9999", "DLA-3807-1", "DSA-5673-1"));

  ASSERT_EQ(record->entries.size(), 3u);  // Alpine and the GIT-only entry are ignored
  const Entry& e11 = record->entries[0];
  EXPECT_EQ(e11.release, "11");
  EXPECT_EQ(e11.source, "glibc");
  EXPECT_EQ(e11.id, "CVE-2024-2961");
  EXPECT_EQ(e11.introduced, "0");
  EXPECT_EQ(e11.fixed, "2.31-13+deb11u9");
  EXPECT_EQ(e11.urgency, "high");
  EXPECT_EQ(record->entries[1].release, "12");
  EXPECT_EQ(record->entries[1].fixed, "2.36-9+deb12u6");
  EXPECT_EQ(record->entries[1].urgency, "");  // "not yet assigned" is stored as none
  EXPECT_EQ(record->entries[2].release, "13");
  EXPECT_EQ(record->entries[2].fixed, "");  // no fix yet
  EXPECT_EQ(record->entries[2].urgency, "");
  EXPECT_EQ(record->skipped, 0);
}

TEST(OsvTest, SeveralIntroducedFixedPairsGiveOneEntryEach) {
  auto record = ParseOsvRecord(R"({"id": "CVE-2020-1", "affected": [
    {"package": {"ecosystem": "Debian:6.0", "name": "foo"},
     "ranges": [{"type": "ECOSYSTEM", "events": [
       {"introduced": "0"}, {"fixed": "1.0-1"}, {"introduced": "2.0-1"}, {"fixed": "2.0-3"},
       {"introduced": "3:4.0"}]}]}]})",
                               "x.json");
  ASSERT_TRUE(record) << record.error().message;
  ASSERT_EQ(record->entries.size(), 3u);
  EXPECT_EQ(record->entries[0].release, "6.0");
  EXPECT_EQ(record->entries[0].introduced, "0");
  EXPECT_EQ(record->entries[0].fixed, "1.0-1");
  EXPECT_EQ(record->entries[1].introduced, "2.0-1");
  EXPECT_EQ(record->entries[1].fixed, "2.0-3");
  EXPECT_EQ(record->entries[2].introduced, "3:4.0");
  EXPECT_EQ(record->entries[2].fixed, "");
}

TEST(OsvTest, UnparseableVersionIsSkippedAndCounted) {
  auto record = ParseOsvRecord(R"({"id": "DSA-123-1", "affected": [
    {"package": {"ecosystem": "Debian:3.0", "name": "kernel-image-2.4.17-ia64"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                  {"fixed": "kernel-image-2.4.17-ia64"}]}]},
    {"package": {"ecosystem": "Debian:3.0", "name": "bar"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2-3"}]}]},
    {"package": {"ecosystem": "Debian:3.0", "name": "baz"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.0"}]}]}
  ]})",
                               "DSA-123-1.json");
  ASSERT_TRUE(record) << record.error().message;
  ASSERT_EQ(record->entries.size(), 1u);
  EXPECT_EQ(record->entries[0].source, "bar");
  EXPECT_EQ(record->skipped, 2);
  EXPECT_THAT(
      record->skipped_examples,
      ElementsAre("DSA-123-1 kernel-image-2.4.17-ia64: bad version 'kernel-image-2.4.17-ia64'",
                  "DSA-123-1 baz: last_affected '1.0' is not supported"));
}

TEST(OsvTest, SummaryIsOneShortLine) {
  auto record = ParseOsvRecord(
      R"({"id": "DSA-1-1", "summary": "  glibc -\tsecurity\nupdate ", "details": "ignored"})", "a");
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->vulnerability.summary, "glibc - security update");
  EXPECT_THAT(record->entries, IsEmpty());
  EXPECT_EQ(record->vulnerability.cvss_score, -1);

  std::string long_text(300, 'a');
  EXPECT_EQ(SummaryLine(long_text).size(), 200u);
  EXPECT_EQ(SummaryLine(long_text).substr(197), "...");
  EXPECT_EQ(SummaryLine(""), "");
  EXPECT_EQ(SummaryLine("\n  A flaw was found in\n  libfoo, wrapped. Second sentence."),
            "A flaw was found in libfoo, wrapped.");
  EXPECT_EQ(SummaryLine("Version 1.2.3 is affected\n\nPoC: see e.g. the report"),
            "Version 1.2.3 is affected");
  // Cut at a character boundary: 'é' is two bytes.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xc3\xa9";
  std::string cut = SummaryLine(accents);
  EXPECT_LE(cut.size(), 200u);
  EXPECT_EQ(cut.size() % 2, 1u);  // 98 whole characters and "..."
}

TEST(OsvTest, InvalidCvssScoresMinusOne) {
  auto record = ParseOsvRecord(
      R"({"id": "CVE-1", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}]})", "a");
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->vulnerability.cvss_vector, "CVSS:3.1/AV:N");
  EXPECT_EQ(record->vulnerability.cvss_score, -1);
}

TEST(OsvTest, NotOsvInputFailsNamingTheInput) {
  struct Case {
    std::string_view json;
    std::string_view message;
  };
  for (const Case& c : {
           Case{"", "f.json: not valid JSON"},
           Case{"{\"id\": \"CVE-1\"", "f.json: not valid JSON"},
           Case{"[1, 2]", "f.json: not an OSV record (not an object)"},
           Case{"{\"affected\": []}", "f.json: not an OSV record: no id"},
           Case{"{\"id\": 7}", "f.json: not an OSV record: id is not a string"},
           Case{"{\"id\": \"CVE-1\", \"affected\": {}}",
                "f.json: not an OSV record: affected is not a list"},
           Case{"{\"id\": \"CVE-1\", \"affected\": [{\"package\": {\"ecosystem\": 12}}]}",
                "f.json: not an OSV record: ecosystem is not a string"},
           Case{"{\"id\": \"CVE-1\", \"related\": [1]}",
                "f.json: not an OSV record: related holds a non-string"},
       }) {
    auto record = ParseOsvRecord(c.json, "f.json");
    ASSERT_THAT(record, FailsWith(ErrorCode::kSpec)) << c.json;
    EXPECT_EQ(record.error().message, c.message);
  }
}

OsvRecord Parse(std::string_view json) {
  auto record = ParseOsvRecord(json, "test");
  EXPECT_TRUE(record) << record.error().message;
  return record ? std::move(*record) : OsvRecord{};
}

TEST(OsvTest, BuildFoldsAdvisoriesIntoTheirCves) {
  std::vector<OsvRecord> records;
  records.push_back(Parse(kCveRecord));
  // Names its CVE itself; folds into the bookworm and bullseye entries.
  records.push_back(Parse(R"({"id": "DSA-5673-1", "modified": "2024-04-23T08:15:29Z",
    "summary": "glibc - security update", "related": ["CVE-2024-2961"], "affected": [
    {"package": {"ecosystem": "Debian:11", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31-13+deb11u9"}]}]},
    {"package": {"ecosystem": "Debian:12", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u6"}]}]}]})"));
  // Names no CVE, but the CVE names it.
  records.push_back(Parse(R"({"id": "DLA-3807-1", "modified": "2024-05-01T00:00:00Z", "affected": [
    {"package": {"ecosystem": "Debian:10", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.28-10+deb10u3"}]}]},
    {"package": {"ecosystem": "Debian:11", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31-13+deb11u9"}]}]}]})"));
  // Names a CVE that has no entry for this package: kept as its own entry.
  records.push_back(Parse(R"({"id": "DTSA-9-1", "modified": "2026-01-01T00:00:00Z",
    "related": ["CVE-2024-0001"], "affected": [
    {"package": {"ecosystem": "Debian:12", "name": "zlib"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-2"}]}]},
    {"package": {"ecosystem": "Debian:12", "name": "foo"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "bad version"}]}]}]})"));
  Metadata metadata;
  metadata.source = "osv:test";
  Database db = BuildFromOsv(std::move(records), metadata);

  EXPECT_EQ(db.metadata().records, 4);
  EXPECT_EQ(db.metadata().source, "osv:test");
  EXPECT_EQ(db.metadata().data_date, "2026-01-01T00:00:00Z");
  EXPECT_EQ(db.metadata().skipped, 1);
  EXPECT_THAT(db.metadata().skipped_examples,
              ElementsAre("DTSA-9-1 foo: bad version 'bad version'"));

  auto bookworm = db.Find("12", "glibc");
  ASSERT_EQ(bookworm.size(), 1u);
  EXPECT_EQ(bookworm[0]->id, "CVE-2024-2961");
  EXPECT_THAT(bookworm[0]->advisories, ElementsAre("DSA-5673-1"));
  auto bullseye = db.Find("11", "glibc");
  ASSERT_EQ(bullseye.size(), 1u);
  EXPECT_THAT(bullseye[0]->advisories, ElementsAre("DLA-3807-1", "DSA-5673-1"));
  // The CVE has no buster entry, so the DLA stays one there.
  auto buster = db.Find("10", "glibc");
  ASSERT_EQ(buster.size(), 1u);
  EXPECT_EQ(buster[0]->id, "DLA-3807-1");
  EXPECT_EQ(buster[0]->fixed, "2.28-10+deb10u3");
  auto zlib = db.Find("12", "zlib");
  ASSERT_EQ(zlib.size(), 1u);
  EXPECT_EQ(zlib[0]->id, "DTSA-9-1");
  EXPECT_EQ(db.Find("12", "foo").size(), 1u);

  ASSERT_NE(db.FindVulnerability("DSA-5673-1"), nullptr);
  EXPECT_EQ(db.FindVulnerability("DSA-5673-1")->summary, "glibc - security update");
  ASSERT_NE(db.FindVulnerability("CVE-2024-2961"), nullptr);
  EXPECT_DOUBLE_EQ(db.FindVulnerability("CVE-2024-2961")->cvss_score, 9.8);
  EXPECT_EQ(db.FindVulnerability("CVE-2024-9999"), nullptr);  // named, but no record
  EXPECT_EQ(db.entries().size(), 6u);                         // glibc 10, 11, 12, 13; zlib; foo
}

}  // namespace
}  // namespace hardbase::vuln
