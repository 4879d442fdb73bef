// `hardbase catalog build`: many specs built together, sharing one cache.
//
// A catalog is a directory of entries, DIR/<name>/image.yaml each (usually a runtime image <name>
// beside <name>-dev, its build-stage variant), with a README.md. Specs do not build on each other:
// what images share is package layers. So a catalog is built in phases, each over every selected
// entry before the next starts: check the specs and output paths, lock (the lock beside each spec,
// made when missing or stale, or required as it is with `locked`), build the union of the package
// layers missing from the cache (each distinct layer once, by one worker, largest first), then
// assemble and write every image from the cached layers, and scan it when a vulnerability
// database is given. A failed entry does not stop the others unless `fail_fast`; an image whose
// layer failed fails with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/catalog_plan.h"

namespace hardbase::pipeline {

inline constexpr std::string_view kCatalogSpecName = "image.yaml";

struct CatalogEntry {
  std::string name;       // the entry's directory name
  std::string spec_path;  // DIR/<name>/image.yaml
  bool operator==(const CatalogEntry&) const = default;
};

// The entries of the catalog at `dir`, sorted by name: every directory in it (or symbolic link to
// one) that holds an image.yaml; other directories and files (README.md) are not entries.
// kNotFound when `dir` does not exist, kIo when it cannot be read.
Result<std::vector<CatalogEntry>> DiscoverCatalog(const std::string& dir);

// The entries named in `only`, in catalog order (all of them when `only` is empty; a name given
// twice counts once). kUsage for a name the catalog lacks, suggesting the nearest when one is
// close ("unknown catalog entry 'pyton3' (did you mean 'python3'?)").
Result<std::vector<CatalogEntry>> SelectEntries(const std::vector<CatalogEntry>& entries,
                                                const std::vector<std::string>& only);

// The selected entries of the catalog at `dir` (DiscoverCatalog, then SelectEntries); kNotFound
// when it has no entry at all.
Result<std::vector<CatalogEntry>> CatalogEntries(const std::string& dir,
                                                 const std::vector<std::string>& only);

// Who builds the layers missing from the cache: each by the first image (in catalog order) that
// stacks it. An image "builds" the missing layers it is first to need and "reuses" the rest of
// its distinct layers, cached before or built for an earlier image; so the images' built counts
// add up to the number of distinct missing layers.
struct LayerShare {
  std::map<std::string, size_t> owner;  // missing layer key -> index of the image that builds it
  std::vector<size_t> built;            // per image
  std::vector<size_t> reused;           // per image
};
LayerShare ShareLayers(const std::vector<std::set<std::string>>& image_layers,
                       const std::set<std::string>& missing);

// unchanged: with changed_only, OUT/<name> was built from the same inputs (build_record.h);
// skipped: after a failure, --fail-fast.
enum class CatalogStatus { kBuilt, kUnchanged, kFailed, kSkipped };

// One entry's outcome. The numbers describe one platform: the only one, else the host's when
// it was built, else the first.
struct CatalogImage {
  std::string name;
  std::string output;  // OUT/<name>
  CatalogStatus status = CatalogStatus::kSkipped;
  std::optional<Error> error;  // with kFailed: what failed, naming the entry
  std::string digest;          // what the layout's index.json points at
  std::string arch;
  size_t packages = 0;
  uint64_t compressed_bytes = 0;  // config and layers
  std::optional<int> cves;        // distinct (CVE, source package) pairs; none without a database
  std::optional<int> fixable_cves;
  size_t layers_built = 0;  // package layers, see LayerShare
  size_t layers_reused = 0;
  std::vector<ArchBuild> archs;
  std::vector<std::string> warnings;  // about its packages (BuildResult::warnings)
};

struct CatalogReport {
  std::vector<CatalogImage> images;  // in catalog order; with a shard, its entries only
  std::optional<Shard> shard;
  double wall_seconds = 0;
  // With a remote layer cache: the layers fetched from it and published to it.
  size_t layers_fetched = 0;
  size_t layers_published = 0;
  // About the vulnerability data, and the images' warnings about their packages, each once (the
  // images it concerns named when there are several).
  std::vector<std::string> warnings;
};

struct CatalogTotals {
  size_t images = 0;
  size_t built = 0;
  size_t unchanged = 0;
  size_t failed = 0;
  size_t skipped = 0;
  size_t layers_built = 0;
  size_t layers_reused = 0;
  double share_reused = 0;  // layers_reused / (layers_built + layers_reused); 0 when none
};
CatalogTotals Totals(const CatalogReport& report);

// "sha256:0123456789ab": a digest cut to 12 hex digits for the table.
std::string ShortDigest(std::string_view digest);

// The summary for people: one row per image (name, digest, packages, compressed size, CVEs or
// "-" without a database, layers built and reused), then the totals. Names are made printable.
std::string RenderCatalogTable(const CatalogReport& report);
// The same as JSON: {"images": [{name, status, output, digest, arch, packages, compressedBytes,
// cves, fixableCves, layersBuilt, layersReused, archs[], error?}], "totals": {images, built,
// failed, skipped, layersBuilt, layersReused, shareReused, wallSeconds}, "warnings": []}.
// A missing number (a failed image's digest, CVEs without a database) is null.
std::string RenderCatalogJson(const CatalogReport& report);

struct CatalogOptions {
  std::string dir;
  std::vector<std::string> only;  // entry names; empty: every entry
  unsigned jobs = 0;              // workers building layers and images; 0: one per core
  bool fail_fast = false;
  // Leave alone an entry whose OUT/<name> was built from exactly the inputs it would be built
  // from now (build_record.h): reported kUnchanged with its digest, not rebuilt nor scanned.
  bool changed_only = false;
  std::string output_dir = "out/catalog";
  std::string vuln_db;  // scan each image against this database; "": no scan
  // Build only this shard's entries (catalog_plan.h), from their locks as they are (every runner
  // must plan from the same locks), and with a remote cache (build.remote_cache) build only the
  // layers the shard owns: the others it waits for, up to `remote_wait`, then builds itself.
  std::optional<Shard> shard;
  std::chrono::seconds remote_wait{1800};
  // What every image is built with (locked, offline, tag, compression, strict, signing, ...);
  // spec_path, lock_path, output and format are set per entry (an OCI layout at OUT/<name>),
  // and signatures name each spec's own `name` unless docker_reference is set.
  BuildOptions build;
};

// The split of the selected entries (`options.only`) into `shards`, from their locks as they are.
// Fails as a whole when an entry cannot be planned (no lock, a broken spec), naming it.
Result<CatalogPlan> PlanCatalogBuild(const CatalogOptions& options, size_t shards,
                                     net::HttpClient& http, cache::BlobStore& store);

// Builds the catalog. Fails as a whole only when nothing can be tried (the directory cannot be
// read, `only` names an unknown entry); each entry's failure is in its CatalogImage.
Result<CatalogReport> BuildCatalog(const CatalogOptions& options, net::HttpClient& http,
                                   cache::BlobStore& store);

}  // namespace hardbase::pipeline
