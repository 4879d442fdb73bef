// End-to-end tests of `hardbase catalog build` on a small catalog the tests write: entries made
// from examples/static and examples/cc with their locks, real packages from the host's
// repositories. What the catalog shares must be built once (the layers built are exactly the
// distinct packages), a second run builds nothing and gives the same digests as the first and as
// `hardbase build` of each spec alone, and a broken entry fails by name while the others build.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Every layer key holds the image timestamp; the locks of the examples may have been made at
// different times, so the runs fix it to compare layers across images.
const std::map<std::string, std::string> kEpoch = {{"SOURCE_DATE_EPOCH", "1700000000"}};

// The excerpt of the OSV snapshot that ships for offline use.
std::string Excerpt() { return HARDBASE_SOURCE_DIR "/data/vuln/osv-debian-excerpt-2025-02-12.zip"; }

class CatalogE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-catalog-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
  }

  std::string Work() const { return work_->path(); }
  std::string Catalog() const { return Work() + "/catalog"; }
  std::string Out() const { return Work() + "/out"; }

  static json LockOf(const std::string& example) {
    auto text = ReadFile(ExampleLock(example));
    EXPECT_TRUE(text.has_value());
    return json::parse(text.value_or("{}"));
  }

  // Catalog()/<name>/image.yaml: the example's spec with `extra` YAML, and the example's lock
  // beside it unless `with_lock` is false.
  void Entry(const std::string& name, const std::string& example, const std::string& extra = "",
             bool with_lock = true) {
    auto text = ReadFile(ExampleSpec(example));
    ASSERT_TRUE(text.has_value());
    std::string dir = Catalog() + "/" + name;
    ASSERT_TRUE(MakeDirs(dir).has_value());
    ASSERT_TRUE(WriteFileAtomic(dir + "/image.yaml", *text + "\n" + extra).has_value());
    if (with_lock) {
      auto lock = ReadFile(ExampleLock(example));
      ASSERT_TRUE(lock.has_value());
      ASSERT_TRUE(WriteFileAtomic(dir + "/image.lock.json", *lock).has_value());
    }
  }

  // The usual small catalog: cc, static and static-tz (static with an environment: the same
  // packages), a README and a directory that is not an entry.
  void SmallCatalog() {
    Entry("static", "static");
    Entry("cc", "cc");
    Entry("static-tz", "static", "env:\n  TZ: Europe/Paris\n");
    ASSERT_TRUE(WriteFileAtomic(Catalog() + "/README.md", "# a catalog\n").has_value());
    ASSERT_TRUE(MakeDirs(Catalog() + "/notes").has_value());
  }

  // A cache of its own holding the examples' .debs (copied from the suite's cache, fetched there
  // first) and no layer, so that every layer a run needs is built by that run.
  std::string FreshCache(const std::vector<std::string>& examples,
                         const std::string& name = "cache") {
    std::string cache = Work() + "/" + name;
    std::string blobs = cache + "/blobs/sha256/";
    EXPECT_TRUE(MakeDirs(blobs).has_value());
    for (const auto& example : examples) {
      auto fetch =
          HardbaseWithCache({"fetch", ExampleSpec(example), "--lock", ExampleLock(example)});
      EXPECT_EQ(fetch.exit_code, 0) << fetch.err;
      json lock = LockOf(example);
      for (const auto& arch : lock["archs"]) {
        for (const auto& p : arch["packages"]) {
          std::string sha = p["sha256"];
          std::error_code ec;
          fs::copy_file(ExamplesSuiteDir() + "/cache/blobs/sha256/" + sha, blobs + sha,
                        fs::copy_options::skip_existing, ec);
          EXPECT_FALSE(ec) << sha << ": " << ec.message();
        }
      }
    }
    return cache;
  }

  ProcessResult RunCatalog(std::vector<std::string> args, const std::string& cache = "",
                           const std::map<std::string, std::string>& env = kEpoch) {
    std::vector<std::string> argv = {"catalog", "build", Catalog(), "--output-dir", Out()};
    argv.insert(argv.end(), args.begin(), args.end());
    return HardbaseWithCache(argv, env, cache);
  }

  json CatalogJson(std::vector<std::string> args, const std::string& cache = "") {
    args.push_back("--json");
    auto r = RunCatalog(args, cache);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.exit_code == 0 ? r.out : "{}");
  }

  // The package layers a cache holds: one record each (cache meta "layer-<key>").
  static size_t LayerRecords(const std::string& cache) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(cache + "/meta")) {
      if (e.path().filename().string().starts_with("layer-")) ++n;
    }
    return n;
  }

  static std::map<std::string, json> ByName(const json& report) {
    std::map<std::string, json> out;
    for (const auto& image : report["images"]) out[image["name"]] = image;
    return out;
  }

  std::optional<TempDir> work_;
};

TEST_F(CatalogE2ETest, SharedLayersAreBuiltOnceThenReusedAndDigestsHold) {
  SmallCatalog();
  std::string cache = FreshCache({"static", "cc"});
  std::string db = Work() + "/vulndb";
  auto update = HardbaseWithCache({"vuln", "update", "--from", Excerpt(), "--db", db});
  ASSERT_EQ(update.exit_code, 0) << update.err;

  // The distinct packages of the three images (static-tz has static's): one layer each.
  std::set<std::tuple<std::string, std::string, std::string>> distinct;
  std::map<std::string, size_t> packages;
  for (const std::string example : {"static", "cc"}) {
    json lock = LockOf(example);
    for (const auto& arch : lock["archs"]) {
      packages[example] += arch["packages"].size();
      for (const auto& p : arch["packages"]) {
        distinct.insert({p["name"].get<std::string>(), p["version"].get<std::string>(),
                         p["architecture"].get<std::string>()});
      }
    }
  }
  packages["static-tz"] = packages["static"];

  json cold = CatalogJson({"--db", db, "--jobs", "2"}, cache);
  ASSERT_EQ(cold["images"].size(), 3u) << cold.dump(2);
  std::vector<std::string> order;
  for (const auto& image : cold["images"]) order.push_back(image["name"]);
  EXPECT_THAT(order, ElementsAre("cc", "static", "static-tz"));
  EXPECT_EQ(cold["totals"]["layersBuilt"], distinct.size()) << cold.dump(2);
  size_t built = 0;
  for (auto& [name, image] : ByName(cold)) {
    SCOPED_TRACE(name);
    EXPECT_EQ(image["status"], "built");
    EXPECT_EQ(image["packages"], packages[name]);
    EXPECT_EQ(image["layersBuilt"].get<size_t>() + image["layersReused"].get<size_t>(),
              packages[name]);
    built += image["layersBuilt"].get<size_t>();
    // The digest is what the written layout points at.
    auto index = ReadFile(Out() + "/" + name + "/index.json");
    ASSERT_TRUE(index.has_value());
    EXPECT_EQ(json::parse(*index)["manifests"][0]["digest"], image["digest"]);
    // The CVEs are what `hardbase scan` counts in the image written.
    auto scan = HardbaseWithCache(
        {"scan", "oci:" + Out() + "/" + name + ":latest", "--db", db, "--format", "json"}, {},
        cache);
    ASSERT_EQ(scan.exit_code, 0) << scan.err;
    EXPECT_EQ(image["cves"], json::parse(scan.out)["summary"]["unique"]);
  }
  EXPECT_EQ(built, distinct.size());
  // What the cache holds says the same: one layer per distinct package (the images that share a
  // package agree on its layer's key).
  EXPECT_EQ(LayerRecords(cache), distinct.size());
  // cc comes first and builds its layers; static-tz finds all of static's.
  EXPECT_EQ(ByName(cold)["static-tz"]["layersBuilt"], 0);
  EXPECT_EQ(ByName(cold)["cc"]["layersBuilt"], packages["cc"]);

  // A warning about a package several images hold (ca-certificates' update-ca-certificates needs
  // a shell) is said once, naming them; each image's own list has it.
  std::map<std::string, std::vector<std::string>> images_of;
  for (auto& [name, image] : ByName(cold)) {
    for (const auto& w : image["warnings"]) images_of[w.get<std::string>()].push_back(name);
  }
  EXPECT_FALSE(images_of.empty()) << cold.dump(2);
  for (const auto& [w, names] : images_of) {
    std::string said = names.size() == 1
                           ? names[0] + ": " + w
                           : w + " (in " + fmt::format("{}", fmt::join(names, ", ")) + ")";
    EXPECT_EQ(std::count(cold["warnings"].begin(), cold["warnings"].end(), json(said)), 1)
        << said << "\n"
        << cold["warnings"].dump(2);
  }

  // Warm: nothing to build, the same images.
  json warm = CatalogJson({"--db", db}, cache);
  EXPECT_EQ(warm["totals"]["layersBuilt"], 0);
  EXPECT_DOUBLE_EQ(warm["totals"]["shareReused"].get<double>(), 1.0);
  EXPECT_EQ(LayerRecords(cache), distinct.size());
  for (auto& [name, image] : ByName(warm)) {
    EXPECT_EQ(image["digest"], ByName(cold)[name]["digest"]) << name;
    EXPECT_EQ(image["cves"], ByName(cold)[name]["cves"]) << name;
  }

  // Without a vulnerability database (none in this cache), no CVE count: "-", not 0.
  auto table = RunCatalog({"--only", "static"}, cache);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex("\nstatic +sha256:[0-9a-f]{12} +[0-9]+ +[0-9.]+ "
                                                  "MiB +- +0 +[0-9]+\n"));

  // Each image is the one `hardbase build` makes of its spec alone.
  for (const std::string name : {"cc", "static-tz"}) {
    auto single = HardbaseWithCache(
        {"build", Catalog() + "/" + name + "/image.yaml", "--locked", "-o", Work() + "/" + name},
        kEpoch, cache);
    ASSERT_EQ(single.exit_code, 0) << single.err;
    EXPECT_EQ(single.out, ByName(cold)[name]["digest"].get<std::string>() + "\n") << name;
  }
}

TEST_F(CatalogE2ETest, OnlyBuildsTheNamedEntriesAndLocksThoseWithoutALock) {
  SmallCatalog();
  Entry("unlocked", "static", "labels:\n  purpose: test\n", /*with_lock=*/false);
  auto r = RunCatalog({"--only", "unlocked,cc", "--only", "cc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The table: a header, one row per image, the totals.
  std::vector<std::string> lines;
  for (size_t from = 0, nl; (nl = r.out.find('\n', from)) != std::string::npos; from = nl + 1) {
    lines.push_back(r.out.substr(from, nl - from));
  }
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("NAME +DIGEST +PACKAGES +SIZE +CVES +LAYERS BUILT "
                                                "+REUSED"));
  size_t cc_packages = LockOf("cc")["archs"][0]["packages"].size();
  EXPECT_THAT(lines[1],
              ::testing::MatchesRegex("cc +sha256:[0-9a-f]{12} +" + std::to_string(cc_packages) +
                                      " +[0-9.]+ MiB +[-0-9]+ +[0-9]+ +[0-9]+"));
  EXPECT_THAT(lines[2], ::testing::StartsWith("unlocked "));
  EXPECT_THAT(lines[3], HasSubstr("2 images (2 built)"));
  EXPECT_TRUE(fs::exists(Out() + "/cc/index.json"));
  EXPECT_TRUE(fs::exists(Out() + "/unlocked/index.json"));
  EXPECT_FALSE(fs::exists(Out() + "/static"));
  // The lock is written beside the spec, as `hardbase lock` writes it.
  EXPECT_TRUE(fs::exists(Catalog() + "/unlocked/image.lock.json"));

  auto typo = RunCatalog({"--only", "statc"});
  EXPECT_EQ(typo.exit_code, kExitUsage);
  EXPECT_THAT(typo.err, HasSubstr("unknown catalog entry 'statc' (did you mean 'static'?)"));
}

TEST_F(CatalogE2ETest, SignsEveryImageWithTheKeyGiven) {
  SmallCatalog();
  std::map<std::string, std::string> env = kEpoch;
  env["COSIGN_PASSWORD"] = "catalog";
  auto keygen = HardbaseWithCache({"keygen", "--output-key-prefix", Work() + "/k"}, env);
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  auto r = RunCatalog({"--only", "static,static-tz", "--sign-key", Work() + "/k.key"}, "", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string name : {"static", "static-tz"}) {
    auto verify = HardbaseWithCache({"verify", "oci:" + Out() + "/" + name + ":latest", "--key",
                                     Work() + "/k.pub", "--attestations"});
    EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.err;
  }
  // The signature names the spec's `name`, as `hardbase build` without --reference does.
  auto listed = HardbaseWithCache(
      {"verify", "oci:" + Out() + "/static-tz:latest", "--key", Work() + "/k.pub", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("\"dockerReference\": \"static\""));
}

TEST_F(CatalogE2ETest, BrokenEntriesFailByNameWhileTheOthersBuild) {
  SmallCatalog();
  // A spec with a mistake, and one with no lock while --locked asks for the locks as they are.
  ASSERT_TRUE(MakeDirs(Catalog() + "/broken").has_value());
  ASSERT_TRUE(
      WriteFileAtomic(Catalog() + "/broken/image.yaml", "name: broken\npakages:\n  - base-files\n")
          .has_value());
  Entry("nolock", "static", "", /*with_lock=*/false);

  auto r = RunCatalog({"--locked", "--json"});
  // The first failure (in name order) decides the exit code: broken's spec error.
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  json report = json::parse(r.out);
  auto images = ByName(report);
  EXPECT_EQ(images["broken"]["status"], "failed");
  EXPECT_EQ(images["broken"]["error"]["code"], "spec");
  EXPECT_EQ(images["nolock"]["status"], "failed");
  for (const std::string ok : {"cc", "static", "static-tz"}) {
    EXPECT_EQ(images[ok]["status"], "built") << ok;
    EXPECT_TRUE(fs::exists(Out() + "/" + ok + "/index.json")) << ok;
  }
  EXPECT_EQ(report["totals"]["failed"], 2);
  // One line per failure, naming the entry, then the summing-up.
  EXPECT_THAT(r.err, HasSubstr("error: broken: "));
  EXPECT_THAT(r.err, HasSubstr("pakages"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("error: nolock: .*--locked"));
  EXPECT_THAT(r.err, HasSubstr("2 of 5 entries failed: broken, nolock"));
  EXPECT_FALSE(fs::exists(Catalog() + "/nolock/image.lock.json"));

  // --fail-fast: the specs are all checked before anything is built, so nothing is.
  ASSERT_TRUE(RemoveAll(Out()).has_value());
  auto fast = RunCatalog({"--locked", "--fail-fast"});
  EXPECT_EQ(fast.exit_code, kExitSpec) << fast.err;
  EXPECT_THAT(fast.err, HasSubstr("error: broken: "));
  EXPECT_THAT(fast.err, Not(HasSubstr("error: nolock")));
  EXPECT_THAT(fast.out, ::testing::ContainsRegex("\ncc +skipped"));
  EXPECT_FALSE(fs::exists(Out() + "/cc"));
}

// Two CI runners, each with a cache of its own, build a shard each of one catalog at the same time
// against one registry cache: between them they build each distinct layer once, and their images
// are the ones a single runner makes. A third runner with an empty cache then builds the whole
// catalog from the registry without building a layer, as does `build` of one spec.
TEST_F(CatalogE2ETest, ShardsOnSeparateRunnersShareOneRegistryLayerCache) {
  SmallCatalog();
  Entry("cc-tz", "cc", "env:\n  TZ: Europe/Paris\n");
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  const std::string repo = (*server)->host() + "/ci/layers";

  std::string single_cache = FreshCache({"static", "cc"}, "single");
  json single = CatalogJson({"--jobs", "2"}, single_cache);
  ASSERT_EQ(single["images"].size(), 4u) << single.dump(2);
  const size_t distinct = single["totals"]["layersBuilt"];
  ASSERT_GE(distinct, 10u);

  auto plan_run = HardbaseWithCache({"catalog", "plan", Catalog(), "--shards", "2", "--json"},
                                    kEpoch, single_cache);
  ASSERT_EQ(plan_run.exit_code, 0) << plan_run.err;
  json plan = json::parse(plan_run.out);
  EXPECT_EQ(plan["matrix"]["shard"], json::array({"1/2", "2/2"}));
  ASSERT_FALSE(plan["shards"][0]["entries"].empty()) << plan.dump(2);
  ASSERT_FALSE(plan["shards"][1]["entries"].empty()) << plan.dump(2);
  EXPECT_EQ(plan["shards"][0]["layers"].get<size_t>() + plan["shards"][1]["layers"].get<size_t>(),
            distinct);

  // The two runners, at the same time, in processes of their own.
  std::string caches[2] = {FreshCache({"static", "cc"}, "runner1"),
                           FreshCache({"static", "cc"}, "runner2")};
  ProcessResult runs[2];
  std::vector<std::thread> runners;
  for (int r = 0; r < 2; ++r) {
    runners.emplace_back([&, r] {
      runs[r] = HardbaseWithCache(
          {"catalog", "build", Catalog(), "--output-dir", Work() + "/out" + std::to_string(r + 1),
           "--shard", fmt::format("{}/2", r + 1), "--cache-repo", repo, "--plain-http", "--json",
           "--jobs", "2"},
          kEpoch, caches[r]);
    });
  }
  for (auto& t : runners) t.join();
  std::map<std::string, std::string> digests;
  size_t built = 0, published = 0;
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(runs[r].exit_code, 0) << runs[r].err;
    json report = json::parse(runs[r].out);
    EXPECT_EQ(report["totals"]["shard"], fmt::format("{}/2", r + 1));
    EXPECT_EQ(report["images"].size(), plan["shards"][r]["entries"].size());
    built += report["totals"]["layersBuilt"].get<size_t>();
    published += report["totals"]["layersPublished"].get<size_t>();
    EXPECT_EQ(report["totals"]["layersBuilt"], plan["shards"][r]["layers"]) << report.dump(2);
    for (const auto& image : report["images"]) {
      EXPECT_TRUE(digests.emplace(image["name"], image["digest"]).second) << "built twice";
    }
  }
  EXPECT_EQ(built, distinct) << "each distinct layer built once between the runners";
  EXPECT_EQ(published, distinct);
  for (const auto& [name, image] : ByName(single)) {
    EXPECT_EQ(digests[name], image["digest"].get<std::string>()) << name;
  }
  auto tags = (*server)->ListTags("ci/layers");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(tags->size(), distinct);

  // Warm from the registry: a runner with nothing cached builds no layer, fetches them all.
  std::string empty = Work() + "/empty-cache";
  auto warm = HardbaseWithCache({"catalog", "build", Catalog(), "--output-dir", Work() + "/out3",
                                 "--cache-repo", repo, "--plain-http", "--json", "--locked"},
                                kEpoch, empty);
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  json report = json::parse(warm.out);
  EXPECT_EQ(report["totals"]["layersBuilt"], 0);
  EXPECT_EQ(report["totals"]["layersFetched"], distinct);
  EXPECT_EQ(report["totals"]["layersPublished"], 0);
  for (const auto& [name, image] : ByName(report)) {
    EXPECT_EQ(image["digest"], ByName(single)[name]["digest"]) << name;
  }
  auto one =
      HardbaseWithCache({"build", Catalog() + "/cc/image.yaml", "--locked", "-o",
                         Work() + "/cc-single", "--cache-repo", repo, "--plain-http", "--json"},
                        kEpoch, Work() + "/empty-cache-2");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  json single_build = json::parse(one.out);
  EXPECT_EQ(single_build["layersBuilt"], 0);
  EXPECT_EQ(single_build["digest"], ByName(single)["cc"]["digest"]);

  // A shard whose partner never comes builds the partner's layers itself once the wait is over.
  std::string alone = FreshCache({"static", "cc"}, "alone");
  auto lonely =
      HardbaseWithCache({"catalog", "build", Catalog(), "--output-dir", Work() + "/out4", "--shard",
                         "1/2", "--cache-repo", (*server)->host() + "/ci/other-layers",
                         "--plain-http", "--json", "--cache-wait", "1"},
                        kEpoch, alone);
  ASSERT_EQ(lonely.exit_code, 0) << lonely.err;
  json lonely_report = json::parse(lonely.out);
  EXPECT_THAT(lonely_report["warnings"].dump(), HasSubstr("other shards own did not reach"));
  for (const auto& image : lonely_report["images"]) {
    EXPECT_EQ(image["digest"], ByName(single)[image["name"]]["digest"]);
  }
}

// Bad --shard and --cache-repo values are usage errors naming the value.
TEST_F(CatalogE2ETest, BadShardsAndCacheRepositoriesAreRefused) {
  SmallCatalog();
  for (const std::string shard : {"0/2", "3/2", "two"}) {
    auto r = RunCatalog({"--shard", shard});
    EXPECT_EQ(r.exit_code, kExitUsage) << shard << r.err;
    EXPECT_THAT(r.err, HasSubstr("--shard '" + shard + "'"));
  }
  auto tagged = RunCatalog({"--cache-repo", "127.0.0.1:1/layers:latest"});
  EXPECT_EQ(tagged.exit_code, kExitUsage) << tagged.err;
  EXPECT_THAT(tagged.err, HasSubstr("--cache-repo 127.0.0.1:1/layers:latest"));
  // A shard plans from the locks as they are: an entry without one is named.
  Entry("nolock", "static", "", /*with_lock=*/false);
  auto plan = HardbaseWithCache({"catalog", "plan", Catalog(), "--shards", "2"}, kEpoch);
  EXPECT_NE(plan.exit_code, 0);
  EXPECT_THAT(plan.err, HasSubstr("nolock"));
}

}  // namespace
}  // namespace hardbase::testing
