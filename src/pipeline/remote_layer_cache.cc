#include "pipeline/remote_layer_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "base/parallel.h"
#include "base/sha256.h"
#include "oci/image.h"
#include "oci/image_ref.h"
#include "oci/image_target.h"
#include "oci/manifest.h"

namespace hardbase::pipeline {
namespace {

// The manifest's annotation naming the key it is tagged with, so that an artifact copied under
// another tag is not taken for that tag's layer.
constexpr std::string_view kKeyAnnotation = "dev.hardbase.layer.key";

// A record holds every entry of a package's layer; the biggest Debian packages (tens of thousands
// of files) give a few MB.
constexpr int64_t kMaxRecordSize = int64_t{64} << 20;
// A package layer is one package compressed.
constexpr int64_t kMaxLayerSize = int64_t{4} << 30;

// The blob `blob` of the repository, checked against its descriptor.
Result<std::string> GetCheckedBlob(registry::Registry& registry, std::string_view repository,
                                   const oci::Descriptor& blob) {
  std::string bytes;
  HB_TRY_VOID(registry.GetBlob(repository, blob, [&](std::string_view data) -> Result<void> {
    if (bytes.size() + data.size() > static_cast<uint64_t>(blob.size)) {
      return Fail(ErrorCode::kIntegrity, "blob " + blob.digest + " is longer than its descriptor");
    }
    bytes.append(data);
    return {};
  }));
  if (bytes.size() != static_cast<uint64_t>(blob.size) ||
      "sha256:" + Sha256Hex(bytes) != blob.digest) {
    return Fail(ErrorCode::kIntegrity, "blob " + blob.digest + " does not match its descriptor");
  }
  return bytes;
}

// Transfers wait on the network more than on the processor: at least 4 at a time.
unsigned Transfers(unsigned workers) {
  return std::max(workers ? workers : std::thread::hardware_concurrency(), 4u);
}

}  // namespace

Result<std::unique_ptr<RemoteLayerCache>> RemoteLayerCache::Open(
    std::string_view repo, registry::RegistryOptions options) {
  auto ref = oci::ParseImageRef("docker://" + std::string(repo));
  if (!ref || !ref->tag.empty() || !ref->digest.empty()) {
    return Fail(ErrorCode::kUsage, fmt::format("--cache-repo {}: want HOST[:PORT]/REPOSITORY, "
                                               "without a tag or digest",
                                               repo));
  }
  HB_TRY(auto registry, registry::Registry::Open(ref->registry, std::move(options)));
  return std::make_unique<RemoteLayerCache>(std::move(registry), ref->repository);
}

RemoteLayerCache::RemoteLayerCache(std::unique_ptr<registry::Registry> registry,
                                   std::string repository)
    : registry_(std::move(registry)), repository_(std::move(repository)) {}

Result<std::set<std::string>> RemoteLayerCache::Present(const std::set<std::string>& keys) {
  std::vector<std::string> todo(keys.begin(), keys.end());
  std::set<std::string> present;
  std::mutex mu;
  HB_TRY_VOID(ParallelFor(todo.size(), Transfers(0), [&](size_t i) -> Result<void> {
    HB_TRY(auto found,
           WithContext(registry_->HeadManifest(repository_, todo[i]), "layer cache " + Name()));
    std::lock_guard lock(mu);
    if (found) present.insert(todo[i]);
    return {};
  }));
  return present;
}

bool RemoteLayerCache::Damaged(const std::string& key) {
  std::lock_guard lock(mu_);
  return damaged_.count(key) > 0;
}

std::string RemoteLayerCache::Name() const { return registry_->host() + "/" + repository_; }

Result<std::optional<PackageLayer>> RemoteLayerCache::Fetch(const std::string& key,
                                                            cache::BlobStore& store) {
  const std::string what = fmt::format("layer cache {} entry {}", Name(), key);
  auto got = registry_->GetManifest(repository_, key);
  if (!got && got.error().code == ErrorCode::kNotFound) return std::nullopt;
  HB_TRY(registry::ManifestBytes bytes, WithContext(std::move(got), what));
  auto fail = [&](std::string why) { return Fail(ErrorCode::kIntegrity, what + ": " + why); };
  auto manifest = oci::ParseManifest(bytes.bytes);
  if (!manifest) return fail(manifest.error().message);
  if (manifest->artifact_type != kLayerCacheArtifactType ||
      manifest->config.media_type != kLayerRecordMediaType || manifest->layers.size() != 1) {
    return fail("not a hardbase package layer (artifactType '" + manifest->artifact_type + "')");
  }
  auto named = manifest->annotations.find(std::string(kKeyAnnotation));
  if (named == manifest->annotations.end() || named->second != key) {
    return fail("the artifact is not the one made for this key");
  }
  const oci::Descriptor& layer = manifest->layers[0];
  if (manifest->config.size > kMaxRecordSize || layer.size > kMaxLayerSize) {
    return fail("its record or layer is larger than any package's");
  }
  if (!oci::IsLayerMediaType(layer.media_type)) {
    return fail("its blob is not a layer (mediaType '" + layer.media_type + "')");
  }
  HB_TRY(std::string record,
         WithContext(GetCheckedBlob(*registry_, repository_, manifest->config), what));
  HB_TRY(auto have, store.Find(oci::DigestHex(layer.digest)));
  if (!have) {
    HB_TRY(std::string blob, WithContext(GetCheckedBlob(*registry_, repository_, layer), what));
    HB_TRY_VOID(store.Put(blob).map([](auto) {}));
  }
  HB_TRY(PackageLayer adopted, WithContext(AdoptPackageLayer(store, key, record, layer), what));
  ++fetched_;
  return adopted;
}

Result<void> RemoteLayerCache::Publish(const std::string& key, oci::Compression compression,
                                       cache::BlobStore& store) {
  const std::string what = fmt::format("layer cache {} entry {}", Name(), key);
  bool replace;
  {
    std::lock_guard lock(mu_);
    replace = damaged_.count(key) > 0;
  }
  if (!replace) {
    HB_TRY(auto present, WithContext(registry_->HeadManifest(repository_, key), what));
    if (present) return {};  // another runner was first
  }
  HB_TRY(auto record, PackageLayerRecord(store, key));
  HB_TRY(auto layer, FindPackageLayer(store, key));
  if (!record || !layer) return Fail(ErrorCode::kInternal, what + ": not in the local cache");
  HB_TRY(auto path, store.Find(layer->layer.digest));
  if (!path) return Fail(ErrorCode::kInternal, what + ": its blob left the local cache");

  oci::Descriptor config;
  config.media_type = kLayerRecordMediaType;
  config.digest = "sha256:" + Sha256Hex(*record);
  config.size = static_cast<int64_t>(record->size());
  oci::Descriptor blob;
  blob.media_type = oci::LayerMediaType(compression);
  blob.digest = "sha256:" + layer->layer.digest;
  blob.size = static_cast<int64_t>(layer->layer.size);
  for (const auto& [descriptor, open] :
       {std::pair{blob, oci::FileOpener(*path)},
        std::pair{config, oci::BytesOpener(std::make_shared<const std::string>(*record))}}) {
    HB_TRY(bool has, WithContext(registry_->HasBlob(repository_, descriptor.digest), what));
    if (!has) {
      HB_TRY_VOID(WithContext(registry_->PutBlob(repository_, descriptor, open, nullptr), what));
    }
  }
  std::string manifest = oci::ManifestJson(config, {blob}, {{std::string(kKeyAnnotation), key}},
                                           std::nullopt, kLayerCacheArtifactType);
  HB_TRY_VOID(WithContext(
      registry_->PutManifest(repository_, key, std::string(oci::kMediaTypeManifest), manifest)
          .map([](auto) {}),
      what));
  ++published_;
  std::lock_guard lock(mu_);
  damaged_.erase(key);
  return {};
}

Result<std::map<std::string, PackageLayer>> RemoteLayerCache::FetchAll(
    const std::set<std::string>& keys, unsigned workers, cache::BlobStore& store,
    std::vector<std::string>& warnings) {
  std::vector<std::string> todo(keys.begin(), keys.end());
  std::map<std::string, PackageLayer> found;
  std::mutex mu;
  HB_TRY_VOID(ParallelFor(todo.size(), Transfers(workers), [&](size_t i) -> Result<void> {
    auto layer = Fetch(todo[i], store);
    std::lock_guard lock(mu);
    if (!layer && layer.error().code == ErrorCode::kIntegrity) {
      warnings.push_back(layer.error().message + " (built again and replaced)");
      std::lock_guard damaged(mu_);
      damaged_.insert(todo[i]);
      return {};
    }
    HB_TRY(auto got, std::move(layer));
    if (got) found.emplace(todo[i], std::move(*got));
    return {};
  }));
  return found;
}

Result<void> RemoteLayerCache::PublishAll(const std::set<std::string>& keys,
                                          oci::Compression compression, unsigned workers,
                                          cache::BlobStore& store) {
  std::vector<std::string> todo(keys.begin(), keys.end());
  return ParallelFor(todo.size(), Transfers(workers),
                     [&](size_t i) { return Publish(todo[i], compression, store); });
}

}  // namespace hardbase::pipeline
