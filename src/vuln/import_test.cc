#include "vuln/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <utility>

#include "base/fs.h"
#include "support/result_matchers.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kSnapshot =
    std::string(HARDBASE_SOURCE_DIR) + "/../shared/data/osv-debian-2025-02-12.zip";

using Members = std::vector<std::pair<std::string, std::string>>;

// A zip (deflated members) as osv.dev's export is written.
void WriteZip(const std::string& path, const Members& members) {
  archive* zip = archive_write_new();
  ASSERT_EQ(archive_write_set_format_zip(zip), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(zip, path.c_str()), ARCHIVE_OK);
  for (const auto& member : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, member.first.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(member.second.size()));
    ASSERT_EQ(archive_write_header(zip, entry), ARCHIVE_OK) << archive_error_string(zip);
    ASSERT_EQ(archive_write_data(zip, member.second.data(), member.second.size()),
              static_cast<la_ssize_t>(member.second.size()));
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(zip), ARCHIVE_OK);
  archive_write_free(zip);
}

std::string Record(std::string_view id, std::string_view modified, std::string_view affected,
                   std::string_view related = "") {
  return "{\"id\": \"" + std::string(id) + "\", \"modified\": \"" + std::string(modified) +
         "\", \"related\": [" + std::string(related) + "], \"affected\": [" +
         std::string(affected) + "]}";
}

std::string Affected(std::string_view release, std::string_view source, std::string_view fixed) {
  return "{\"package\": {\"ecosystem\": \"" + std::string(release) + "\", \"name\": \"" +
         std::string(source) + "\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": " +
         "[{\"introduced\": \"0\"}, {\"fixed\": \"" + std::string(fixed) + "\"}]}]}";
}

Members SmallExport() {
  return {
      {"CVE-2024-2961.json", Record("CVE-2024-2961", "2025-01-14T12:15:36Z",
                                    Affected("Debian:12", "glibc", "2.36-9+deb12u6") + ", " +
                                        Affected("Debian:11", "glibc", "2.31-13+deb11u9"))},
      {"DSA-5673-1.json",
       Record("DSA-5673-1", "2024-04-23T08:15:29Z",
              Affected("Debian:12", "glibc", "2.36-9+deb12u6"), "\"CVE-2024-2961\"")},
      {"CVE-2023-0001.json", Record("CVE-2023-0001", "2025-02-01T00:00:00Z",
                                    Affected("Alpine:v3.18", "musl", "1.2.4-r1"))},
  };
}

void ExpectSmallExport(const Database& db, const std::string& source) {
  EXPECT_EQ(db.metadata().source, source);
  EXPECT_EQ(db.metadata().records, 3);
  EXPECT_EQ(db.metadata().data_date, "2025-02-01T00:00:00Z");
  EXPECT_TRUE(
      std::regex_match(db.metadata().imported_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << db.metadata().imported_at;
  ASSERT_EQ(db.entries().size(), 2u);
  auto glibc = db.Find("12", "glibc");
  ASSERT_EQ(glibc.size(), 1u);
  EXPECT_EQ(glibc[0]->id, "CVE-2024-2961");
  EXPECT_EQ(glibc[0]->fixed, "2.36-9+deb12u6");
  EXPECT_THAT(glibc[0]->advisories, ElementsAre("DSA-5673-1"));
  EXPECT_THAT(db.Releases(), ElementsAre("11", "12"));
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("vuln-import-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }
  std::string Path(std::string_view name) const { return dir_->path() + "/" + std::string(name); }

  std::optional<TempDir> dir_;
};

TEST_F(ImportTest, Zip) {
  const std::string zip = Path("all.zip");
  WriteZip(zip, SmallExport());
  auto kind = DetectInput(zip);
  ASSERT_TRUE(kind) << kind.error().message;
  EXPECT_EQ(*kind, InputKind::kOsvZip);
  auto db = ImportPath(zip, "osv:https://example.org/Debian/all.zip");
  ASSERT_TRUE(db) << db.error().message;
  ExpectSmallExport(*db, "osv:https://example.org/Debian/all.zip");
}

TEST_F(ImportTest, TruncatedZipFails) {
  const std::string zip = Path("all.zip");
  Members members = SmallExport();
  for (int i = 0; i < 50; ++i) {  // enough data that truncation points fall inside members
    members.emplace_back("CVE-2000-" + std::to_string(1000 + i) + ".json",
                         Record("CVE-2000-" + std::to_string(1000 + i), "2020-01-01T00:00:00Z",
                                Affected("Debian:12", "pkg" + std::to_string(i), "1.0-1")));
  }
  WriteZip(zip, members);
  auto bytes = ReadFile(zip);
  ASSERT_TRUE(bytes) << bytes.error().message;
  for (size_t size : {bytes->size() / 2, bytes->size() - 30, size_t{100}}) {
    const std::string cut = Path("cut.zip");
    ASSERT_TRUE(WriteFileAtomic(cut, bytes->substr(0, size)));
    auto db = ImportPath(cut, "osv:cut");
    ASSERT_THAT(db, FailsWith(ErrorCode::kSpec)) << "truncated to " << size;
    EXPECT_THAT(db.error().message, StartsWith(cut + ": corrupt or truncated zip: "));
  }
}

TEST_F(ImportTest, MemberThatIsNotJsonFailsNamingIt) {
  const std::string zip = Path("all.zip");
  Members members = SmallExport();
  members.emplace_back("DLA-1-1.json", "{\"id\": \"DLA-1-1\", ");
  WriteZip(zip, members);
  auto db = ImportPath(zip, "osv:x");
  ASSERT_THAT(db, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(db.error().message, zip + ": DLA-1-1.json: not valid JSON");
}

TEST_F(ImportTest, RecordPastTheLimitFailsNamingIt) {
  const std::string zip = Path("all.zip");
  Members members = SmallExport();
  members.emplace_back("DLA-2-1.json", Record("DLA-2-1", "2024-01-01T00:00:00Z",
                                              Affected("Debian:12", "big", "1.0-1")) +
                                           std::string(5000, ' '));
  WriteZip(zip, members);
  ImportLimits limits;
  limits.max_record_bytes = 4096;
  auto db = ImportPath(zip, "osv:x", limits);
  ASSERT_THAT(db, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(db.error().message, zip +
                                    ": entry DLA-2-1.json: larger than 4096 bytes once "
                                    "decompressed (no OSV record is)");
  limits.max_record_bytes = 8192;
  EXPECT_TRUE(ImportPath(zip, "osv:x", limits));
}

TEST_F(ImportTest, RecordsPastTheTotalLimitFailNamingTheEntry) {
  const std::string zip = Path("all.zip");
  Members members = SmallExport();
  size_t total = 0;
  for (const auto& m : members) total += m.second.size();
  WriteZip(zip, members);
  ImportLimits limits;
  limits.max_total_bytes = total - 1;
  auto db = ImportPath(zip, "osv:x", limits);
  ASSERT_THAT(db, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(db.error().message, zip +
                                    ": entry CVE-2023-0001.json: the records decompress to "
                                    "more than " +
                                    std::to_string(total - 1) + " bytes in all");
  limits.max_total_bytes = total;
  EXPECT_TRUE(ImportPath(zip, "osv:x", limits));

  // A directory is held to the same bounds, file by file.
  ASSERT_TRUE(MakeDirs(Path("osv")));
  for (const auto& [name, text] : members) ASSERT_TRUE(WriteFileAtomic(Path("osv/" + name), text));
  limits.max_total_bytes = total - 1;
  auto from_dir = ImportPath(Path("osv"), "osv:dir", limits);
  ASSERT_FALSE(from_dir);
  EXPECT_THAT(from_dir.error().message, HasSubstr("in all"));
}

TEST_F(ImportTest, Directory) {
  const std::string dir = Path("osv");
  ASSERT_TRUE(MakeDirs(dir));
  auto empty = ImportPath(dir, dir);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, dir + ": no OSV records (*.json) in it");
  for (const auto& [name, text] : SmallExport()) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/" + name, text));
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/README.txt", "not a record"));
  EXPECT_EQ(DetectInput(dir).value_or(InputKind::kOsvZip), InputKind::kOsvDirectory);
  auto db = ImportPath(dir, dir);
  ASSERT_TRUE(db) << db.error().message;
  ExpectSmallExport(*db, dir);

  ASSERT_TRUE(WriteFileAtomic(dir + "/CVE-2.json", "{\"id\": 2}"));
  auto bad = ImportPath(dir, dir);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, dir + "/CVE-2.json: not an OSV record: id is not a string");
}

TEST_F(ImportTest, TrackerJson) {
  const std::string file = Path("tracker.json");
  ASSERT_TRUE(WriteFileAtomic(file, R"(
    {"glibc": {"CVE-2024-2961": {"description": "Overflow in iconv.",
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "2.36-9+deb12u6",
                                "urgency": "high"},
                   "bullseye": {"status": "resolved", "fixed_version": "0", "urgency": "high"}}}}})"));
  const timeval times[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimes(file.c_str(), times), 0);
  EXPECT_EQ(DetectInput(file).value_or(InputKind::kOsvZip), InputKind::kTrackerJson);
  auto db = ImportPath(file, "debian-tracker:" + file);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->metadata().data_date, "2023-11-14T22:13:20Z");
  EXPECT_EQ(db->metadata().records, 1);
  EXPECT_EQ(db->metadata().source, "debian-tracker:" + file);
  ASSERT_EQ(db->entries().size(), 1u);
  EXPECT_EQ(db->entries()[0].release, "12");
  EXPECT_EQ(db->entries()[0].urgency, "high");
  ASSERT_NE(db->FindVulnerability("CVE-2024-2961"), nullptr);
  EXPECT_EQ(db->FindVulnerability("CVE-2024-2961")->summary, "Overflow in iconv.");
}

TEST_F(ImportTest, TrackerFilePastTheInputLimitFails) {
  const std::string file = Path("tracker.json");
  const std::string text =
      R"({"glibc": {"CVE-2024-2961": {"releases": {"bookworm": {"status": "open"}}}}})";
  ASSERT_TRUE(WriteFileAtomic(file, text));
  ImportLimits limits;
  limits.max_input_bytes = text.size() - 1;
  auto db = ImportPath(file, file, limits);
  ASSERT_THAT(db, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(db.error().message, file + ": more than " + std::to_string(text.size() - 1) + " bytes");
  limits.max_input_bytes = text.size();
  EXPECT_TRUE(ImportPath(file, file, limits));
}

TEST_F(ImportTest, UnknownInputFails) {
  const std::string file = Path("image.tar");
  ASSERT_TRUE(WriteFileAtomic(file, "ustar"));
  auto kind = DetectInput(file);
  ASSERT_THAT(kind, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(kind.error().message, HasSubstr("neither an OSV zip"));

  auto missing = ImportPath(Path("missing.zip"), "x");
  ASSERT_THAT(missing, FailsWith(ErrorCode::kNotFound));
}

// The whole osv.dev Debian snapshot: plausible counts, a well-known CVE, and the time it takes.
TEST_F(ImportTest, FullSnapshot) {
  ASSERT_TRUE(PathExists(kSnapshot)) << kSnapshot;
  auto start = std::chrono::steady_clock::now();
  auto db = ImportPath(kSnapshot, "osv:" + kSnapshot);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(db) << db.error().message;
  std::printf("imported %s in %.2f s\n", kSnapshot.c_str(), seconds);

  const Metadata& m = db->metadata();
  size_t bookworm_entries = 0, folded = 0;
  for (const Entry& entry : db->entries()) {
    if (entry.release != "12") continue;
    ++bookworm_entries;
    if (!entry.advisories.empty()) ++folded;
  }
  std::printf(
      "records %lld, skipped %lld, entries %zu, vulnerabilities %zu; release 12: %zu "
      "entries (%zu with advisories), %zu ids, %zu sources; data date %s\n",
      static_cast<long long>(m.records), static_cast<long long>(m.skipped), db->entries().size(),
      db->vulnerability_count(), bookworm_entries, folded, db->IdCount("12"), db->SourceCount("12"),
      m.data_date.c_str());
  for (const std::string& example : m.skipped_examples)
    std::printf("  skipped: %s\n", example.c_str());
  EXPECT_EQ(m.records, 44152);
  EXPECT_EQ(m.data_date, "2025-02-12T16:46:00.463980Z");
  EXPECT_GT(m.skipped, 0);  // a few ancient advisories name packages where versions belong
  EXPECT_LT(m.skipped, 100);
  // 33,568 Debian:12 affected entries in 2,983 sources before folding; folding can only merge.
  EXPECT_GT(db->IdCount("12"), 30000u);
  EXPECT_LT(db->IdCount("12"), 33568u);
  EXPECT_GT(db->SourceCount("12"), 2900u);
  EXPECT_LE(db->SourceCount("12"), 2983u);
  EXPECT_THAT(db->Releases(), ::testing::Contains("12"));

  auto glibc = db->Find("12", "glibc");
  const Entry* cve = nullptr;
  for (const Entry* entry : glibc) {
    if (entry->id == "CVE-2024-2961") cve = entry;
    EXPECT_NE(entry->id, "DSA-5673-1");  // folded into its CVE
  }
  ASSERT_NE(cve, nullptr);
  EXPECT_EQ(cve->fixed, "2.36-9+deb12u6");
  EXPECT_THAT(cve->advisories, ::testing::Contains("DSA-5673-1"));
}

// The members of `zip` by name, with their bytes: all, or those `only` names.
std::map<std::string, std::string> ReadMembers(
    const std::string& zip, const std::map<std::string, std::string>* only = nullptr) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_filename(a, zip.c_str(), 1 << 16), ARCHIVE_OK) << zip;
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    if (only && !only->count(archive_entry_pathname(entry))) continue;
    std::string& data = out[archive_entry_pathname(entry)];
    char buffer[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) {
      data.append(buffer, static_cast<size_t>(n));
    }
    EXPECT_EQ(n, 0) << archive_error_string(a);
  }
  archive_read_free(a);
  return out;
}

// The excerpt that ships in data/vuln (scripts/make-vuln-excerpt.py): records of the snapshot,
// byte for byte, dated as the snapshot.
TEST_F(ImportTest, ShippedExcerptIsPartOfTheSnapshot) {
  const std::string excerpt =
      std::string(HARDBASE_SOURCE_DIR) + "/data/vuln/osv-debian-excerpt-2025-02-12.zip";
  auto db = ImportPath(excerpt, excerpt);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->metadata().data_date.substr(0, 10), "2025-02-12");
  EXPECT_EQ(db->metadata().skipped, 0);
  auto glibc = db->Find("12", "glibc");
  EXPECT_TRUE(std::any_of(glibc.begin(), glibc.end(),
                          [](const Entry* e) { return e->id == "CVE-2024-2961"; }));

  auto members = ReadMembers(excerpt);
  EXPECT_EQ(static_cast<int64_t>(members.size()), db->metadata().records);
  auto snapshot = ReadMembers(kSnapshot, &members);
  for (const auto& [name, data] : members) {
    auto it = snapshot.find(name);
    ASSERT_NE(it, snapshot.end()) << name;
    EXPECT_EQ(it->second, data) << name;
  }
}

}  // namespace
}  // namespace hardbase::vuln
