// `hardbase sign`, `attest`, `verify` and `sbom` on an image reference: open the image, find
// what to sign or check, and store the results with it (signatures.h says how they are laid out).
//
// Signing and attesting need an image store that can take new manifests: an OCI layout directory
// or a registry (reached with `registry`). The image's own manifests are never rewritten.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "pipeline/describe_image.h"
#include "pipeline/signatures.h"
#include "registry/client.h"
#include "sbom/format.h"
#include "sign/keys.h"

namespace hardbase::pipeline {

// What an image is called in signatures, SBOMs and reports: for a registry image its repository
// ("host/repo"), else the org.opencontainers.image.title annotation of `d`, else the layout or
// archive's file name.
std::string ImageName(oci::ImageSource& source, const oci::Descriptor& d, const oci::ImageRef& ref);

// The digests signed or checked for an image: the one its reference names, then for an index
// each platform's manifest.
struct Signed {
  std::vector<std::string> digests;
  size_t artifacts = 0;          // manifests added
  std::string docker_reference;  // what the signatures claim (sign only)
};

// The identity (docker-reference) a signature claims when none is given: what the user named,
// never what the image says about itself (its title annotation is written by whoever built it):
// for a registry image the repository of the reference ("host/repo"), else the layout
// directory's name.
std::string DefaultDockerReference(const oci::ImageRef& ref);

// Signs the image and, for an index, each platform manifest. `docker_reference` is what the
// signatures claim; empty: DefaultDockerReference(ref).
Result<Signed> SignImage(const oci::ImageRef& ref, const sign::PrivateKey& key,
                         std::string docker_reference,
                         const registry::RegistryOptions& registry = {});

// Attests `predicate` about the image the reference names (the index itself for an index).
Result<Signed> AttestImage(const oci::ImageRef& ref, const sign::PrivateKey& key,
                           const Predicate& predicate,
                           const registry::RegistryOptions& registry = {});

// What `verify` found for each digest: the root first, then the platform manifests of an index.
struct Verification {
  std::vector<DigestReport> reports;
};

// Checks the signatures (and attestations) of the image against `key`. kVerification, saying
// which check failed for each candidate, unless a valid signature covers exactly the root's
// digest (and, with `attestations`, a valid attestation covers the root, or for an index each of
// its platform manifests, as a multi-platform build attests them); the report otherwise.
Result<Verification> VerifyImage(const oci::ImageRef& ref, const sign::PublicKey& key,
                                 bool attestations, const registry::RegistryOptions& registry = {});

// An SBOM document and where it came from.
struct ImageSbomResult {
  std::string document;
  // Whether a signature by the key given to ImageSbom covers it.
  bool verified = false;
  // One line saying which SBOM this is and whether it is signed: "the SPDX attestation at tag
  // sha256-<hex>.att layer 0, verified with key <hint>", "the unsigned SBOM referrer sha256:..."
  // or "made from the image's dpkg database".
  std::string origin;
};

// The SBOM of the image (one platform: `platform` as "amd64" or "linux/arm64", empty for the
// only one or the host's).
//
// With `key`: the predicate of an attestation of the format's predicate type (SPDX or
// CycloneDX) that verifies with `key` and covers the platform's manifest (or, failing that, the
// index), the first such one; kVerification saying what was checked when there is none. SBOM
// referrers are not considered then: anyone who can push to a repository can add one.
//
// Without: the SBOM referrer hardbase stored with the image at build time when there is one (it
// carries each .deb's SHA256), unless `regenerate`; else one made from the image's dpkg
// database, with hashes from `lock` when given. Neither is verified.
Result<ImageSbomResult> ImageSbom(const oci::ImageRef& ref, sbom::SbomFormat format,
                                  const std::string& platform, const spec::Lock* lock,
                                  bool regenerate, const sign::PublicKey* key = nullptr,
                                  const registry::RegistryOptions& registry = {});

}  // namespace hardbase::pipeline
