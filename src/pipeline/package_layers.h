// One layer per package, built once and reused: the layer of a package depends only on the .deb's
// bytes, the file policy, the clamp time and the compression, so it is cached under a key made of
// exactly those, and the same package gives byte-identical layers in every image that holds it.
//
// A cached layer is the compressed blob in the cache plus a record (cache meta "layer-<key>")
// holding its digests, the list of its entries without contents (to check the image, e.g. that
// the entrypoint exists) and the package facts the image-wide steps need, so a rebuild with
// nothing changed reads no .deb and compresses nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "image/image_files.h"
#include "image/package_files.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

// What the builder needs to know about a finished layer.
struct LayerInfo {
  std::string digest;   // sha256 hex of the compressed blob
  uint64_t size = 0;    // compressed size
  std::string diff_id;  // sha256 hex of the uncompressed tar
};

struct PackageLayer {
  LayerInfo layer;
  std::vector<std::pair<std::string, image::ViewEntry>> entries;  // path -> what it is
  image::PackageFacts facts;
  std::vector<uint64_t> include_hits;
  std::vector<uint64_t> exclude_hits;
  uint64_t stripped = 0;
  uint64_t privileges_cleared = 0;
};

struct PackageLayerSettings {
  const image::FilePolicy* policy = nullptr;
  int64_t clamp_epoch = 0;
  oci::Compression compression = oci::Compression::kGzip;
};

// The cache key of a package's layer.
std::string PackageLayerKey(const spec::LockedPackage& package,
                            const PackageLayerSettings& settings);

// The cached layer for `key` when its record and blob are both intact in `store`.
Result<std::optional<PackageLayer>> FindPackageLayer(cache::BlobStore& store,
                                                     const std::string& key);

// Reads the package's .deb from `store` (it must be there, checked), builds and compresses its
// layer, and caches the blob and the record under `key`.
Result<PackageLayer> BuildPackageLayer(cache::BlobStore& store, const spec::LockedPackage& package,
                                       const PackageLayerSettings& settings,
                                       const std::string& key);

// The cached record of the layer `key` as stored (what a remote layer cache shares), when there
// is one.
Result<std::optional<std::string>> PackageLayerRecord(cache::BlobStore& store,
                                                      const std::string& key);

// Takes a record from elsewhere (a remote layer cache) as the layer of `key`, once the blob `blob`
// is in `store`: kIntegrity when the record cannot be read, names another blob (digest or size),
// or the blob does not decompress to the tar its diff_id names. Then cached like a layer built
// here.
Result<PackageLayer> AdoptPackageLayer(cache::BlobStore& store, const std::string& key,
                                       std::string_view record, const oci::Descriptor& blob);

// Compresses a small generated layer (skeleton, the image's own files), reusing an earlier
// compression of the same tar (cache meta "compressed-<compression>-<diff_id>").
Result<LayerInfo> StoreGeneratedLayer(cache::BlobStore& store, const std::string& tar,
                                      oci::Compression compression);

// The most package layers an image gets. Overlay filesystems stack a bounded number of layers
// (podman's and Docker's overlay drivers refuse images deeper than about 128), and the skeleton,
// top and dev-variant layers come on top of the packages'. An image of more packages (a dev image
// with build-essential has 150 to 270) keeps its largest ones as layers of their own and gets the
// rest in one merged layer.
inline constexpr size_t kMaxPackageLayers = 100;

// One layer holding the files of `layers` (package layers in `store`, in that order), each path
// once (oci::MergeLayerTars). Packages of one image never ship a path differently
// (image::StackPackages), so which copy of a shared directory or file stays decides nothing but
// the bytes. An earlier merge of the same layers is reused (cache meta "merged-..."). kIntegrity
// when a cached layer no longer matches its diff_id.
Result<LayerInfo> MergePackageLayers(cache::BlobStore& store, const std::vector<LayerInfo>& layers,
                                     oci::Compression compression);

}  // namespace hardbase::pipeline
