#include "pipeline/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "net/fake_http.h"
#include "pipeline/remote_layer_cache.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class CatalogDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-catalog-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& rel) const { return dir_->path() + "/" + rel; }
  void Write(const std::string& rel, const std::string& text = "name: x\n") {
    ASSERT_TRUE(MakeDirs(DirName(Path(rel))).has_value());
    ASSERT_TRUE(WriteFileAtomic(Path(rel), text).has_value());
  }
  std::vector<std::string> Names(const std::vector<CatalogEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.name);
    return out;
  }

  std::optional<TempDir> dir_;
};

TEST_F(CatalogDirTest, EntriesAreDirectoriesWithASpecSortedByName) {
  Write("redis/image.yaml");
  Write("cc-dev/image.yaml");
  Write("cc/image.yaml");
  Write("README.md");
  Write("notes/README.md");  // no image.yaml: not an entry
  Write("nginx/image.yaml");
  Write("nginx/image.lock.json", "{}");
  // A link to an entry elsewhere is an entry; a dangling image.yaml still is one (its load
  // error then names it), a dangling directory link is not.
  Write("../elsewhere/image.yaml");
  fs::create_directory_symlink(Path("../elsewhere"), Path("linked"));
  fs::create_directory(Path("dangling"));
  fs::create_symlink(Path("nowhere.yaml"), Path("dangling/image.yaml"));
  fs::create_directory_symlink(Path("gone"), Path("broken-link"));

  auto entries = DiscoverCatalog(dir_->path());
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  EXPECT_THAT(Names(*entries), ElementsAre("cc", "cc-dev", "dangling", "linked", "nginx", "redis"));
  EXPECT_EQ(entries->front().spec_path, Path("cc/image.yaml"));
}

TEST_F(CatalogDirTest, MissingOrPlainFileIsAnError) {
  auto missing = DiscoverCatalog(Path("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(missing.error().message, HasSubstr(Path("nope")));
  Write("file");
  auto file = DiscoverCatalog(Path("file"));
  ASSERT_FALSE(file.has_value());
  EXPECT_THAT(file.error().message, HasSubstr("not a directory"));
  fs::create_directory(Path("empty"));
  auto empty = DiscoverCatalog(Path("empty"));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

std::vector<CatalogEntry> SomeEntries() {
  return {{"cc", "c/cc/image.yaml"},
          {"cc-dev", "c/cc-dev/image.yaml"},
          {"python3", "c/python3/image.yaml"},
          {"python3-dev", "c/python3-dev/image.yaml"}};
}

TEST(SelectEntriesTest, KeepsCatalogOrderAndEachOnce) {
  auto all = SelectEntries(SomeEntries(), {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, SomeEntries());
  auto some = SelectEntries(SomeEntries(), {"python3", "cc", "python3"});
  ASSERT_TRUE(some.has_value());
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].name, "cc");
  EXPECT_EQ((*some)[1].name, "python3");
}

TEST(SelectEntriesTest, UnknownNameIsAUsageErrorWithTheNearestName) {
  auto typo = SelectEntries(SomeEntries(), {"cc", "pyton3"});
  ASSERT_FALSE(typo.has_value());
  EXPECT_THAT(typo, FailsWith(ErrorCode::kUsage));
  EXPECT_EQ(typo.error().message, "unknown catalog entry 'pyton3' (did you mean 'python3'?)");
  auto far = SelectEntries(SomeEntries(), {"postgresql"});
  ASSERT_FALSE(far.has_value());
  EXPECT_EQ(far.error().message, "unknown catalog entry 'postgresql'");
}

TEST(ShareLayersTest, EachMissingLayerIsBuiltByTheFirstImageThatStacksIt) {
  // libc6 and base-files shared by all three; only libc6, libssl3 and python3 are missing.
  std::vector<std::set<std::string>> images = {{"base-files", "libc6", "libssl3"},
                                               {"base-files", "libc6", "libssl3", "python3"},
                                               {"base-files", "libc6", "python3"}};
  LayerShare share = ShareLayers(images, {"libc6", "libssl3", "python3"});
  EXPECT_EQ(share.owner.at("libc6"), 0u);
  EXPECT_EQ(share.owner.at("libssl3"), 0u);
  EXPECT_EQ(share.owner.at("python3"), 1u);
  EXPECT_FALSE(share.owner.count("base-files"));
  EXPECT_THAT(share.built, ElementsAre(2u, 1u, 0u));
  EXPECT_THAT(share.reused, ElementsAre(1u, 3u, 3u));
}

TEST(ShareLayersTest, WarmCacheBuildsNothing) {
  LayerShare share = ShareLayers({{"a", "b"}, {"b", "c"}}, {});
  EXPECT_TRUE(share.owner.empty());
  EXPECT_THAT(share.built, ElementsAre(0u, 0u));
  EXPECT_THAT(share.reused, ElementsAre(2u, 2u));
}

CatalogReport SomeReport() {
  CatalogReport report;
  CatalogImage cc;
  cc.name = "cc";
  cc.output = "out/catalog/cc";
  cc.status = CatalogStatus::kBuilt;
  cc.digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  cc.arch = "amd64";
  cc.packages = 8;
  cc.compressed_bytes = 3 * 1024 * 1024 + 512 * 1024;
  cc.cves = 12;
  cc.fixable_cves = 2;
  cc.layers_built = 8;
  cc.layers_reused = 0;
  cc.archs = {{"amd64", cc.digest, 8, 10, cc.compressed_bytes}};
  report.images.push_back(cc);
  CatalogImage dev = cc;
  dev.name = "cc-dev";
  dev.output = "out/catalog/cc-dev";
  dev.digest = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
  dev.cves.reset();
  dev.fixable_cves.reset();
  dev.packages = 20;
  dev.layers_built = 12;
  dev.layers_reused = 8;
  report.images.push_back(dev);
  CatalogImage broken;
  broken.name = "broken\n\x1b[32mok";
  broken.output = "out/catalog/broken";
  broken.status = CatalogStatus::kFailed;
  broken.error = Error(ErrorCode::kSpec, "broken: image.yaml:1:1: unknown key 'pakages'");
  report.images.push_back(broken);
  report.wall_seconds = 2.5;
  return report;
}

TEST(CatalogTotalsTest, CountsLayersAndTheShareReused) {
  CatalogTotals t = Totals(SomeReport());
  EXPECT_EQ(t.images, 3u);
  EXPECT_EQ(t.built, 2u);
  EXPECT_EQ(t.failed, 1u);
  EXPECT_EQ(t.skipped, 0u);
  EXPECT_EQ(t.layers_built, 20u);
  EXPECT_EQ(t.layers_reused, 8u);
  EXPECT_DOUBLE_EQ(t.share_reused, 8.0 / 28.0);
  EXPECT_DOUBLE_EQ(Totals(CatalogReport{}).share_reused, 0.0);
}

TEST(CatalogTableTest, OneAlignedRowPerImageThenTheTotals) {
  std::string table = RenderCatalogTable(SomeReport());
  std::vector<std::string> lines;
  for (size_t from = 0, nl; (nl = table.find('\n', from)) != std::string::npos; from = nl + 1) {
    lines.push_back(table.substr(from, nl - from));
  }
  ASSERT_EQ(lines.size(), 5u) << table;
  EXPECT_THAT(lines[0], HasSubstr("NAME"));
  EXPECT_THAT(lines[0], HasSubstr("CVES"));
  // Columns line up: every row as wide as the header.
  EXPECT_EQ(lines[1].size(), lines[0].size()) << table;
  EXPECT_EQ(lines[2].size(), lines[0].size()) << table;
  EXPECT_THAT(lines[1], HasSubstr("sha256:0123456789ab "));
  EXPECT_THAT(lines[1], Not(HasSubstr("0123456789abc")));
  EXPECT_THAT(lines[1], HasSubstr("3.5 MiB"));
  EXPECT_THAT(lines[1], HasSubstr(" 12 "));
  // No database: "-", not 0.
  EXPECT_THAT(lines[2],
              ::testing::MatchesRegex("cc-dev +sha256:fedcba987654 +20 +3.5 MiB +- +12 +8"));
  // A hostile entry name cannot start a line of its own or colour the terminal.
  EXPECT_THAT(lines[3], ::testing::StartsWith("broken\\x0a\\x1b[32mok"));
  EXPECT_THAT(lines[3], HasSubstr("failed"));
  EXPECT_EQ(lines[4],
            "3 images (2 built, 1 failed): 20 package layers built, 8 reused (29% reused), "
            "2.5 s");
}

TEST(CatalogJsonTest, SameFactsWithNullsForWhatIsUnknown) {
  auto j = nlohmann::json::parse(RenderCatalogJson(SomeReport()));
  ASSERT_EQ(j["images"].size(), 3u);
  const auto& cc = j["images"][0];
  EXPECT_EQ(cc["name"], "cc");
  EXPECT_EQ(cc["status"], "built");
  EXPECT_EQ(cc["digest"], SomeReport().images[0].digest);
  EXPECT_EQ(cc["packages"], 8);
  EXPECT_EQ(cc["compressedBytes"], 3 * 1024 * 1024 + 512 * 1024);
  EXPECT_EQ(cc["cves"], 12);
  EXPECT_EQ(cc["fixableCves"], 2);
  EXPECT_EQ(cc["layersBuilt"], 8);
  EXPECT_EQ(cc["archs"][0]["arch"], "amd64");
  EXPECT_FALSE(cc.contains("error"));
  EXPECT_TRUE(j["images"][1]["cves"].is_null());
  const auto& broken = j["images"][2];
  EXPECT_EQ(broken["name"], "broken\n\x1b[32mok");
  EXPECT_EQ(broken["status"], "failed");
  EXPECT_TRUE(broken["digest"].is_null());
  EXPECT_EQ(broken["error"]["code"], "spec");
  EXPECT_THAT(broken["error"]["message"].get<std::string>(), HasSubstr("unknown key"));
  EXPECT_EQ(j["totals"]["layersBuilt"], 20);
  EXPECT_EQ(j["totals"]["layersReused"], 8);
  EXPECT_EQ(j["totals"]["failed"], 1);
  EXPECT_DOUBLE_EQ(j["totals"]["shareReused"].get<double>(), 8.0 / 28.0);
  EXPECT_DOUBLE_EQ(j["totals"]["wallSeconds"].get<double>(), 2.5);
}

TEST(CatalogJsonTest, InvalidUtf8InANameIsReplacedNotThrown) {
  CatalogReport report;
  CatalogImage bad;
  bad.name = "bad\xff";
  report.images.push_back(bad);
  auto j = nlohmann::json::parse(RenderCatalogJson(report));
  EXPECT_EQ(j["images"][0]["status"], "skipped");
  EXPECT_NE(j["images"][0]["name"], "bad");
}

TEST(ShortDigestTest, TwelveHexDigits) {
  EXPECT_EQ(ShortDigest("sha256:0123456789abcdef0123"), "sha256:0123456789ab");
  EXPECT_EQ(ShortDigest("sha256:01"), "sha256:01");
}

// A shard skipping an unchanged entry would leave the layers it owns unpublished while the other
// shards wait for them: the combination is refused before anything is read.
TEST(BuildCatalogTest, ChangedOnlyWithShardsAndARemoteCacheIsRefused) {
  auto dir = TempDir::Create("hardbase-catalog-");
  ASSERT_TRUE(dir.has_value());
  auto store = cache::BlobStore::Open(dir->path() + "/cache");
  ASSERT_TRUE(store.has_value());
  auto remote = RemoteLayerCache::Open("127.0.0.1:1/layers", {});
  ASSERT_TRUE(remote.has_value()) << remote.error().message;
  CatalogOptions options;
  options.dir = dir->path() + "/catalog";
  options.changed_only = true;
  options.shard = Shard{1, 2};
  options.build.remote_cache = remote->get();
  net::FakeHttp http;
  auto refused = BuildCatalog(options, http, *store);
  EXPECT_THAT(refused, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(refused.error().message, HasSubstr("--changed-only with --shard and --cache-repo"));
}

}  // namespace
}  // namespace hardbase::pipeline
