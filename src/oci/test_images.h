// Test helpers: small images built with hardbase's own layer and document writers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "oci/image.h"
#include "oci/image_source.h"
#include "oci/layer.h"
#include "oci/tar_writer.h"

namespace hardbase::oci::testing {

inline LayerEntry FileEntry(std::string path, std::string content, uint32_t mode = 0644) {
  LayerEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

inline LayerEntry DirEntry(std::string path) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = LayerEntryType::kDirectory;
  e.mode = 0755;
  return e;
}

inline LayerEntry LinkEntry(std::string path, std::string target, LayerEntryType type) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = 0777;
  e.link_target = std::move(target);
  return e;
}

inline std::string Tar(std::vector<LayerEntry> entries) {
  return *WriteLayerTar(std::move(entries));
}

// A layer tar with members WriteLayerTar does not write: hard links to lower layers' files,
// devices.
inline std::string RawTar(const std::vector<LayerEntry>& entries) {
  std::string tar;
  for (const auto& e : entries) {
    uint64_t size = e.content ? e.content->size() : 0;
    AppendTarHeader(e, size, &tar);
    if (e.content) tar += *e.content + std::string(TarPadding(size), '\0');
  }
  return tar + std::string(kTarTrailerSize, '\0');
}

inline const Platform kAmd64{"amd64", "linux", ""};
inline const Platform kArm64{"arm64", "linux", "v8"};
// A path filter that takes every path.
inline const PathFilter kAll = [](std::string_view) { return true; };

// One platform's image over the layer tars `layers` (bottom first): its blobs and its manifest's
// descriptor.
struct TestImage {
  std::vector<BlobSource> blobs;
  Descriptor manifest;
  std::vector<Descriptor> layers;
};

inline TestImage MakeTestImage(const std::vector<std::string>& layers,
                               const Platform& platform = {"amd64", "linux", ""},
                               Compression compression = Compression::kGzip) {
  TestImage image;
  ImageConfig config;
  config.platform = platform;
  config.created = Rfc3339(1739011441);
  config.entrypoint = {"/bin/app"};
  for (const auto& tar : layers) {
    config.diff_ids.push_back("sha256:" + Sha256Hex(tar));
    Blob layer =
        MakeBlob(std::string(LayerMediaType(compression)), *CompressLayer(tar, compression, 1));
    image.layers.push_back(layer.descriptor);
    image.blobs.push_back({layer.descriptor, layer.bytes, ""});
  }
  Blob config_blob = MakeBlob(std::string(kMediaTypeConfig), ConfigJson(config));
  Blob manifest = MakeBlob(std::string(kMediaTypeManifest),
                           ManifestJson(config_blob.descriptor, image.layers, {}));
  image.blobs.push_back({config_blob.descriptor, config_blob.bytes, ""});
  image.blobs.push_back({manifest.descriptor, manifest.bytes, ""});
  image.manifest = manifest.descriptor;
  image.manifest.platform = platform;
  return image;
}

// What WriteImage needs for one image and no artifacts.
inline ImageOutput Output(std::vector<BlobSource> blobs, Descriptor root, std::string tag) {
  ImageOutput out;
  out.blobs = std::move(blobs);
  out.root = std::move(root);
  out.tag = std::move(tag);
  return out;
}

}  // namespace hardbase::oci::testing
