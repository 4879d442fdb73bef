// `hardbase build`: from a spec and its lock to an OCI image.
//
// Per architecture: the skeleton layer, one layer per package (cached, see package_layers.h), and
// the image's own layer on top (accounts, trust stores, alternatives, `files:`), then the config,
// the manifest, and for several architectures an image index. Each platform's SPDX and CycloneDX
// SBOMs are stored with it as OCI referrers; with a key, signatures and attestations too
// (signatures.h). Everything is derived from the lock,
// the spec and the files it names, with timestamps from the lock (or SOURCE_DATE_EPOCH), so the
// same inputs give the same digest on any machine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "image/image_files.h"
#include "image/package_files.h"
#include "net/http.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "pipeline/package_layers.h"
#include "sign/keys.h"
#include "spec/image_spec.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

class RemoteLayerCache;

struct BuildOptions {
  std::string spec_path;
  std::string lock_path;  // empty: next to the spec
  bool locked = false;    // build exactly the lock; never re-resolve
  bool offline = false;   // when (re-)locking: use the cached release files
  std::string output;
  oci::OutputFormat format = oci::OutputFormat::kOciLayout;
  std::string tag = "latest";
  oci::Compression compression = oci::Compression::kGzip;
  bool layer_cache = true;  // reuse cached package layers
  // A `paths:` glob that matches nothing is an error, not a warning; so is an ELF file for another
  // processor where Debian legitimately ships one (multilib, cross trees, firmware: see
  // image::CheckElfMachines).
  bool strict = false;
  // `files:` sources may lie outside the spec's directory tree (given as absolute or '..' paths,
  // or reached through symlinks); by default a spec can only copy what is beside it.
  bool allow_outside_files = false;
  std::optional<int64_t> source_date_epoch;  // overrides the lock's timestamp
  std::string apt_root = "/";
  // With a key: sign every manifest (and the index), and attest each platform's SPDX SBOM and its
  // SLSA provenance; the signatures name `docker_reference` (default: the tag's repository).
  const sign::PrivateKey* sign_key = nullptr;
  std::string docker_reference;
  // --cache-repo: where package layers missing from the local cache are looked for first, and
  // where the layers built are published (remote_layer_cache.h). Null: the local cache only.
  RemoteLayerCache* remote_cache = nullptr;
};

struct ArchBuild {
  std::string arch;
  std::string manifest_digest;  // "sha256:<hex>"
  size_t packages = 0;
  size_t layers = 0;
  uint64_t compressed_bytes = 0;  // config + layers
  // The image's ELF files (executables, libraries, objects), all checked against the architecture
  // (image::CheckElfMachines), and how many of each identity ("AArch64 (64-bit LSB)": 112).
  size_t elf_files = 0;
  std::map<std::string, size_t> elf_machines = {};
};

struct BuildResult {
  std::string digest;  // of what index.json points at: the manifest, or the index for several archs
  std::vector<ArchBuild> archs;
  size_t layers_built = 0;
  size_t layers_cached = 0;           // found in the local cache or fetched from the remote one
  size_t layers_fetched = 0;          // of those, fetched from the remote cache
  std::vector<std::string> left_out;  // "dpkg (package manager)", per hardening policy
  size_t artifacts = 0;               // SBOMs, signatures and attestations stored with the image
  // What the build has to say about the packages, one line each, for the caller to show: setup
  // lines of their maintainer scripts that were not applied, scripts whose `#!` interpreter the
  // image lacks. Warnings, even with --strict: they are about the packages, not the spec.
  std::vector<std::string> warnings;
};

Result<BuildResult> BuildImage(const BuildOptions& options, net::HttpClient& http,
                               cache::BlobStore& store);

// A package layer an image stacks: the locked package (pointing into the lock that holds it) and
// its layer's cache key.
struct WantedLayer {
  const spec::LockedPackage* package = nullptr;
  std::string key;
};

// A spec ready to build, all read and checked before anything is built: the spec, its `paths:`
// policy and `files:`, its lock (made first when needed, see BuildOptions::locked), and per
// architecture the package layers the image stacks. BuildImage starts from one; `catalog build`
// prepares every image of a catalog first, so that the layers they share are built once.
// Move-only: `layers` points into `lock`, and `settings` at `policy`.
struct PreparedBuild {
  spec::ImageSpec spec;
  std::unique_ptr<image::FilePolicy> policy;
  std::vector<image::LocalFile> local_files;
  std::string lock_path;
  spec::Lock lock;
  int64_t epoch = 0;  // of every timestamp: BuildOptions::source_date_epoch, else the lock's
  PackageLayerSettings settings;
  std::map<std::string, std::vector<WantedLayer>> layers;  // by architecture, in lock order
  std::vector<std::string> left_out;  // "dpkg (package manager)", per hardening policy
};

Result<PreparedBuild> PrepareBuild(const BuildOptions& options, net::HttpClient& http,
                                   cache::BlobStore& store);

// BuildImage's work after PrepareBuild: the missing package layers, then the image.
Result<BuildResult> BuildPreparedImage(const BuildOptions& options, PreparedBuild prepared,
                                       net::HttpClient& http, cache::BlobStore& store);

// Makes the .debs of the layers named by `keys` (keys of `prepared.layers`) present in `store`,
// fetched from the spec's repositories (or the host's, read under `apt_root`).
Result<void> FetchLayerDebs(const PreparedBuild& prepared, const std::set<std::string>& keys,
                            const std::string& apt_root, net::HttpClient& http,
                            cache::BlobStore& store);

// A package layer to build; its .deb must be in the store.
struct LayerJob {
  std::string key;
  const spec::LockedPackage* package = nullptr;
  const PackageLayerSettings* settings = nullptr;
};

// Called with each job's outcome, one call at a time; an error it returns stops the workers
// from starting further jobs and is BuildPackageLayers' result.
using LayerDone = std::function<Result<void>(const LayerJob&, Result<PackageLayer>)>;

// Builds every job's layer (BuildPackageLayer) on `workers` threads (0: one per core), the
// largest packages first so that the long ones start early and the workers finish together.
// With `publish_to`, each layer is published there as soon as it is built (those waiting for it
// elsewhere get it while the rest are built); a failed publish is that layer's failure.
Result<void> BuildPackageLayers(std::vector<LayerJob> jobs, unsigned workers,
                                cache::BlobStore& store, const LayerDone& done,
                                RemoteLayerCache* publish_to = nullptr);

}  // namespace hardbase::pipeline
