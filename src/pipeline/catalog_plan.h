// How `catalog build --shard i/n` splits a catalog between the n jobs of a CI matrix: each entry
// is built by exactly one shard, and each package layer by exactly one shard among those whose
// entries stack it. The split is a pure function of the entries and their locks, so every runner
// computes the same one without talking to the others; the remote layer cache is where a shard
// finds the layers another one owns.
//
// Balanced by cost, the .deb sizes the locks record (what building a layer reads and compresses):
// entries go, largest first, to the shard with the least cost so far (longest processing time
// first, within 4/3 of the best split); then each layer, largest first, to the least loaded of
// the shards that need it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::pipeline {

// The most shards a catalog is split into.
inline constexpr size_t kMaxShards = 256;

// "i/n": shard i (1-based) of n.
struct Shard {
  size_t index = 1;
  size_t count = 1;
  std::string ToString() const;  // "2/4"
  bool operator==(const Shard&) const = default;
};

// kUsage unless `text` is "i/n" with 1 <= i <= n <= 256.
Result<Shard> ParseShard(std::string_view text);

// An entry as the planner sees it: its package layers (cache key -> the .deb's size).
struct PlanEntry {
  std::string name;
  std::map<std::string, uint64_t> layers;
};

struct ShardPlan {
  std::vector<std::string> entries;       // in catalog order
  uint64_t cost = 0;                      // of its entries' layers, shared ones counted in each
  std::vector<std::string> owned_layers;  // sorted
  uint64_t owned_cost = 0;
};

struct CatalogPlan {
  std::vector<ShardPlan> shards;              // shard i is shards[i - 1]
  std::map<std::string, size_t> layer_owner;  // layer key -> shard index (1-based)
};

// `entries` in catalog order; `count` >= 1. Deterministic: ties go to the lower shard, equal
// costs keep catalog order.
CatalogPlan PlanCatalog(const std::vector<PlanEntry>& entries, size_t count);

// {"shards": [{"shard": "1/2", "entries": [...], "cost": N, "layers": N, "ownedCost": N}],
//  "matrix": {"shard": ["1/2", "2/2"]}}: `matrix` is ready for a CI job matrix.
std::string RenderPlanJson(const CatalogPlan& plan);
// One line per shard for people.
std::string RenderPlanTable(const CatalogPlan& plan);

}  // namespace hardbase::pipeline
