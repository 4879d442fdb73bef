// `hardbase reproduce IMAGE`: rebuild an image from the SLSA provenance attached to it and say
// whether the bytes are the same.
//
// The provenance (describe_image.h) names the spec and lock by sha256, every .deb by sha256, the
// compression and the timestamp. The spec and lock given (or found at the paths it records) must
// be those files; the lock's packages must be its resolved dependencies. The image is then built
// again into a private layout, every package layer from its .deb (never from cached layers), and
// each platform's manifest digest compared with the image's. When they differ, the first
// difference is found: in the config, else the first differing layer and, inside it, the first
// differing file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "oci/image_source.h"
#include "pipeline/describe_image.h"
#include "registry/client.h"
#include "sign/keys.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

struct ReproduceOptions {
  std::string image;      // any reference hardbase reads
  std::string spec_path;  // empty: the path the provenance records (relative to the cwd)
  std::string lock_path;  // empty: beside spec_path when given, else the provenance's
  // Verifies the provenance attestations with this key; without one they are read unverified.
  const sign::PublicKey* key = nullptr;
  registry::RegistryOptions registry;
  std::string apt_root = "/";        // the host's repositories, when the spec names none
  bool allow_outside_files = false;  // as `build --allow-outside-files`
  // Where to write the rebuilt image (an OCI layout), to look at it afterwards; empty: a
  // temporary directory, removed.
  std::string output;
};

// The first file that differs between two versions of a layer.
struct FileDifference {
  std::string path;  // normalised ("usr/bin/x")
  // What differs, the image's value first: "only in the image", "size 10 vs 12",
  // "mode 0755 vs 0644", "content sha256 <hex> vs <hex>", "link target a vs b", ...
  std::string what;
};

// The first layer that differs between an image and its rebuild.
struct LayerDifference {
  size_t index = 0;
  std::string original;  // the image's layer digest; empty when it has no layer there
  std::string rebuilt;   // the rebuild's; likewise
  // What the layer holds, from the rebuild's history: "libc6 2.36-9 (amd64)", "merged-/usr
  // skeleton"; empty when unknown.
  std::string content;
  std::optional<FileDifference> file;
  // Why no file is named: "only in the image", "the same tar compressed differently", "the same
  // files: the tars differ in what files do not show (timestamps, member order, headers)".
  std::string note;
};

// One platform image and its rebuild.
struct PlatformComparison {
  std::string platform;  // "linux/amd64"
  std::string original;  // manifest digests
  std::string rebuilt;   // empty when the rebuild has no image for the platform
  // What differs in the config other than its layers' digests: "/created: a vs b", one a line.
  std::vector<std::string> config;
  std::optional<LayerDifference> layer;
  // Set when neither the config nor a layer differs: what does ("the manifest's annotations").
  std::string note;
  bool same() const { return !rebuilt.empty() && original == rebuilt; }
};

// Compares a platform image with its rebuild: config first, then the layers pairwise (reading
// both layers' files when their digests differ).
Result<PlatformComparison> ComparePlatformImages(oci::ImageSource& original_source,
                                                 const oci::PlatformImage& original,
                                                 oci::ImageSource& rebuilt_source,
                                                 const oci::PlatformImage& rebuilt);

// What differs between the provenance's .debs and the lock's packages for its architecture, one
// line each, as DiffLocks says it with the provenance as "before": "amd64: tzdata 2024a-0+deb12u1
// -> 2025a-0+deb12u1", "amd64: - netbase 6.4", "amd64: + libfoo 1.0", "amd64: tzdata 2024a: same
// version, other .deb (sha256 <hex> -> <hex>)". Empty when they are the same packages.
std::vector<std::string> LockProvenanceDifferences(const SlsaProvenance& provenance,
                                                   const spec::Lock& lock);

// Where each platform's provenance came from, and what was compared.
struct Reproduction {
  std::string image;      // the digest the reference names
  std::string rebuilt;    // the rebuild's root digest
  bool verified = false;  // the provenance verified with ReproduceOptions::key
  std::string key_hint;   // of that key
  // Per platform, where its provenance was: "linux/amd64: tag sha256-<hex>.att layer 1".
  std::vector<std::string> provenance;
  std::string spec_path;
  std::string lock_path;
  size_t packages = 0;   // .debs of every architecture
  std::string built_by;  // the hardbase version the provenance names
  std::vector<PlatformComparison> platforms;
  // When every platform is the same but the root is not (an index): what differs.
  std::string root_note;
  bool same() const { return !rebuilt.empty() && image == rebuilt; }
};

// Reads the image's provenance, checks the spec and lock against it, rebuilds and compares.
// The rebuild uses `store` for .debs (checked by sha256 as always) but builds every layer anew.
// Errors: kVerification when a platform has no SLSA provenance attestation (or, with a key, none
// that verifies); kSpec when it is not hardbase's or the platforms' provenances disagree;
// kIntegrity when the spec's or lock's sha256 is not the provenance's (for the lock, naming each
// package that differs) or a .deb's is not the lock's. A rebuild that differs is not an error:
// see Reproduction::same().
Result<Reproduction> ReproduceImage(const ReproduceOptions& options, net::HttpClient& http,
                                    cache::BlobStore& store);

}  // namespace hardbase::pipeline
