// Parsers of the OCI and Docker image documents read back from images hardbase did not
// necessarily write: manifests, indexes (manifest lists) and configs. Their input is untrusted;
// every malformed document is a kSpec error naming the field, never a crash (fuzzed).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "oci/image.h"

namespace hardbase::oci {

// Docker's media types (image manifest v2 schema 2), which images from `docker save` or Docker
// registries carry; read like their OCI counterparts.
inline constexpr std::string_view kMediaTypeDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kMediaTypeDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kMediaTypeDockerConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kMediaTypeLayerTar = "application/vnd.oci.image.layer.v1.tar";

bool IsManifestMediaType(std::string_view media_type);  // OCI or Docker
bool IsIndexMediaType(std::string_view media_type);     // OCI index or Docker manifest list
// A filesystem layer: OCI tar / tar+gzip / tar+zstd (also non-distributable) or Docker's.
bool IsLayerMediaType(std::string_view media_type);

struct Manifest {
  std::string media_type;  // the document's mediaType; OCI's when it names none
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::string media_type;  // OCI's when the document names none
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

// Descriptors are checked: digest "sha256:<64 hex>" (another algorithm: "unsupported digest
// algorithm"), size >= 0, mediaType present; artifactType, annotations and platform are kept.
Result<Manifest> ParseManifest(std::string_view json);
Result<Index> ParseIndex(std::string_view json);
// An OCI or Docker image config: platform, created, user, env, entrypoint, cmd, working dir,
// labels, diff_ids and history (JSON nulls, as Docker writes them, read as empty).
Result<ImageConfig> ParseConfig(std::string_view json);

}  // namespace hardbase::oci
