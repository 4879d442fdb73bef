#include "pipeline/catalog_plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "base/printable.h"
#include "base/strings.h"

namespace hardbase::pipeline {
namespace {

// The least loaded of `candidates` (shard indexes, 0-based); the lowest index on a tie.
size_t LeastLoaded(const std::vector<size_t>& candidates, const std::vector<uint64_t>& load) {
  return *std::min_element(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    return load[a] != load[b] ? load[a] < load[b] : a < b;
  });
}

}  // namespace

std::string Shard::ToString() const { return fmt::format("{}/{}", index, count); }

Result<Shard> ParseShard(std::string_view text) {
  auto number = [](std::string_view s) -> std::optional<size_t> {
    size_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
  };
  size_t slash = text.find('/');
  std::optional<size_t> i = number(text.substr(0, slash)), n;
  if (slash != std::string_view::npos) n = number(text.substr(slash + 1));
  if (!i || !n || *i < 1 || *i > *n || *n > kMaxShards) {
    return Fail(ErrorCode::kUsage,
                fmt::format("--shard '{}': want i/n with 1 <= i <= n <= {} (e.g. 2/4)",
                            Printable(text), kMaxShards));
  }
  return Shard{*i, *n};
}

CatalogPlan PlanCatalog(const std::vector<PlanEntry>& entries, size_t count) {
  CatalogPlan plan;
  plan.shards.resize(std::max<size_t>(count, 1));
  const size_t n = plan.shards.size();
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);

  // Entries, largest first (catalog order among equals), each to the least loaded shard.
  std::vector<uint64_t> cost(entries.size(), 0);
  for (size_t e = 0; e < entries.size(); ++e) {
    for (const auto& [key, size] : entries[e].layers) cost[e] += size;
  }
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<uint64_t> load(n, 0);
  std::vector<size_t> shard_of(entries.size());
  for (size_t e : order) {
    shard_of[e] = LeastLoaded(all, load);
    load[shard_of[e]] += cost[e];
  }
  for (size_t e = 0; e < entries.size(); ++e) {  // listed in catalog order
    plan.shards[shard_of[e]].entries.push_back(entries[e].name);
    plan.shards[shard_of[e]].cost += cost[e];
  }

  // Layers, largest first (by key among equals), each to the least loaded shard that needs it.
  std::map<std::string, std::pair<uint64_t, std::vector<size_t>>> needed;  // key -> size, shards
  for (size_t e = 0; e < entries.size(); ++e) {
    for (const auto& [key, size] : entries[e].layers) {
      auto& [layer_size, shards] = needed[key];
      layer_size = size;
      if (std::find(shards.begin(), shards.end(), shard_of[e]) == shards.end()) {
        shards.push_back(shard_of[e]);
      }
    }
  }
  std::vector<const std::pair<const std::string, std::pair<uint64_t, std::vector<size_t>>>*> layers;
  for (const auto& item : needed) layers.push_back(&item);
  std::stable_sort(layers.begin(), layers.end(),
                   [](const auto* a, const auto* b) { return a->second.first > b->second.first; });
  std::vector<uint64_t> owned(n, 0);
  for (const auto* layer : layers) {
    size_t s = LeastLoaded(layer->second.second, owned);
    owned[s] += layer->second.first;
    plan.layer_owner[layer->first] = s + 1;
    plan.shards[s].owned_layers.push_back(layer->first);
  }
  for (size_t s = 0; s < n; ++s) {
    std::sort(plan.shards[s].owned_layers.begin(), plan.shards[s].owned_layers.end());
    plan.shards[s].owned_cost = owned[s];
  }
  return plan;
}

std::string RenderPlanJson(const CatalogPlan& plan) {
  nlohmann::ordered_json shards = nlohmann::ordered_json::array();
  nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
  for (size_t s = 0; s < plan.shards.size(); ++s) {
    const ShardPlan& shard = plan.shards[s];
    std::string name = Shard{s + 1, plan.shards.size()}.ToString();
    shards.push_back({{"shard", name},
                      {"entries", shard.entries},
                      {"cost", shard.cost},
                      {"layers", shard.owned_layers.size()},
                      {"ownedCost", shard.owned_cost}});
    matrix.push_back(name);
  }
  nlohmann::ordered_json j = {{"shards", shards}, {"matrix", {{"shard", matrix}}}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string RenderPlanTable(const CatalogPlan& plan) {
  std::string out;
  for (size_t s = 0; s < plan.shards.size(); ++s) {
    const ShardPlan& shard = plan.shards[s];
    std::vector<std::string> names;
    for (const auto& name : shard.entries) names.push_back(Printable(name));
    out +=
        fmt::format("{}  {} entr{}, {} of packages, builds {} layers ({}): {}\n",
                    Shard{s + 1, plan.shards.size()}.ToString(), shard.entries.size(),
                    shard.entries.size() == 1 ? "y" : "ies", FormatMiB(shard.cost),
                    shard.owned_layers.size(), FormatMiB(shard.owned_cost), fmt::join(names, ", "));
  }
  return out;
}

}  // namespace hardbase::pipeline
