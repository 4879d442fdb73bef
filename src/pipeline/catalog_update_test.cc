// The nightly half of the patch loop on a signed repository the test publishes (served by the
// fake, see fake_repository_test_support.h): a fix lands for one entry's package, and `catalog
// update` reports it with the CVE it closes, writes only that lock, and leaves the other entry be.
#include "pipeline/catalog_update.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "pipeline/fake_repository_test_support.h"
#include "pipeline/lock_pipeline.h"
#include "support/result_matchers.h"
#include "vuln/database.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::HasSubstr;
using ::testing::Not;

class CatalogUpdateTest : public FakeRepositoryTest {
 protected:
  // A catalog of "app" (libfoo1, which pulls in libbar1) and "tool" (libtool1), both from
  // stable (codename bookworm: Debian 12) and stable-security, locked as they are published.
  void SetUp() override {
    FakeRepositoryTest::SetUp();
    AddFooAndBar();
    Add("stable", {.name = "libtool1",
                   .version = "3.0-1",
                   .fields = {{"Source", "tool"}},
                   .files = {{"usr/lib/libtool.so.1", "tool\n"}}});
    Add("stable-security", {.name = "unrelated", .version = "1.0-1"});
    PublishAll();
    for (const auto& [name, package] :
         {std::pair<std::string, std::string>{"app", "libfoo1"}, {"tool", "libtool1"}}) {
      std::string body = "packages: [" + package + "]\n";
      ASSERT_TRUE(MakeDirs(Catalog() + "/" + name).has_value());
      std::string spec = Catalog() + "/" + name + "/image.yaml";
      ASSERT_TRUE(WriteFileAtomic(spec, SpecText(body, kSuites)).has_value());
      auto parsed = spec::LoadImageSpec(spec);
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
      ASSERT_TRUE(WriteLock(LockOrFail(*parsed), LockPath(name)).has_value());
    }
    ASSERT_TRUE(SmallDatabase().Save(DbPath()).has_value());
  }

  static constexpr std::string_view kSuites = "[stable, stable-security]";
  std::string Catalog() const { return Work() + "/catalog"; }
  std::string LockPath(const std::string& name) const {
    return Catalog() + "/" + name + "/image.lock.json";
  }
  std::string DbPath() const { return Work() + "/vulndb"; }

  void PublishAll() {
    testing::PublishOptions stable, security;
    stable.codename = "bookworm";
    security.codename = "bookworm-security";
    Publish("stable", stable);
    Publish("stable-security", security);
  }
  // The fix for foo lands in stable-security.
  void PublishFooFix() {
    Add("stable-security", {.name = "libfoo1",
                            .version = "1.1-1",
                            .fields = {{"Source", "foo (1.1-1)"}, {"Depends", "libbar1 (>= 2.0)"}},
                            .files = {{"usr/lib/libfoo.so.1", "foo 1.1\n"}}});
    PublishAll();
  }

  // foo before 1.1-1 has CVE-2099-0001 (high); tool has an unfixed one, which no update closes.
  static vuln::Database SmallDatabase() {
    vuln::Metadata metadata;
    metadata.format_version = vuln::kDatabaseFormatVersion;
    metadata.source = "osv:test";
    metadata.data_date = "2023-11-14T00:00:00Z";
    metadata.records = 2;
    auto entry = [](std::string source, std::string id, std::string fixed, std::string urgency) {
      vuln::Entry e;
      e.release = "12";
      e.source = std::move(source);
      e.id = std::move(id);
      e.introduced = "0";
      e.fixed = std::move(fixed);
      e.urgency = std::move(urgency);
      return e;
    };
    std::vector<vuln::Entry> entries = {entry("foo", "CVE-2099-0001", "1.1-1", "high"),
                                        entry("tool", "CVE-2099-0002", "", "medium")};
    std::vector<vuln::Vulnerability> vulnerabilities;
    for (const vuln::Entry& e : entries) {
      vulnerabilities.push_back({e.id, e.id + " in " + e.source, "", -1, "", ""});
    }
    return vuln::Database::Make(metadata, std::move(entries), std::move(vulnerabilities));
  }

  CatalogUpdateOptions Options() const {
    CatalogUpdateOptions options;
    options.dir = Catalog();
    options.jobs = 2;
    options.update.lock = LockingOptions();
    options.update.vuln_db = DbPath();
    options.update.now = kNow;
    return options;
  }
  CatalogUpdateReport UpdateOrFail(const CatalogUpdateOptions& options) {
    auto report = UpdateCatalog(options, http_, *store_);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return report.value_or(CatalogUpdateReport{});
  }
};

TEST_F(CatalogUpdateTest, NothingNewChangesNothing) {
  CatalogUpdateReport report = UpdateOrFail(Options());
  ASSERT_EQ(report.entries.size(), 2u);
  for (const auto& e : report.entries) {
    EXPECT_EQ(e.status, EntryUpdateStatus::kUnchanged) << e.name;
    ASSERT_TRUE(e.update.has_value()) << e.name;
    EXPECT_TRUE(e.update->changes.empty());
    EXPECT_EQ(e.update->release, "12");
  }
  EXPECT_THAT(RenderCatalogUpdateMarkdown(report),
              HasSubstr("0 of 2 images changed: 0 packages changed, 0 CVEs closed.\n"));
  EXPECT_THAT(RenderCatalogUpdateMarkdown(report), HasSubstr("Unchanged: `app`, `tool`.\n"));
}

TEST_F(CatalogUpdateTest, AFixReportsTheNewVersionAndTheCveItCloses) {
  PublishFooFix();
  std::string app_lock = *ReadFile(LockPath("app"));
  std::string tool_lock = *ReadFile(LockPath("tool"));

  CatalogUpdateReport report = UpdateOrFail(Options());
  ASSERT_EQ(report.entries.size(), 2u);
  const CatalogEntryUpdate& app = report.entries[0];
  const CatalogEntryUpdate& tool = report.entries[1];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.status, EntryUpdateStatus::kChanged);
  EXPECT_FALSE(app.written);
  EXPECT_EQ(tool.status, EntryUpdateStatus::kUnchanged);
  ASSERT_TRUE(app.update.has_value());
  EXPECT_THAT(app.update->changes, ::testing::ElementsAre("amd64: libfoo1 1.0-1 -> 1.1-1"));
  ASSERT_EQ(app.update->archs.size(), 1u);
  const Comparison& c = app.update->archs[0].second;
  ASSERT_EQ(c.changes.size(), 1u);
  ASSERT_EQ(c.changes[0].closed.size(), 1u);
  EXPECT_EQ(c.changes[0].closed[0].id, "CVE-2099-0001");
  // Without --write the locks are as they were.
  EXPECT_EQ(*ReadFile(LockPath("app")), app_lock);
  EXPECT_EQ(*ReadFile(LockPath("tool")), tool_lock);

  std::string markdown = RenderCatalogUpdateMarkdown(report);
  EXPECT_THAT(markdown, HasSubstr("1 of 2 images changed: 1 package changed, 1 CVE closed (1 "
                                  "high).\n"));
  EXPECT_THAT(markdown, HasSubstr("\n### `app`\n"));
  EXPECT_THAT(markdown, HasSubstr("| package | old → new | CVEs closed |\n|---|---|---|\n"
                                  "| `libfoo1` | `1.0-1` → `1.1-1` | `CVE-2099-0001` (high) |\n"));
  EXPECT_THAT(markdown, HasSubstr("Unchanged: `tool`.\n"));
  EXPECT_THAT(markdown, Not(HasSubstr("### `tool`")));

  auto j = nlohmann::json::parse(RenderCatalogUpdateJson(report));
  EXPECT_EQ(j["images"][0]["status"], "changed");
  EXPECT_EQ(j["images"][0]["cvesClosed"], 1);
  EXPECT_EQ(j["images"][0]["archs"]["amd64"]["changes"][0]["after"], "1.1-1");
  EXPECT_EQ(j["images"][0]["archs"]["amd64"]["changes"][0]["closed"][0]["severity"], "high");
  EXPECT_EQ(j["images"][1]["status"], "unchanged");
  EXPECT_EQ(j["totals"]["changed"], 1);
  EXPECT_EQ(j["totals"]["cvesClosed"], 1);

  std::string table = RenderCatalogUpdateTable(report);
  EXPECT_THAT(table,
              HasSubstr("app\n  amd64   libfoo1 1.0-1 -> 1.1-1  closes CVE-2099-0001 (high)\n"));
  EXPECT_THAT(table, ::testing::ContainsRegex("\napp +changed +1 +1\n"));
  EXPECT_THAT(table, ::testing::ContainsRegex("\ntool +unchanged +0 +0\n"));
  EXPECT_THAT(table, HasSubstr("2 images: 1 changed, 1 unchanged; 1 package changed; 1 CVE closed "
                               "(1 high)\n"));
}

TEST_F(CatalogUpdateTest, WriteWritesOnlyTheChangedLock) {
  PublishFooFix();
  std::string tool_lock = *ReadFile(LockPath("tool"));
  CatalogUpdateOptions options = Options();
  options.write = true;
  CatalogUpdateReport report = UpdateOrFail(options);
  ASSERT_EQ(report.entries.size(), 2u);
  EXPECT_TRUE(report.entries[0].written);
  EXPECT_FALSE(report.entries[1].written);
  ASSERT_TRUE(report.entries[0].update.has_value());
  EXPECT_EQ(*ReadFile(LockPath("app")), spec::LockToJson(report.entries[0].update->after));
  EXPECT_EQ(*ReadFile(LockPath("tool")), tool_lock);
  // Up to date now.
  CatalogUpdateReport again = UpdateOrFail(Options());
  for (const auto& e : again.entries) EXPECT_EQ(e.status, EntryUpdateStatus::kUnchanged) << e.name;
}

// One entry that cannot be updated is reported by name; the others are updated all the same.
TEST_F(CatalogUpdateTest, AFailedEntryDoesNotStopTheOthers) {
  PublishFooFix();
  ASSERT_TRUE(MakeDirs(Catalog() + "/fresh").has_value());
  ASSERT_TRUE(
      WriteFileAtomic(Catalog() + "/fresh/image.yaml", SpecText("packages: [libtool1]\n", kSuites))
          .has_value());  // never locked
  CatalogUpdateOptions options = Options();
  options.write = true;
  CatalogUpdateReport report = UpdateOrFail(options);
  ASSERT_EQ(report.entries.size(), 3u);
  EXPECT_EQ(report.entries[0].status, EntryUpdateStatus::kChanged);
  EXPECT_TRUE(report.entries[0].written);
  const CatalogEntryUpdate& fresh = report.entries[1];
  EXPECT_EQ(fresh.name, "fresh");
  EXPECT_EQ(fresh.status, EntryUpdateStatus::kFailed);
  ASSERT_TRUE(fresh.error.has_value());
  EXPECT_EQ(fresh.error->code, ErrorCode::kNotFound);
  EXPECT_THAT(fresh.error->message, ::testing::StartsWith("fresh: "));
  EXPECT_THAT(fresh.error->message, HasSubstr("hardbase lock"));
  EXPECT_FALSE(PathExists(Catalog() + "/fresh/image.lock.json"));
  EXPECT_EQ(report.entries[2].status, EntryUpdateStatus::kUnchanged);
  EXPECT_THAT(RenderCatalogUpdateMarkdown(report), HasSubstr("; 1 failed.\n"));
  EXPECT_THAT(RenderCatalogUpdateMarkdown(report),
              HasSubstr("\n- `fresh`: ``fresh: update (run `hardbase lock` first): "));
  auto j = nlohmann::json::parse(RenderCatalogUpdateJson(report));
  EXPECT_EQ(j["images"][1]["error"]["code"], "not-found");
  EXPECT_TRUE(j["images"][1]["archs"].is_null());
}

TEST_F(CatalogUpdateTest, OnlyAndUnknownNames) {
  PublishFooFix();
  CatalogUpdateOptions options = Options();
  options.only = {"tool"};
  CatalogUpdateReport report = UpdateOrFail(options);
  ASSERT_EQ(report.entries.size(), 1u);
  EXPECT_EQ(report.entries[0].name, "tool");
  options.only = {"ap"};
  EXPECT_THAT(UpdateCatalog(options, http_, *store_), FailsWith(ErrorCode::kUsage));
}

// Without a database the versions are still reported, and the report says CVEs were not matched.
TEST_F(CatalogUpdateTest, NoDatabaseShowsVersionsOnly) {
  PublishFooFix();
  CatalogUpdateOptions options = Options();
  options.update.vuln_db = Work() + "/no-such-db";
  CatalogUpdateReport report = UpdateOrFail(options);
  ASSERT_EQ(report.entries.size(), 2u);
  EXPECT_EQ(report.entries[0].status, EntryUpdateStatus::kChanged);
  ASSERT_EQ(report.warnings.size(), 1u) << "said once, not per entry";
  EXPECT_THAT(report.warnings[0], HasSubstr("showing version changes only"));
  std::string markdown = RenderCatalogUpdateMarkdown(report);
  EXPECT_THAT(markdown, HasSubstr("CVEs not matched (no vulnerability database)"));
  EXPECT_THAT(markdown, HasSubstr("| `libfoo1` | `1.0-1` → `1.1-1` |  |\n"));
}

// Names, versions and ids come from repositories and databases: in the pull request body they
// are code, and a table row keeps its three cells whatever they hold.
TEST(CatalogUpdateMarkdownTest, HostileNamesVersionsAndIdsAreEscaped) {
  PackageChange change;
  change.name = "evil|`*x*`<b>";
  change.architecture = "amd64";
  change.before = "1.0|<img src=x>";
  change.after = "2.0\n| injected | row |";
  vuln::Finding finding;
  finding.id = "CVE-1|**@team**";
  finding.severity = vuln::Severity::kCritical;
  change.closed = {finding};
  SpecUpdate update;
  update.changes = {"amd64: changed"};
  update.archs.push_back({"amd64", Comparison{{change}, 0, {}, true}});
  CatalogUpdateReport report;
  CatalogEntryUpdate entry;
  entry.name = "app`s <x>";
  entry.status = EntryUpdateStatus::kChanged;
  entry.update = update;
  report.entries.push_back(entry);

  std::string markdown = RenderCatalogUpdateMarkdown(report);
  EXPECT_THAT(markdown, HasSubstr("\n### ``app`s <x>``\n"));
  EXPECT_THAT(markdown, HasSubstr("| ``evil\\|`*x*`<b>`` | `1.0\\|<img src=x>` → "
                                  "`2.0\\x0a\\| injected \\| row \\|` | "
                                  "`CVE-1\\|**@team**` (critical) |\n"));
  EXPECT_THAT(markdown, Not(HasSubstr("\n| injected")));
  // Every table row has its three cells: no pipe is left unescaped.
  for (size_t from = 0, nl; (nl = markdown.find('\n', from)) != std::string::npos; from = nl + 1) {
    std::string line = markdown.substr(from, nl - from);
    if (!line.starts_with("| ")) continue;
    int pipes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') {
        ++i;
      } else if (line[i] == '|') {
        ++pipes;
      }
    }
    EXPECT_EQ(pipes, 4) << line;
  }
}

}  // namespace
}  // namespace hardbase::pipeline
