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
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "sign/keys.h"

namespace hardbase::pipeline {

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
  bool strict = false;      // a `paths:` glob that matches nothing is an error, not a warning
  // `files:` sources may lie outside the spec's directory tree (given as absolute or '..' paths,
  // or reached through symlinks); by default a spec can only copy what is beside it.
  bool allow_outside_files = false;
  std::optional<int64_t> source_date_epoch;  // overrides the lock's timestamp
  std::string apt_root = "/";
  // With a key: sign every manifest (and the index), and attest each platform's SPDX SBOM and its
  // SLSA provenance; the signatures name `docker_reference` (default: the tag's repository).
  const sign::PrivateKey* sign_key = nullptr;
  std::string docker_reference;
};

struct ArchBuild {
  std::string arch;
  std::string manifest_digest;  // "sha256:<hex>"
  size_t packages = 0;
  size_t layers = 0;
  uint64_t compressed_bytes = 0;  // config + layers
};

struct BuildResult {
  std::string digest;  // of what index.json points at: the manifest, or the index for several archs
  std::vector<ArchBuild> archs;
  size_t layers_built = 0;
  size_t layers_cached = 0;
  std::vector<std::string> left_out;  // "dpkg (package manager)", per hardening policy
  size_t artifacts = 0;  // SBOMs, signatures and attestations stored with the image
};

Result<BuildResult> BuildImage(const BuildOptions& options, net::HttpClient& http,
                               cache::BlobStore& store);

}  // namespace hardbase::pipeline
