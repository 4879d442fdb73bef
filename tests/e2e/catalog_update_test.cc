// End-to-end test of the patch loop over a catalog: `hardbase catalog update` against a signed
// repository the test publishes and serves on loopback, with a vulnerability database imported
// from OSV records it writes; then `catalog build --changed-only` rebuilds only what changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/repo_fixture.h"

namespace hardbase::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class CatalogUpdateE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-catalog-update-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    repo_.emplace(Work() + "/repo");
    server_.emplace(Work() + "/repo");
    ASSERT_TRUE(server_->Start().has_value());
    Add("stable", {"libfoo1", "1.0", "amd64", {{"Source", "foo"}}, {{"usr/lib/libfoo", "1.0\n"}}});
    Add("stable", {"libtool1", "3.0", "amd64", {{"Source", "tool"}}, {{"usr/lib/libtool", "3\n"}}});
    Add("stable-security", {"other", "1.0", "amd64", {}, {{"usr/share/other", "1\n"}}});
    PublishAll();
    for (const auto& [name, package] :
         {std::pair<std::string, std::string>{"app", "libfoo1"}, {"tool", "libtool1"}}) {
      Write("catalog/" + name + "/image.yaml",
            "name: " + name + "\nrepositories:\n  - url: " + server_->base_url() +
                "\n    suites: [stable, stable-security]\n    keyring: " +
                RepoFixture::KeyringPath() + "\narchs: [amd64]\npackages: [" + package + "]\n");
      auto locked = Run({"lock", Catalog() + "/" + name + "/image.yaml"});
      ASSERT_EQ(locked.exit_code, 0) << locked.err;
    }
    Write("osv/CVE-2099-0001.json", OsvRecord("CVE-2099-0001", "foo", "1.1"));
    auto db = Run({"vuln", "update", "--from", Work() + "/osv", "--db", Db()});
    ASSERT_EQ(db.exit_code, 0) << db.err;
  }

  std::string Work() const { return work_->path(); }
  std::string Catalog() const { return Work() + "/catalog"; }
  std::string Db() const { return Work() + "/vulndb"; }
  std::string Lock(const std::string& name) const {
    return ReadFile(Catalog() + "/" + name + "/image.lock.json").value_or("");
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = Work() + "/" + name;
    EXPECT_TRUE(MakeDirs(DirName(path)).has_value());
    EXPECT_TRUE(WriteFileAtomic(path, text).has_value());
    return path;
  }
  void Add(const std::string& suite, PackageSpec spec) {
    auto p = repo_->AddPackage(suite, "amd64", spec);
    ASSERT_TRUE(p.has_value()) << p.error().message;
  }
  // Named as Debian names its suites: the release to match comes from the codename.
  void PublishAll() {
    for (const auto& [suite, codename] : {std::pair<std::string, std::string>{"stable", "bookworm"},
                                          {"stable-security", "bookworm-security"}}) {
      PublishOptions options;
      options.codename = codename;
      ASSERT_TRUE(repo_->Publish(suite, options).has_value());
    }
  }
  ProcessResult Run(std::vector<std::string> args) {
    return HardbaseWithCache(std::move(args), {}, Work() + "/cache");
  }
  static std::string OsvRecord(const std::string& id, const std::string& source,
                               const std::string& fixed) {
    json record = {
        {"schema_version", "1.6.0"},
        {"id", id},
        {"modified", "2020-01-02T03:04:05Z"},
        {"published", "2020-01-01T00:00:00Z"},
        {"affected",
         {{{"package", {{"ecosystem", "Debian:12"}, {"name", source}}},
           {"ranges",
            {{{"type", "ECOSYSTEM"}, {"events", {{{"introduced", "0"}}, {{"fixed", fixed}}}}}}},
           {"ecosystem_specific", {{"urgency", "high"}}}}}}};
    return record.dump(1);
  }
  // The status of each image of a `catalog build --json` summary, by name.
  static std::map<std::string, std::string> Statuses(const std::string& summary) {
    std::map<std::string, std::string> out;
    json doc = json::parse(summary);
    for (const auto& image : doc["images"]) {
      out[image["name"]] = image["status"];
    }
    return out;
  }

  std::optional<TempDir> work_;
  std::optional<RepoFixture> repo_;
  std::optional<HttpServer> server_;
};

TEST_F(CatalogUpdateE2ETest, ReportsTheFixWritesTheLockAndRebuildsOnlyThatImage) {
  auto same = Run({"catalog", "update", Catalog(), "--db", Db()});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_THAT(same.out, HasSubstr("2 images: 0 changed, 2 unchanged"));

  std::vector<std::string> build = {"catalog",       "build",  Catalog(),       "--output-dir",
                                    Work() + "/out", "--json", "--changed-only"};
  auto first = Run(build);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(Statuses(first.out),
            (std::map<std::string, std::string>{{"app", "built"}, {"tool", "built"}}));
  auto again = Run(build);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Statuses(again.out),
            (std::map<std::string, std::string>{{"app", "unchanged"}, {"tool", "unchanged"}}));

  // The fix for foo lands in the security suite.
  Add("stable-security",
      {"libfoo1", "1.1", "amd64", {{"Source", "foo"}}, {{"usr/lib/libfoo", "1.1\n"}}});
  PublishAll();
  std::string app_lock = Lock("app"), tool_lock = Lock("tool");
  auto behind = Run({"catalog", "update", Catalog(), "--db", Db(), "--markdown", Work() + "/pr.md",
                     "--json", "-"});
  EXPECT_EQ(behind.exit_code, kExitStale) << behind.err;
  json report = json::parse(behind.out);
  EXPECT_EQ(report["totals"]["changed"], 1);
  EXPECT_EQ(report["images"][0]["name"], "app");
  EXPECT_EQ(report["images"][0]["archs"]["amd64"]["changes"][0]["closed"][0]["id"],
            "CVE-2099-0001");
  std::string markdown = ReadFile(Work() + "/pr.md").value_or("");
  EXPECT_THAT(markdown, HasSubstr("| `libfoo1` | `1.0` → `1.1` | `CVE-2099-0001` (high) |"));
  EXPECT_THAT(markdown, HasSubstr("Unchanged: `tool`."));
  EXPECT_EQ(Lock("app"), app_lock) << "without --write nothing is written";

  auto written = Run({"catalog", "update", Catalog(), "--db", Db(), "--write"});
  EXPECT_EQ(written.exit_code, kExitStale) << written.err;
  EXPECT_THAT(written.out, HasSubstr("libfoo1 1.0 -> 1.1  closes CVE-2099-0001 (high)"));
  EXPECT_NE(Lock("app"), app_lock);
  EXPECT_EQ(Lock("tool"), tool_lock);
  EXPECT_EQ(Run({"catalog", "update", Catalog(), "--db", Db()}).exit_code, 0);

  auto rebuilt = Run(build);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(Statuses(rebuilt.out),
            (std::map<std::string, std::string>{{"app", "built"}, {"tool", "unchanged"}}));
}

// An entry that cannot be updated is named, the others are still updated, and the exit code is
// the failure's.
TEST_F(CatalogUpdateE2ETest, AFailedEntryIsNamedAndItsExitCodeWins) {
  Write("catalog/fresh/image.yaml", *ReadFile(Catalog() + "/tool/image.yaml"));  // no lock
  Add("stable-security",
      {"libfoo1", "1.1", "amd64", {{"Source", "foo"}}, {{"usr/lib/libfoo", "1.1\n"}}});
  PublishAll();
  auto r = Run({"catalog", "update", Catalog(), "--db", Db(), "--write"});
  EXPECT_EQ(r.exit_code, kExitNotFound) << r.err;
  EXPECT_THAT(r.err, HasSubstr("1 of 3 entries failed: fresh"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nfresh +failed"));
  EXPECT_THAT(Lock("app"), HasSubstr("\"1.1\"")) << "the others were updated all the same";
}

}  // namespace
}  // namespace hardbase::testing
