#include "pipeline/catalog_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::testing::ElementsAre;
using testing::FailsWith;
using ::testing::HasSubstr;

TEST(ParseShardTest, TakesIOfNAndRefusesTheRest) {
  auto two_of_four = ParseShard("2/4");
  ASSERT_TRUE(two_of_four.has_value());
  EXPECT_EQ(*two_of_four, (Shard{2, 4}));
  EXPECT_EQ(two_of_four->ToString(), "2/4");
  EXPECT_EQ(*ParseShard("1/1"), (Shard{1, 1}));
  for (const char* bad : {"", "2", "0/3", "4/3", "1/0", "1/257", "-1/2", "1/2x", " 1/2", "a/b",
                          "1//2", "18446744073709551617/2"}) {
    EXPECT_THAT(ParseShard(bad), FailsWith(ErrorCode::kUsage)) << bad;
  }
  EXPECT_THAT(ParseShard("5/3").error().message, HasSubstr("want i/n with 1 <= i <= n"));
}

// A catalog of runtime/-dev pairs: each -dev image stacks its runtime's layers and more.
std::vector<PlanEntry> Catalog() {
  return {
      {"cc", {{"libc6", 3000}, {"libgcc", 100}}},
      {"cc-dev", {{"libc6", 3000}, {"libgcc", 100}, {"gcc", 20000}, {"binutils", 8000}}},
      {"python3", {{"libc6", 3000}, {"python3.11", 5000}, {"libssl", 2000}}},
      {"python3-dev", {{"libc6", 3000}, {"python3.11", 5000}, {"libssl", 2000}, {"pip", 1500}}},
      {"static", {{"base-files", 70}}},
  };
}

TEST(PlanCatalogTest, EveryEntryAndLayerOnceBalancedAndOwnedByAShardThatNeedsIt) {
  auto entries = Catalog();
  CatalogPlan plan = PlanCatalog(entries, 2);
  ASSERT_EQ(plan.shards.size(), 2u);
  std::multiset<std::string> planned;
  for (const auto& shard : plan.shards) planned.insert(shard.entries.begin(), shard.entries.end());
  EXPECT_EQ(planned,
            (std::multiset<std::string>{"cc", "cc-dev", "python3", "python3-dev", "static"}));
  // Longest first: cc-dev (31100) to 1, python3-dev (11500) to 2, python3 (10000) to 2, cc (3100)
  // to 2, static (70) to 2. Entries keep catalog order within a shard.
  EXPECT_THAT(plan.shards[0].entries, ElementsAre("cc-dev"));
  EXPECT_THAT(plan.shards[1].entries, ElementsAre("cc", "python3", "python3-dev", "static"));
  EXPECT_EQ(plan.shards[0].cost, 31100u);
  EXPECT_EQ(plan.shards[1].cost, 3100u + 10000u + 11500u + 70u);

  // Each layer has one owner, among the shards whose entries stack it; libc6, needed by both,
  // goes to the one that owns less.
  std::set<std::string> layers;
  for (const auto& e : entries) {
    for (const auto& [key, size] : e.layers) layers.insert(key);
  }
  ASSERT_EQ(plan.layer_owner.size(), layers.size());
  for (const auto& key : layers) {
    size_t owner = plan.layer_owner.at(key);
    const auto& mine = plan.shards[owner - 1].entries;
    bool needed = false;
    for (const auto& e : entries) {
      if (e.layers.count(key) && std::find(mine.begin(), mine.end(), e.name) != mine.end()) {
        needed = true;
      }
    }
    EXPECT_TRUE(needed) << key << " owned by shard " << owner << ", which does not stack it";
  }
  EXPECT_EQ(plan.layer_owner.at("gcc"), 1u);
  EXPECT_EQ(plan.layer_owner.at("python3.11"), 2u);
  // Shard 1 owns gcc, binutils (28000); shard 2 python3.11, libssl, pip: so libc6 and libgcc,
  // needed by both, go to shard 2, the less loaded.
  EXPECT_EQ(plan.layer_owner.at("libc6"), 2u);
  size_t owned = 0;
  for (const auto& shard : plan.shards) owned += shard.owned_layers.size();
  EXPECT_EQ(owned, layers.size());
}

TEST(PlanCatalogTest, DeterministicAndEmptyShardsWhenThereAreMoreShardsThanEntries) {
  auto entries = Catalog();
  auto a = PlanCatalog(entries, 3);
  auto b = PlanCatalog(entries, 3);
  EXPECT_EQ(RenderPlanJson(a), RenderPlanJson(b));
  EXPECT_EQ(a.layer_owner, b.layer_owner);

  auto wide = PlanCatalog(entries, 8);
  ASSERT_EQ(wide.shards.size(), 8u);
  size_t empty = 0;
  for (const auto& shard : wide.shards) empty += shard.entries.empty();
  EXPECT_EQ(empty, 3u);

  auto one = PlanCatalog(entries, 1);
  EXPECT_EQ(one.shards[0].entries.size(), entries.size());
  for (const auto& [key, owner] : one.layer_owner) EXPECT_EQ(owner, 1u) << key;

  auto none = PlanCatalog({}, 2);
  EXPECT_EQ(none.shards.size(), 2u);
  EXPECT_TRUE(none.layer_owner.empty());
}

TEST(PlanCatalogTest, TheJsonCarriesAMatrixForCi) {
  auto plan = PlanCatalog(Catalog(), 2);
  auto j = nlohmann::json::parse(RenderPlanJson(plan));
  EXPECT_EQ(j["matrix"]["shard"], nlohmann::json::array({"1/2", "2/2"}));
  ASSERT_EQ(j["shards"].size(), 2u);
  EXPECT_EQ(j["shards"][0]["shard"], "1/2");
  EXPECT_EQ(j["shards"][0]["entries"], nlohmann::json::array({"cc-dev"}));
  EXPECT_EQ(j["shards"][1]["layers"], plan.shards[1].owned_layers.size());
  std::string table = RenderPlanTable(plan);
  EXPECT_THAT(table, HasSubstr("1/2  1 entry,"));
  EXPECT_THAT(table, HasSubstr("cc, python3, python3-dev, static"));
}

}  // namespace
}  // namespace hardbase::pipeline
