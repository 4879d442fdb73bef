// Package layers shared between machines through a registry (`--cache-repo HOST/REPO`), so that
// the runners of a CI matrix compute each layer once between them.
//
// A cached layer is a small OCI artifact in the cache repository, tagged with the layer's cache
// key (PackageLayerKey: the .deb's sha256, the paths filter, the timestamp clamp and the
// compression, all in the key): its config is the layer's record (what the build needs besides
// the bytes: digests, entries, package facts) and its one layer the compressed layer blob. A build
// looks a missing layer up by its key (one HEAD), downloads the two blobs into its own cache and
// checks them (digest, record naming that blob, the blob decompressing to the diff_id the record
// names); a layer it builds it publishes the same way.
//
// Trust: whoever can push to the cache repository decides what goes into the images built from
// it, as whoever can push to the images' own repository does; give it the same access control.
// The checks above catch damage and mix-ups, not a deliberate forgery of a record and its blob.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "oci/layer.h"
#include "pipeline/package_layers.h"
#include "registry/client.h"

namespace hardbase::pipeline {

inline constexpr std::string_view kLayerCacheArtifactType =
    "application/vnd.hardbase.package-layer.v1";
inline constexpr std::string_view kLayerRecordMediaType =
    "application/vnd.hardbase.package-layer.record.v1+json";

class RemoteLayerCache {
 public:
  // `repo` is "HOST[:PORT]/REPOSITORY" (no tag or digest). Nothing is sent yet.
  static Result<std::unique_ptr<RemoteLayerCache>> Open(std::string_view repo,
                                                        registry::RegistryOptions options);
  // Over a registry opened by the caller (tests).
  RemoteLayerCache(std::unique_ptr<registry::Registry> registry, std::string repository);

  // The layer of `key` from the cache repository, adopted into `store` (see AdoptPackageLayer);
  // nullopt when the repository does not have it. A damaged or mismatched entry is kIntegrity
  // naming the key. Thread-safe.
  Result<std::optional<PackageLayer>> Fetch(const std::string& key, cache::BlobStore& store);

  // Publishes the layer of `key` from `store` (it must be cached there), unless the repository
  // has it already (an entry Fetch found damaged is replaced). Thread-safe.
  Result<void> Publish(const std::string& key, oci::Compression compression,
                       cache::BlobStore& store);

  // Fetch over `keys`, `workers` at a time (0: one per core; at least 4): the layers the repository
  // has. A damaged entry is left out with a warning in `warnings` (the layer is then built and
  // published again); any other failure (the registry unreachable, credentials refused) fails.
  Result<std::map<std::string, PackageLayer>> FetchAll(const std::set<std::string>& keys,
                                                       unsigned workers, cache::BlobStore& store,
                                                       std::vector<std::string>& warnings);
  // Publish over `keys`, as many at a time as FetchAll.
  Result<void> PublishAll(const std::set<std::string>& keys, oci::Compression compression,
                          unsigned workers, cache::BlobStore& store);

  // Which of `keys` the repository has (one listing of its tags).
  Result<std::set<std::string>> Present(const std::set<std::string>& keys);

  // Whether Fetch found the entry of `key` damaged (so it is to be built and replaced).
  bool Damaged(const std::string& key);

  // "HOST/REPOSITORY", for messages.
  std::string Name() const;

  // What this object did: layers downloaded and published.
  size_t fetched() const { return fetched_; }
  size_t published() const { return published_; }

 private:
  std::unique_ptr<registry::Registry> registry_;
  std::string repository_;
  std::mutex mu_;
  std::set<std::string> damaged_;  // keys whose entry Fetch refused
  std::atomic<size_t> fetched_ = 0;
  std::atomic<size_t> published_ = 0;
};

}  // namespace hardbase::pipeline
