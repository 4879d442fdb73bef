// OCI image documents (config, manifest, index) and where they are written: an OCI image layout
// directory, an oci-archive (that layout as a tar) or a docker-archive (for `docker load`).
//
// Every document is serialised deterministically (fixed key order, no insignificant whitespace),
// so equal values give equal digests. Writers are atomic: the output appears complete, or the
// previous file or directory at that path stays as it was.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/time.h"

namespace hardbase::oci {

inline constexpr std::string_view kMediaTypeIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaTypeManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaTypeConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kAnnotationCreated = "org.opencontainers.image.created";
// The empty JSON blob "{}": the config of artifact manifests (signatures, SBOMs, attestations).
inline constexpr std::string_view kMediaTypeEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kEmptyJson = "{}";

struct Platform {
  std::string architecture;  // Go names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64, ...
  std::string os = "linux";
  std::string variant;  // e.g. "v8" for arm64, "v7" for armhf; empty when none
  bool operator==(const Platform&) const = default;
};

// "os/architecture[/variant]": "linux/amd64", "linux/arm64/v8".
std::string PlatformName(const Platform& platform);

// Debian architecture name -> OCI platform (amd64 -> amd64, arm64 -> arm64/v8, armhf -> arm/v7,
// armel -> arm/v5, i386 -> 386, ppc64el -> ppc64le, s390x, riscv64, mips64el -> mips64le).
Result<Platform> PlatformForDebianArch(std::string_view debian_arch);

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
  std::optional<Platform> platform;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  bool operator==(const Descriptor&) const = default;
};

// "sha256:<hex>" -> "<hex>" (what a layout names the blob's file, cosign its tags after).
std::string_view DigestHex(std::string_view digest);

// The tag of an index entry: its org.opencontainers.image.ref.name annotation, "" when none.
std::string RefName(const Descriptor& d);

// A blob with its descriptor, built from bytes.
struct Blob {
  Descriptor descriptor;
  std::string bytes;
};
Blob MakeBlob(std::string media_type, std::string bytes);

struct HistoryEntry {
  std::string created;     // RFC 3339 UTC
  std::string created_by;  // e.g. "hardbase: libc6 2.36-9+deb12u14"
  std::string comment;
  bool empty_layer = false;
};

struct ImageConfig {
  Platform platform;
  std::string created;           // RFC 3339 UTC, from the build's timestamp
  std::string user;              // "uid:gid" or a name
  std::vector<std::string> env;  // "KEY=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  // Docker's ExposedPorts keys ("8080/tcp"), sorted; and Healthcheck.Test (["CMD", "x"],
  // ["CMD-SHELL", "x"], ["NONE"] to turn an inherited one off; empty when there is none).
  // hardbase writes neither; read back from others' images (`audit`).
  std::vector<std::string> exposed_ports;
  std::vector<std::string> healthcheck;
  std::vector<std::string> diff_ids;  // "sha256:<hex>" of each uncompressed layer, bottom first
  std::vector<HistoryEntry> history;
};

// The config JSON (application/vnd.oci.image.config.v1+json).
std::string ConfigJson(const ImageConfig& config);

// The manifest JSON: schemaVersion 2, mediaType, config, layers, optional subject/artifactType,
// annotations (omitted when empty).
std::string ManifestJson(const Descriptor& config, const std::vector<Descriptor>& layers,
                         const std::map<std::string, std::string>& annotations,
                         const std::optional<Descriptor>& subject = std::nullopt,
                         std::string_view artifact_type = "");

// The image index JSON over `manifests` (in the given order).
std::string IndexJson(const std::vector<Descriptor>& manifests,
                      const std::map<std::string, std::string>& annotations = {});

using ::hardbase::Rfc3339;  // base/time.h

// Where the bytes of a blob come from when writing an image: in memory, or a file (e.g. the cache)
// that is copied (copy_file_range) into the output.
struct BlobSource {
  Descriptor descriptor;
  std::string bytes;  // used when `path` is empty
  std::string path;
};

// Writes one blob to the file `path` atomically (a temporary sibling, fsynced, renamed into
// place), checked against its descriptor (kIntegrity on a mismatch).
Result<void> WriteBlobFile(const BlobSource& blob, const std::string& path);

// A whole image to write: every blob it needs (configs, manifests, layers, nested indexes), and
// the descriptor index.json points at (a manifest for a one-platform image, an image index for
// several), tagged with `tag` (org.opencontainers.image.ref.name) unless `tag` is empty.
// `artifacts` are further index.json entries after the root: the manifests of SBOMs, signatures
// and attestations that travel with the image (OCI referrers, cosign's tags), whose blobs are in
// `blobs` too.
struct ImageOutput {
  std::vector<BlobSource> blobs;
  Descriptor root;
  std::string tag;
  std::vector<Descriptor> artifacts;
};

enum class OutputFormat { kOciLayout, kOciArchive, kDockerArchive };
// The formats' names, in the order above: "oci", "oci-archive", "docker-archive".
std::span<const std::string_view> OutputFormatNames();
// kUsage naming the choices for anything else.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

// Writes `image` to `path` atomically: an OCI layout directory (oci-layout, index.json,
// blobs/sha256/...) built in a temporary sibling and swapped into place (an existing directory at
// `path` is replaced only when the new one is complete); an oci-archive, the same layout as a tar
// file; or a docker-archive as `docker save` writes it since Docker 25: that same layout tar plus a
// manifest.json ([{"Config":"blobs/sha256/<hex>","RepoTags":[tag],"Layers":["blobs/sha256/<hex>",
// ...]}]) that `docker load` and skopeo read; docker-archive holds one platform (kUsage otherwise).
// Blob bytes are checked against their descriptors while writing (kIntegrity on a mismatch).
Result<void> WriteImage(const ImageOutput& image, OutputFormat format, const std::string& path);

}  // namespace hardbase::oci
