// Moving images between stores: `push`, `pull` and `copy` (one operation; the names say which
// side is a registry), and storing new artifacts (signatures, attestations) beside an image
// wherever it lives.
//
// An image travels whole: an index with every platform manifest, their configs and layers, and
// what belongs to it: cosign's tags (sha256-<hex>.sig / .att / .sbom) and OCI referrers (SBOMs,
// sigstore bundles). Manifests are stored byte for byte, so digests never change in transit. A
// registry without the referrers API gets the fallback tag sha256-<hex> holding an image index of
// the referrers (OCI 1.1).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/image.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "oci/image_target.h"
#include "registry/client.h"

namespace hardbase::pipeline {

struct TransferOptions {
  registry::RegistryOptions source_registry;  // when the source is a registry
  registry::RegistryOptions dest_registry;    // when the destination is one
  int parallel = 4;                           // blobs in flight at once
  bool artifacts = true;                      // take signatures, attestations and SBOMs along
};

struct TransferReport {
  oci::Descriptor root;  // what the destination's tag now names
  std::string destination;
  int blobs = 0;          // configs and layers of the image and its artifacts
  int blobs_present = 0;  // already at the destination
  int blobs_mounted = 0;  // linked from another repository of the same registry
  uint64_t bytes_sent = 0;
  int manifests = 0;  // manifests and indexes stored (present ones not counted)
  int artifacts = 0;  // signatures, attestations and SBOMs that travelled along
};

// Copies the image `from` names to `to`. The destination tag is `to`'s, else `from`'s, else
// "latest" (a destination pinned by digest stores the manifest by digest; the digest must match).
// A layout directory that exists gets the image added (an entry with the same tag replaced); a
// new one, an oci-archive or a docker-archive is written atomically.
Result<TransferReport> CopyImage(const oci::ImageRef& from, const oci::ImageRef& to,
                                 const TransferOptions& options);

// The copy itself, between a source and a target already open (the registry options of `options`
// are not used): the image source.Root() names, with everything that belongs to it, stored in
// `target` under target.ref()'s tag, else source.ref()'s (ImageTarget::PutImage), then
// committed. Blobs the target holds are not sent again; blobs are stored before the manifests
// naming them, children before their index, the image before its artifacts.
Result<TransferReport> CopyImage(oci::ImageSource& source, oci::ImageTarget& target,
                                 const TransferOptions& options);

// Stores artifact manifests (signatures, attestations) and their blobs in `target` (the store of
// the image they are about: a layout directory or a registry repository) and commits it. Entries
// with a ref.name go to that tag; the others are referrers of the subject their manifest names.
Result<void> StoreArtifacts(oci::ImageTarget& target, const std::vector<oci::BlobSource>& blobs,
                            const std::vector<oci::Descriptor>& entries);

}  // namespace hardbase::pipeline
