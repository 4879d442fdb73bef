#include "pipeline/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "base/parallel.h"
#include "base/printable.h"
#include "base/strings.h"
#include "oci/image_ref.h"
#include "oci/output_target.h"
#include "pipeline/build_record.h"
#include "pipeline/inventory.h"
#include "pipeline/remote_layer_cache.h"
#include "pipeline/scan.h"
#include "spec/image_spec.h"
#include "spec/names.h"
#include "vuln/report.h"

namespace hardbase::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The platform an image's row describes: the only one, else the host's when built, else the
// first.
const ArchBuild* RowArch(const std::vector<ArchBuild>& archs) {
  if (archs.empty()) return nullptr;
  if (archs.size() > 1) {
    if (auto host = spec::HostArchitecture()) {
      for (const auto& a : archs) {
        if (a.arch == *host) return &a;
      }
    }
  }
  return &archs.front();
}

std::string_view StatusName(CatalogStatus s) {
  switch (s) {
    case CatalogStatus::kBuilt:
      return "built";
    case CatalogStatus::kUnchanged:
      return "unchanged";
    case CatalogStatus::kFailed:
      return "failed";
    case CatalogStatus::kSkipped:
      return "skipped";
  }
  return "skipped";
}

// The vulnerability counts of the image written at `layout`, read back as `hardbase scan` reads
// any image: its package database, matched for its os-release's Debian release.
Result<vuln::Summary> ScanImage(const std::string& layout, const std::string& tag,
                                const std::string& arch, const std::string& db_path,
                                std::vector<std::string>& warnings) {
  oci::ImageRef ref;
  ref.path = layout;
  ref.tag = tag;
  InventoryOptions options;
  options.platform = arch;
  HB_TRY(Inventory inventory, ReadInventory(ref.ToString(), options));
  HB_TRY(std::string release, InventoryRelease(inventory, ""));
  HB_TRY(vuln::Database db, LoadVulnDbFor(db_path, release, inventory.packages));
  HB_TRY(vuln::Report report, ScanInventory(inventory, db, release, {}));
  warnings = report.warnings;
  return vuln::Summarize(report);
}

}  // namespace

Result<std::vector<CatalogEntry>> DiscoverCatalog(const std::string& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    return Fail(ErrorCode::kNotFound, fmt::format("catalog {} does not exist", dir));
  }
  if (!fs::is_directory(st)) {
    return Fail(ErrorCode::kIo, fmt::format("catalog {} is not a directory", dir));
  }
  std::vector<CatalogEntry> out;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_directory(entry_ec)) continue;  // README.md, and broken links
    std::string spec_path = (it->path() / kCatalogSpecName).string();
    // A dangling image.yaml is still an entry: its error then names it.
    if (fs::symlink_status(spec_path, entry_ec).type() == fs::file_type::not_found) continue;
    out.push_back({it->path().filename().string(), spec_path});
  }
  if (ec) return Fail(ErrorCode::kIo, fmt::format("read catalog {}: {}", dir, ec.message()));
  std::sort(out.begin(), out.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<CatalogEntry>> SelectEntries(const std::vector<CatalogEntry>& entries,
                                                const std::vector<std::string>& only) {
  if (only.empty()) return entries;
  std::vector<std::string_view> names;
  for (const auto& e : entries) names.push_back(e.name);
  std::set<std::string> wanted;
  for (const auto& name : only) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string near = spec::ClosestMatch(name, names);
      return Fail(ErrorCode::kUsage,
                  fmt::format("unknown catalog entry '{}'{}", name,
                              near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
    }
    wanted.insert(name);
  }
  std::vector<CatalogEntry> out;
  for (const auto& e : entries) {
    if (wanted.count(e.name)) out.push_back(e);
  }
  return out;
}

LayerShare ShareLayers(const std::vector<std::set<std::string>>& image_layers,
                       const std::set<std::string>& missing) {
  LayerShare out;
  out.built.assign(image_layers.size(), 0);
  out.reused.assign(image_layers.size(), 0);
  for (size_t i = 0; i < image_layers.size(); ++i) {
    for (const auto& key : image_layers[i]) {
      if (missing.count(key) && out.owner.emplace(key, i).second) {
        ++out.built[i];
      } else {
        ++out.reused[i];
      }
    }
  }
  return out;
}

Result<std::vector<CatalogEntry>> CatalogEntries(const std::string& dir,
                                                 const std::vector<std::string>& only) {
  HB_TRY(std::vector<CatalogEntry> all, DiscoverCatalog(dir));
  if (all.empty()) {
    return Fail(
        ErrorCode::kNotFound,
        fmt::format("catalog {} has no entry (a directory holding an {})", dir, kCatalogSpecName));
  }
  return SelectEntries(all, only);
}

CatalogTotals Totals(const CatalogReport& report) {
  CatalogTotals t;
  for (const auto& image : report.images) {
    ++t.images;
    switch (image.status) {
      case CatalogStatus::kBuilt:
        ++t.built;
        break;
      case CatalogStatus::kUnchanged:
        ++t.unchanged;
        break;
      case CatalogStatus::kFailed:
        ++t.failed;
        break;
      case CatalogStatus::kSkipped:
        ++t.skipped;
        break;
    }
    t.layers_built += image.layers_built;
    t.layers_reused += image.layers_reused;
  }
  size_t all = t.layers_built + t.layers_reused;
  t.share_reused = all ? static_cast<double>(t.layers_reused) / static_cast<double>(all) : 0;
  return t;
}

std::string ShortDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!digest.starts_with(kPrefix)) return std::string(digest.substr(0, 19));
  return std::string(digest.substr(0, kPrefix.size() + 12));
}

std::string RenderCatalogTable(const CatalogReport& report) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "DIGEST", "PACKAGES", "SIZE", "CVES", "LAYERS BUILT", "REUSED"}};
  for (const auto& image : report.images) {
    std::vector<std::string> row = {Printable(image.name)};
    if (image.status == CatalogStatus::kBuilt) {
      row.push_back(ShortDigest(image.digest));
      row.push_back(std::to_string(image.packages));
      row.push_back(FormatMiB(image.compressed_bytes));
      row.push_back(image.cves ? std::to_string(*image.cves) : "-");
      row.push_back(std::to_string(image.layers_built));
      row.push_back(std::to_string(image.layers_reused));
    } else {
      row.push_back(std::string(StatusName(image.status)));
      for (int i = 0; i < 5; ++i) row.push_back("-");
    }
    rows.push_back(std::move(row));
  }
  std::string out = AlignColumns(rows, 2);  // names and digests to the left, numbers right
  CatalogTotals t = Totals(report);
  std::string status = fmt::format("{} built", t.built);
  if (t.unchanged) status += fmt::format(", {} unchanged", t.unchanged);
  if (t.failed) status += fmt::format(", {} failed", t.failed);
  if (t.skipped) status += fmt::format(", {} skipped", t.skipped);
  out += fmt::format(
      "{} image{} ({}): {} package layer{} built, {} reused ({:.0f}% reused), {:.1f} s\n", t.images,
      t.images == 1 ? "" : "s", status, t.layers_built, t.layers_built == 1 ? "" : "s",
      t.layers_reused, t.share_reused * 100.0, report.wall_seconds);
  if (report.shard) out += fmt::format("shard {}\n", report.shard->ToString());
  if (report.layers_fetched || report.layers_published) {
    out += fmt::format("remote layer cache: {} fetched, {} published\n", report.layers_fetched,
                       report.layers_published);
  }
  return out;
}

std::string RenderCatalogJson(const CatalogReport& report) {
  json images = json::array();
  for (const auto& image : report.images) {
    bool built = image.status == CatalogStatus::kBuilt;
    json archs = json::array();
    for (const auto& a : image.archs) {
      archs.push_back({{"arch", a.arch},
                       {"manifest", a.manifest_digest},
                       {"packages", a.packages},
                       {"layers", a.layers},
                       {"compressedBytes", a.compressed_bytes}});
    }
    json j = {{"name", image.name},
              {"status", StatusName(image.status)},
              {"output", image.output},
              {"digest", built || image.status == CatalogStatus::kUnchanged ? json(image.digest)
                                                                            : json(nullptr)},
              {"arch", built ? json(image.arch) : json(nullptr)},
              {"packages", built ? json(image.packages) : json(nullptr)},
              {"compressedBytes", built ? json(image.compressed_bytes) : json(nullptr)},
              {"cves", image.cves ? json(*image.cves) : json(nullptr)},
              {"fixableCves", image.fixable_cves ? json(*image.fixable_cves) : json(nullptr)},
              {"layersBuilt", image.layers_built},
              {"layersReused", image.layers_reused},
              {"archs", archs},
              {"warnings", image.warnings}};
    if (image.error) {
      j["error"] = {{"code", ErrorCodeName(image.error->code)},
                    {"message", image.error->message},
                    {"details", image.error->details}};
    }
    images.push_back(std::move(j));
  }
  CatalogTotals t = Totals(report);
  json totals = {{"images", t.images},
                 {"built", t.built},
                 {"unchanged", t.unchanged},
                 {"failed", t.failed},
                 {"skipped", t.skipped},
                 {"layersBuilt", t.layers_built},
                 {"layersReused", t.layers_reused},
                 {"shareReused", t.share_reused},
                 {"layersFetched", report.layers_fetched},
                 {"layersPublished", report.layers_published},
                 {"wallSeconds", report.wall_seconds}};
  if (report.shard) totals["shard"] = report.shard->ToString();
  json doc = {{"images", images}, {"totals", totals}, {"warnings", report.warnings}};
  // Names and messages are the user's bytes: invalid UTF-8 is replaced, not a throw.
  return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

namespace {

// The plan of `entries` from their locks as they are (`options.build.locked`).
Result<CatalogPlan> PlanEntries(const std::vector<CatalogEntry>& entries,
                                const CatalogOptions& options, size_t shards, net::HttpClient& http,
                                cache::BlobStore& store) {
  std::vector<PlanEntry> planned;
  for (const CatalogEntry& entry : entries) {
    BuildOptions build = options.build;
    build.spec_path = entry.spec_path;
    build.lock_path.clear();
    HB_TRY(PreparedBuild prepared,
           WithContext(PrepareBuild(build, http, store), "plan entry " + entry.name));
    PlanEntry& p = planned.emplace_back();
    p.name = entry.name;
    for (const auto& [arch, wanted] : prepared.layers) {
      for (const WantedLayer& w : wanted) p.layers[w.key] = w.package->size;
    }
  }
  return PlanCatalog(planned, shards);
}

}  // namespace

Result<CatalogPlan> PlanCatalogBuild(const CatalogOptions& options, size_t shards,
                                     net::HttpClient& http, cache::BlobStore& store) {
  HB_TRY(std::vector<CatalogEntry> entries, CatalogEntries(options.dir, options.only));
  CatalogOptions planned = options;
  planned.build.locked = true;
  return PlanEntries(entries, planned, shards, http, store);
}

Result<CatalogReport> BuildCatalog(const CatalogOptions& options, net::HttpClient& http,
                                   cache::BlobStore& store) {
  if (options.changed_only && options.shard && options.build.remote_cache) {
    return Fail(ErrorCode::kUsage,
                "--changed-only with --shard and --cache-repo: a shard that leaves an entry as it "
                "is would not publish the layers the other shards wait for (build the changed "
                "entries with --only instead)");
  }
  const auto start = std::chrono::steady_clock::now();
  HB_TRY(std::vector<CatalogEntry> entries, CatalogEntries(options.dir, options.only));
  CatalogReport report;
  std::optional<CatalogPlan> plan;
  CatalogOptions planned = options;
  if (options.shard) {
    planned.build.locked = true;
    HB_TRY(plan, PlanEntries(entries, planned, options.shard->count, http, store));
    const auto& mine = plan->shards[options.shard->index - 1].entries;
    std::erase_if(entries, [&](const CatalogEntry& e) {
      return std::find(mine.begin(), mine.end(), e.name) == mine.end();
    });
    report.shard = options.shard;
  }
  const size_t n = entries.size();

  std::vector<BuildOptions> build(n, planned.build);
  for (size_t i = 0; i < n; ++i) {
    CatalogImage& image = report.images.emplace_back();
    image.name = entries[i].name;
    image.output = (fs::path(options.output_dir) / entries[i].name).string();
    build[i].spec_path = entries[i].spec_path;
    build[i].lock_path.clear();  // beside the spec
    build[i].output = image.output;
    build[i].format = oci::OutputFormat::kOciLayout;
    build[i].layer_cache = true;  // the whole point: layers built once, then found
  }

  // Entry failures, recorded from any worker; with fail_fast the first one stops the rest.
  std::mutex mu;
  bool stop = false;
  auto fail = [&](size_t i, const Error& error) -> Result<void> {
    std::lock_guard lock(mu);
    CatalogImage& image = report.images[i];
    image.status = CatalogStatus::kFailed;
    image.error = error.Wrap(image.name);
    if (!options.fail_fast) return {};
    stop = true;
    return Fail(*image.error);
  };
  auto failed = [&](size_t i) { return report.images[i].status == CatalogStatus::kFailed; };

  // 1. Every spec and output path, before anything is locked or built.
  for (size_t i = 0; i < n && !stop; ++i) {
    auto spec = spec::LoadImageSpec(entries[i].spec_path);
    if (!spec) {
      (void)fail(i, spec.error());
      continue;
    }
    if (auto target = oci::CheckOutputTarget(oci::OutputFormat::kOciLayout, build[i].output);
        !target) {
      (void)fail(i, target.error());
    }
  }

  // 2. Every lock (made or refreshed when needed), and the layers each image stacks.
  std::vector<std::optional<PreparedBuild>> prepared(n);
  for (size_t i = 0; i < n && !stop; ++i) {
    if (failed(i)) continue;
    auto p = PrepareBuild(build[i], http, store);
    if (!p) {
      (void)fail(i, p.error());
      continue;
    }
    prepared[i] = std::move(*p);
  }
  // With changed_only, an image already built from exactly these inputs is left as it is.
  for (size_t i = 0; i < n && options.changed_only; ++i) {
    if (!prepared[i]) continue;
    auto inputs = BuildInputsDigest(build[i], *prepared[i]);
    std::optional<std::string> digest;
    if (inputs) digest = BuiltFromInputs(build[i], *inputs);
    if (!inputs) (void)fail(i, inputs.error());
    if (digest) {
      report.images[i].status = CatalogStatus::kUnchanged;
      report.images[i].digest = *digest;
    }
    if (!inputs || digest) prepared[i].reset();
  }

  // 3. The union of the layers missing from the cache, each built once: by this run, or with a
  // shard plan and a remote cache, by the shard that owns it.
  std::vector<std::set<std::string>> image_layers(n);
  std::set<std::string> known, missing, local;
  std::map<std::string, LayerJob> jobs;
  for (size_t i = 0; i < n && !stop; ++i) {
    if (!prepared[i]) continue;
    for (const auto& [arch, wanted] : prepared[i]->layers) {
      for (const auto& w : wanted) {
        image_layers[i].insert(w.key);
        if (!known.insert(w.key).second) continue;
        auto cached = FindPackageLayer(store, w.key);
        if (!cached) {
          (void)fail(i, cached.error());
          break;
        }
        if (*cached) {
          local.insert(w.key);
        } else {
          missing.insert(w.key);
          jobs.emplace(w.key, LayerJob{w.key, w.package, &prepared[i]->settings});
        }
      }
    }
  }
  RemoteLayerCache* remote = options.build.remote_cache;
  std::vector<std::string> cache_warnings;
  // The layers another shard owns: fetched from the remote cache once it has published them.
  std::set<std::string> awaited;
  if (remote && !missing.empty() && !stop) {
    HB_TRY(auto fetched, remote->FetchAll(missing, options.jobs, store, cache_warnings));
    for (const auto& [key, layer] : fetched) missing.erase(key);
    if (plan) {
      for (const auto& key : missing) {
        if (plan->layer_owner.at(key) != options.shard->index) awaited.insert(key);
      }
      for (const auto& key : awaited) missing.erase(key);
    }
  }
  std::map<std::string, Error> failed_layers;
  std::vector<size_t> layers_built(n, 0);  // per image: the layers it owns that were built
  // Builds the layers of `keys` (missing from the cache), each attributed to the first image that
  // stacks it, and publishes them.
  auto build_layers = [&](const std::set<std::string>& keys) {
    if (keys.empty() || stop) return;
    LogInfo("{} package layer{} to build for {} image{}", keys.size(), keys.size() == 1 ? "" : "s",
            n, n == 1 ? "" : "s");
    LayerShare share = ShareLayers(image_layers, keys);
    // Each owner fetches the .debs of the layers it builds, from its own repositories.
    for (size_t i = 0; i < n && !stop; ++i) {
      if (!prepared[i] || share.built[i] == 0) continue;
      std::set<std::string> owned;
      for (const auto& [key, owner] : share.owner) {
        if (owner == i) owned.insert(key);
      }
      if (auto fetched = FetchLayerDebs(*prepared[i], owned, options.build.apt_root, http, store);
          !fetched) {
        for (const auto& key : owned) failed_layers.emplace(key, fetched.error());
        (void)fail(i, fetched.error());
      }
    }
    std::vector<LayerJob> todo;
    for (const auto& key : keys) {
      if (!failed_layers.count(key)) todo.push_back(jobs.at(key));
    }
    if (!stop) {
      (void)BuildPackageLayers(
          std::move(todo), options.jobs, store,
          [&](const LayerJob& job, Result<PackageLayer> layer) {
            if (layer) {
              ++layers_built[share.owner.at(job.key)];
              return Result<void>();
            }
            Error error = layer.error().Wrap(
                fmt::format("layer of {} {}", job.package->name, job.package->version));
            failed_layers.emplace(job.key, error);
            if (!options.fail_fast) return Result<void>();
            std::lock_guard lock(mu);
            stop = true;
            return Result<void>(Fail(error));
          },
          remote);
    }
  };
  // The layers this run owns that were cached here already go to the remote cache first (when it
  // lacks them), as other shards may be waiting for them; then those it builds, as they are built.
  if (remote && !stop) {
    std::erase_if(local, [&](const std::string& key) {
      return plan && plan->layer_owner.at(key) != options.shard->index;
    });
    HB_TRY_VOID(remote->PublishAll(local, options.build.compression, options.jobs, store));
  }
  build_layers(missing);
  // What the other shards own arrives as they publish it; what has not arrived in time (a shard
  // failed or is late), or arrived damaged, is built here after all.
  if (!awaited.empty() && !stop) {
    LogInfo("waiting for {} package layer{} other shards build", awaited.size(),
            awaited.size() == 1 ? "" : "s");
    const auto deadline = std::chrono::steady_clock::now() + options.remote_wait;
    std::set<std::string> rebuild;  // arrived damaged
    // One listing of the repository's tags per round, whatever the number of layers awaited.
    auto pause = std::chrono::milliseconds(250);
    for (;;) {
      HB_TRY(auto present, remote->Present(awaited));
      HB_TRY(auto arrived, remote->FetchAll(present, options.jobs, store, cache_warnings));
      for (const auto& [key, layer] : arrived) awaited.erase(key);
      for (auto it = awaited.begin(); it != awaited.end();) {
        it = remote->Damaged(*it) ? (rebuild.insert(*it), awaited.erase(it)) : std::next(it);
      }
      if (awaited.empty() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          pause, deadline - std::chrono::steady_clock::now()));
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
    if (!awaited.empty()) {
      cache_warnings.push_back(
          fmt::format("{} package layer{} other shards own did not reach {} in {} s: built here",
                      awaited.size(), awaited.size() == 1 ? "" : "s", remote->Name(),
                      options.remote_wait.count()));
    }
    rebuild.insert(awaited.begin(), awaited.end());
    build_layers(rebuild);
  }
  // An image fails with the first of its layers that failed.
  for (size_t i = 0; i < n; ++i) {
    if (!prepared[i] || failed(i)) continue;
    for (const auto& key : image_layers[i]) {
      if (auto it = failed_layers.find(key); it != failed_layers.end()) {
        (void)fail(i, it->second);
        break;
      }
    }
  }
  if (remote) {
    report.layers_fetched = remote->fetched();
    report.layers_published = remote->published();
  }

  // 4. Every image, assembled from the cached layers, written and scanned. Each layer is cached
  // here now and the remote cache was told of those this run owns: the images need it no more.
  for (BuildOptions& b : build) b.remote_cache = nullptr;
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i) {
    if (prepared[i] && !failed(i)) todo.push_back(i);
  }
  std::vector<std::string> warnings = std::move(cache_warnings);
  if (!stop) {
    (void)ParallelFor(todo.size(), options.jobs, [&](size_t k) -> Result<void> {
      size_t i = todo[k];
      {
        std::lock_guard lock(mu);
        if (stop) return {};
      }
      auto result = WithContext(BuildPreparedImage(build[i], std::move(*prepared[i]), http, store),
                                "build " + entries[i].spec_path);
      prepared[i].reset();
      if (!result) return fail(i, result.error());
      std::optional<vuln::Summary> summary;
      std::vector<std::string> scan_warnings;
      const ArchBuild* row = RowArch(result->archs);
      if (!options.vuln_db.empty() && row) {
        auto scanned =
            ScanImage(build[i].output, build[i].tag, row->arch, options.vuln_db, scan_warnings);
        if (scanned) {
          summary = *scanned;
        } else {
          scan_warnings.push_back(
              fmt::format("{}: not scanned: {}", entries[i].name, scanned.error().message));
        }
      }
      std::lock_guard lock(mu);
      CatalogImage& image = report.images[i];
      image.status = CatalogStatus::kBuilt;
      image.digest = result->digest;
      image.archs = result->archs;
      if (row) {
        image.arch = row->arch;
        image.packages = row->packages;
        image.compressed_bytes = row->compressed_bytes;
      }
      if (summary) {
        image.cves = summary->unique;
        image.fixable_cves = summary->fixable_unique;
      }
      // Layers missing again (the cache pruned meanwhile) were built by the image itself.
      image.layers_built = layers_built[i] + result->layers_built;
      image.layers_reused =
          image_layers[i].size() - std::min(image.layers_built, image_layers[i].size());
      image.warnings = std::move(result->warnings);
      for (auto& w : scan_warnings) {
        if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) {
          warnings.push_back(std::move(w));
        }
      }
      LogInfo("{}: {}", Printable(image.name), image.digest);
      return {};
    });
  }
  // An image that was not built reuses nothing, but the layers built for it were built.
  for (size_t i = 0; i < n; ++i) {
    if (report.images[i].status != CatalogStatus::kBuilt) {
      report.images[i].layers_built = layers_built[i];
    }
  }
  // The same package in several images warns the same: once, naming them.
  std::map<std::string, std::vector<std::string>> images_of;
  std::vector<std::string> package_warnings;  // in order of first appearance
  for (const CatalogImage& image : report.images) {
    for (const std::string& w : image.warnings) {
      auto& names = images_of[w];
      if (names.empty()) package_warnings.push_back(w);
      names.push_back(image.name);
    }
  }
  for (const std::string& w : package_warnings) {
    const auto& names = images_of[w];
    warnings.push_back(names.size() == 1 ? fmt::format("{}: {}", names[0], w)
                                         : fmt::format("{} (in {})", w, fmt::join(names, ", ")));
  }
  report.warnings = std::move(warnings);
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace hardbase::pipeline
