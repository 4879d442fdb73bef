#include "vuln/database.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/result_matchers.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Entry MakeEntry(std::string release, std::string source, std::string id, std::string fixed,
                std::string urgency = "", std::vector<std::string> advisories = {},
                std::string introduced = "0") {
  return Entry{std::move(release), std::move(source),  std::move(id),        std::move(introduced),
               std::move(fixed),   std::move(urgency), std::move(advisories)};
}

Vulnerability MakeVulnerability(std::string id, std::string summary, std::string vector = "",
                                double score = -1, std::string modified = "2025-01-01T00:00:00Z") {
  return Vulnerability{std::move(id), std::move(summary),     std::move(vector),
                       score,         "2024-01-01T00:00:00Z", std::move(modified)};
}

Metadata SampleMetadata() {
  Metadata m;
  m.source = "osv:/data/all.zip";
  m.data_date = "2025-02-12T00:00:00Z";
  m.imported_at = "2025-02-13T10:00:00Z";
  m.records = 44152;
  m.skipped = 2;
  m.skipped_examples = {"CVE-1 foo: bad version 'x'", "CVE-2 bar: bad version '\t'"};
  return m;
}

std::vector<Entry> SampleEntries() {
  return {
      MakeEntry("12", "openssl", "CVE-2024-0727", "3.0.13-1~deb12u1", "low", {"DSA-5678-1"}),
      MakeEntry("12", "glibc", "CVE-2024-2961", "2.36-9+deb12u7", "", {"DSA-5673-1", "DLA-1-1"}),
      MakeEntry("11", "glibc", "CVE-2024-2961", "2.31-13+deb11u9"),
      MakeEntry("12", "glibc", "CVE-2010-4756", "", "unimportant"),
      MakeEntry("9", "zlib", "CVE-2018-25032", "1:1.2.8.dfsg-5+deb9u1", "", {}, "1:1.2.0"),
      MakeEntry("12", "glibc", "DSA-9999-1", "2.36-9+deb12u9"),
  };
}

std::vector<Vulnerability> SampleVulnerabilities() {
  return {
      MakeVulnerability("CVE-2024-2961", "iconv overflow in ISO-2022-CN-EXT",
                        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
      MakeVulnerability("CVE-2010-4756", "glob DoS"),
      MakeVulnerability("CVE-2024-0727", "PKCS12 NULL dereference",
                        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5),
  };
}

Database SampleDatabase() {
  return Database::Make(SampleMetadata(), SampleEntries(), SampleVulnerabilities());
}

void ExpectSameContent(const Database& a, const Database& b) {
  EXPECT_EQ(a.metadata().format_version, b.metadata().format_version);
  EXPECT_EQ(a.metadata().source, b.metadata().source);
  EXPECT_EQ(a.metadata().data_date, b.metadata().data_date);
  EXPECT_EQ(a.metadata().imported_at, b.metadata().imported_at);
  EXPECT_EQ(a.metadata().records, b.metadata().records);
  EXPECT_EQ(a.metadata().skipped, b.metadata().skipped);
  EXPECT_EQ(a.metadata().skipped_examples, b.metadata().skipped_examples);
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (size_t i = 0; i < a.entries().size(); ++i) {
    const Entry& x = a.entries()[i];
    const Entry& y = b.entries()[i];
    EXPECT_EQ(std::tie(x.release, x.source, x.id, x.introduced, x.fixed, x.urgency, x.advisories),
              std::tie(y.release, y.source, y.id, y.introduced, y.fixed, y.urgency, y.advisories));
  }
  ASSERT_EQ(a.vulnerability_count(), b.vulnerability_count());
  for (const Entry& e : a.entries()) {
    const Vulnerability* x = a.FindVulnerability(e.id);
    const Vulnerability* y = b.FindVulnerability(e.id);
    ASSERT_EQ(x == nullptr, y == nullptr) << e.id;
    if (x == nullptr) continue;
    EXPECT_EQ(
        std::tie(x->id, x->summary, x->cvss_vector, x->cvss_score, x->published, x->modified),
        std::tie(y->id, y->summary, y->cvss_vector, y->cvss_score, y->published, y->modified));
  }
}

TEST(DatabaseTest, MakeSortsEntriesAndVulnerabilities) {
  Database db = SampleDatabase();
  std::vector<std::string> keys;
  for (const Entry& e : db.entries()) keys.push_back(e.release + " " + e.source + " " + e.id);
  EXPECT_THAT(keys, ElementsAre("11 glibc CVE-2024-2961", "12 glibc CVE-2010-4756",
                                "12 glibc CVE-2024-2961", "12 glibc DSA-9999-1",
                                "12 openssl CVE-2024-0727", "9 zlib CVE-2018-25032"));
  // Advisories are sorted.
  EXPECT_THAT(db.entries()[2].advisories, ElementsAre("DLA-1-1", "DSA-5673-1"));
  EXPECT_EQ(db.metadata().format_version, kDatabaseFormatVersion);
  EXPECT_EQ(db.vulnerability_count(), 3u);
}

TEST(DatabaseTest, SerializeParseRoundTrip) {
  Database db = SampleDatabase();
  std::string bytes = db.Serialize();
  EXPECT_TRUE(bytes.starts_with("hardbase-vulndb 1\n")) << bytes;
  EXPECT_TRUE(bytes.ends_with("\nend\t9\n")) << bytes;
  auto parsed = Database::Parse(bytes, "vulndb");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ExpectSameContent(db, *parsed);
  EXPECT_EQ(parsed->Serialize(), bytes);
}

TEST(DatabaseTest, SerializeIsDeterministicWhateverTheInputOrder) {
  std::vector<Entry> entries = SampleEntries();
  std::vector<Vulnerability> vulnerabilities = SampleVulnerabilities();
  std::reverse(entries.begin(), entries.end());
  std::rotate(vulnerabilities.begin(), vulnerabilities.begin() + 1, vulnerabilities.end());
  std::reverse(entries[0].advisories.begin(), entries[0].advisories.end());
  EXPECT_EQ(Database::Make(SampleMetadata(), entries, vulnerabilities).Serialize(),
            SampleDatabase().Serialize());
}

TEST(DatabaseTest, EscapesOddTextFields) {
  const std::string odd = "tab\there\nnew line, back\\slash, literal \\t and \\n, trailing \\";
  Metadata metadata = SampleMetadata();
  metadata.source = "osv:/dir with\ttab/all.zip";
  Database db = Database::Make(metadata, {MakeEntry("12", "pkg", "CVE-1", "1.0", "low\t*")},
                               {MakeVulnerability("CVE-1", odd), MakeVulnerability("CVE-2", ""),
                                MakeVulnerability("CVE-3", "\\\\\n\n\t")});
  std::string bytes = db.Serialize();
  // One line per record: the header, 7 metadata lines, the blank line, 3 V, 1 E and the end line.
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), 14) << bytes;
  auto parsed = Database::Parse(bytes, "vulndb");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->FindVulnerability("CVE-1")->summary, odd);
  EXPECT_EQ(parsed->FindVulnerability("CVE-2")->summary, "");
  EXPECT_EQ(parsed->FindVulnerability("CVE-3")->summary, "\\\\\n\n\t");
  EXPECT_EQ(parsed->metadata().source, metadata.source);
  EXPECT_EQ(parsed->entries()[0].urgency, "low\t*");
  ExpectSameContent(db, *parsed);
}

TEST(DatabaseTest, EveryTruncationIsRejected) {
  std::string bytes = SampleDatabase().Serialize();
  for (size_t size = 0; size < bytes.size(); ++size) {
    auto parsed = Database::Parse(std::string_view(bytes).substr(0, size), "vulndb");
    ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec)) << "accepted the first " << size << " bytes";
  }
  // A whole record line missing is caught by the count on the end line.
  size_t e_line = bytes.find("\nE\t");
  std::string without = bytes.substr(0, e_line) + bytes.substr(bytes.find('\n', e_line + 1));
  auto parsed = Database::Parse(without, "vulndb");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("truncated"));
}

TEST(DatabaseTest, OtherFormatVersionAsksForAnUpdate) {
  std::string bytes = SampleDatabase().Serialize();
  bytes.replace(0, bytes.find('\n'), "hardbase-vulndb 2");
  auto parsed = Database::Parse(bytes, "/var/lib/hardbase/vulndb");
  ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(parsed.error().message, HasSubstr("/var/lib/hardbase/vulndb"));
  EXPECT_THAT(parsed.error().message, HasSubstr("another hardbase version"));
  EXPECT_THAT(parsed.error().message, HasSubstr("run `hardbase vuln update`"));

  auto other = Database::Parse("{\"not\": \"a database\"}\n", "x.json");
  ASSERT_FALSE(other);
  EXPECT_THAT(other.error().message, HasSubstr("x.json:1: not a hardbase vulnerability database"));
}

// Replaces line `number` (1-based) of `bytes` with `line`.
std::string WithLine(std::string bytes, size_t number, std::string_view line) {
  size_t start = 0;
  for (size_t i = 1; i < number; ++i) start = bytes.find('\n', start) + 1;
  return bytes.replace(start, bytes.find('\n', start) - start, line);
}

TEST(DatabaseTest, MalformedLinesAreRejectedWithTheirNumber) {
  std::string bytes = SampleDatabase().Serialize();
  // Lines: 1 header, 2-8 metadata, 9 blank, 10-12 V, 13-18 E, 19 end.
  ASSERT_EQ(WithLine(bytes, 19, "x"), bytes.substr(0, bytes.rfind("end")) + "x\n");
  const std::pair<size_t, const char*> cases[] = {
      {10, "V\tCVE-1\t9.8\t\t\t"},               // a field missing
      {10, "V\tCVE-1\t9.8\t\t\t\t\textra"},      // a field too many
      {10, "V\tCVE-0001\t11.0\t\t\t\tsummary"},  // score out of range
      {10, "V\tCVE-0001\t9.85\t\t\t\tsummary"},  // score not as written
      {10, "V\tCVE-0001\t\t\t\t\tbad \\x escape"},
      {11, "V\tCVE-0001\t\t\t\t\tout of order"},
      {13, "E\t11\tglibc\tCVE-1\t0\t1.0\t\tDSA-1,,DSA-2"},  // empty advisory
      {13, "E\t11\tglibc\tCVE-1\t0\t1.0\t\tDSA-2,DSA-1"},   // advisories out of order
      {13, "E\t11\tglibc\tCVE-1\t0\t1.0\t\tDSA-1,"},
      {14, "E\t11\tglibc\tCVE-2024-2961\t0\t1.0\t\t"},  // repeats line 13's key
      {14, "V\tCVE-9999\t\t\t\t\tV after E"},
      {8, "records\tmany"},
      {3, "source"},
      {19, "end\tnine"},
      {19, "X\t9"},
  };
  for (const auto& [number, line] : cases) {
    auto parsed = Database::Parse(WithLine(bytes, number, line), "vulndb");
    ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec)) << line;
    EXPECT_THAT(parsed.error().message, HasSubstr("vulndb:" + std::to_string(number) + ": "))
        << line;
  }
  auto trailing = Database::Parse(bytes + "E\tmore\n", "vulndb");
  ASSERT_FALSE(trailing);
  EXPECT_THAT(trailing.error().message, HasSubstr("after the end line"));
}

TEST(DatabaseTest, UnknownMetadataKeysAreIgnored) {
  std::string bytes = SampleDatabase().Serialize();
  bytes.insert(bytes.find("\n\n") + 1, "future-key\tvalue\n");
  auto parsed = Database::Parse(bytes, "vulndb");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->Serialize(), SampleDatabase().Serialize());
}

TEST(DatabaseTest, FindByReleaseAndSource) {
  Database db = SampleDatabase();
  std::vector<std::string> ids;
  for (const Entry* e : db.Find("12", "glibc")) ids.push_back(e->id);
  EXPECT_THAT(ids, ElementsAre("CVE-2010-4756", "CVE-2024-2961", "DSA-9999-1"));
  ASSERT_EQ(db.Find("11", "glibc").size(), 1u);
  EXPECT_EQ(db.Find("11", "glibc")[0]->fixed, "2.31-13+deb11u9");
  EXPECT_TRUE(db.Find("12", "glib").empty());
  EXPECT_TRUE(db.Find("12", "glibcx").empty());
  EXPECT_TRUE(db.Find("13", "glibc").empty());
  EXPECT_TRUE(db.Find("", "").empty());

  ASSERT_NE(db.FindVulnerability("CVE-2024-2961"), nullptr);
  EXPECT_DOUBLE_EQ(db.FindVulnerability("CVE-2024-2961")->cvss_score, 8.1);
  EXPECT_EQ(db.FindVulnerability("DSA-9999-1"), nullptr);
  EXPECT_EQ(db.FindVulnerability("CVE-2024-296"), nullptr);
}

TEST(DatabaseTest, CountsAndReleases) {
  Database db = SampleDatabase();
  EXPECT_EQ(db.SourceCount("12"), 2u);
  EXPECT_EQ(db.SourceCount(""), 3u);
  EXPECT_EQ(db.IdCount("12"), 4u);
  EXPECT_EQ(db.IdCount(""), 5u);
  EXPECT_EQ(db.IdCount("10"), 0u);
  EXPECT_THAT(db.Releases(), ElementsAre("9", "11", "12"));
  EXPECT_THAT(
      Database::Make({},
                     {MakeEntry("3.1", "a", "CVE-1", ""), MakeEntry("3.0", "a", "CVE-1", ""),
                      MakeEntry("13", "a", "CVE-1", "")},
                     {})
          .Releases(),
      ElementsAre("3.0", "3.1", "13"));
}

TEST(DatabaseTest, MergeKeepsTheOpenOrHigherFixAndUnitesAdvisories) {
  Database db = Database::Make(
      {},
      {
          MakeEntry("12", "a", "CVE-1", "1.0-2", "low", {"DSA-2"}),
          MakeEntry("12", "a", "CVE-1", "1.0-10", "medium", {"DLA-1", "DSA-2"}),
          MakeEntry("12", "b", "CVE-1", "1:0.1", "", {"DSA-1"}),
          MakeEntry("12", "b", "CVE-1", "", "high", {}),
          MakeEntry("12", "b", "CVE-1", "3.0"),
          // Another first affected version is another range: kept apart.
          MakeEntry("12", "c", "CVE-1", "1.0-1"),
          MakeEntry("12", "c", "CVE-1", "2.0-3", "", {}, "2.0-1"),
      },
      {MakeVulnerability("CVE-1", "old", "", -1, "2024-01-01T00:00:00Z"),
       MakeVulnerability("CVE-1", "new", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8,
                         "2025-01-01T00:00:00Z"),
       MakeVulnerability("CVE-1", "older", "", -1, "2023-01-01T00:00:00Z")});
  ASSERT_EQ(db.entries().size(), 4u);
  const Entry& a = db.entries()[0];
  EXPECT_EQ(a.fixed, "1.0-10");  // dpkg order, not text order
  EXPECT_EQ(a.urgency, "medium");
  EXPECT_EQ(a.introduced, "0");
  EXPECT_THAT(a.advisories, ElementsAre("DLA-1", "DSA-2"));
  const Entry& b = db.entries()[1];
  EXPECT_EQ(b.fixed, "");  // still open somewhere: reported until all agree it is fixed
  EXPECT_EQ(b.urgency, "high");
  EXPECT_THAT(b.advisories, ElementsAre("DSA-1"));
  EXPECT_EQ(db.entries()[2].fixed, "1.0-1");
  EXPECT_EQ(db.entries()[3].introduced, "2.0-1");
  EXPECT_EQ(db.entries()[3].fixed, "2.0-3");
  ASSERT_EQ(db.vulnerability_count(), 1u);
  EXPECT_EQ(db.FindVulnerability("CVE-1")->summary, "new");
}

TEST(DatabaseTest, MakeNormalizesWhatTheFileCannotHold) {
  Database db = Database::Make(
      {}, {MakeEntry("12", "a", "CVE-1", "", "", {"DSA-2,DSA-1", "", "DLA-1", "DSA-1"})},
      {MakeVulnerability("CVE-1", "", "", 12.0), MakeVulnerability("CVE-2", "", "", std::nan("")),
       MakeVulnerability("CVE-3", "", "", 7.25)});
  EXPECT_THAT(db.entries()[0].advisories, ElementsAre("DLA-1", "DSA-1", "DSA-2"));
  EXPECT_EQ(db.FindVulnerability("CVE-1")->cvss_score, -1);
  EXPECT_EQ(db.FindVulnerability("CVE-2")->cvss_score, -1);
  EXPECT_DOUBLE_EQ(db.FindVulnerability("CVE-3")->cvss_score, 7.3);
  auto parsed = Database::Parse(db.Serialize(), "vulndb");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ExpectSameContent(db, *parsed);
}

TEST(DatabaseTest, SaveReplacesAtomicallyAndLoadReadsBack) {
  auto dir = TempDir::Create("vulndb-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string path = dir->path() + "/vulndb";
  ASSERT_TRUE(WriteFileAtomic(path, "previous content"));
  Database db = SampleDatabase();
  auto saved = db.Save(path);
  ASSERT_TRUE(saved) << saved.error().message;
  auto loaded = Database::Load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ExpectSameContent(db, *loaded);

  // Nothing but the database is left in the directory (no temporary file).
  std::vector<std::string> names;
  DIR* d = opendir(dir->path().c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") {
      names.push_back(e->d_name);
    }
  }
  closedir(d);
  EXPECT_THAT(names, ElementsAre("vulndb"));

  auto missing = Database::Load(dir->path() + "/none");
  ASSERT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(missing.error().message, HasSubstr("/none"));
  EXPECT_THAT(missing.error().message, HasSubstr("hardbase vuln update"));

  auto unwritable = db.Save(dir->path() + "/no/such/dir/vulndb");
  EXPECT_FALSE(unwritable);
}

TEST(DatabaseTest, EmptyDatabaseRoundTrips) {
  Database db = Database::Make({}, {}, {});
  auto parsed = Database::Parse(db.Serialize(), "empty");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->entries().empty());
  EXPECT_TRUE(parsed->Releases().empty());
  EXPECT_EQ(parsed->Serialize(), db.Serialize());
}

}  // namespace
}  // namespace hardbase::vuln
