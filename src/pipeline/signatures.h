// Signatures, attestations and SBOMs stored with an image, the way cosign stores them, so that
// they travel with it to a registry and cosign (and hardbase) can verify them there:
//
//  - cosign's tag scheme: a manifest tagged "sha256-<hex>.sig" in the image's repository whose
//    layers are simple-signing payloads (signature in an annotation), and "sha256-<hex>.att" whose
//    layers are DSSE envelopes of in-toto statements;
//  - OCI 1.1 referrers: manifests whose `subject` is the image: a sigstore bundle v0.3 per
//    signature or attestation (cosign v3's default), and each SBOM document as it is.
//
// This layer only makes and reads these manifests (the tags themselves: oci/cosign_layout.h);
// where they are stored (an OCI layout, later a registry) is the caller's business. Signing never
// changes the image's own manifest or digest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "oci/image.h"
#include "oci/image_source.h"
#include "sign/keys.h"

namespace hardbase::pipeline {

inline constexpr std::string_view kSimpleSigningMediaType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kCosignSignatureAnnotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view kDsseEnvelopeMediaType = "application/vnd.dsse.envelope.v1+json";
inline constexpr std::string_view kPredicateTypeAnnotation = "predicateType";
// The predicate type of a sigstore bundle referrer, in its manifest's annotations (as cosign
// writes it), so that what a bundle holds is known without reading it.
inline constexpr std::string_view kBundlePredicateAnnotation = "dev.sigstore.bundle.predicateType";

// Manifests and blobs to add to the image's store, and the entries that name them (index.json
// entries for a layout: tagged ones replace the tag's earlier manifest).
struct Artifacts {
  std::vector<oci::BlobSource> blobs;
  std::vector<oci::Descriptor> entries;
  void Append(Artifacts other);
};

// What is attached to a subject and when: `created` (RFC 3339) goes into the annotations.
struct Attachment {
  oci::Descriptor subject;  // the signed manifest or index (media type, digest, size)
  std::string created;
  // The layers of the manifest already at the cosign tag (oci::ExistingTagLayers), kept when
  // adding a signature (cosign appends; the same payload and signature is not added twice).
  std::vector<std::pair<oci::Descriptor, std::string>> existing_layers;  // descriptor, blob
};

// A cosign signature of `subject.digest` for `docker_reference`: the simple-signing layer at the
// .sig tag, and a sigstore bundle (DSSE over an in-toto statement with predicate type
// https://sigstore.dev/cosign/sign/v1) as a referrer.
Result<Artifacts> SignatureArtifacts(const sign::PrivateKey& key, const Attachment& attachment,
                                     std::string_view docker_reference);

// What an attestation says: a JSON object of a predicate type (sign/dsse.h's kPredicate*).
struct Predicate {
  std::string type;
  std::string json;
};

// Attestations about the subject: each predicate as a DSSE envelope layer at the .att tag and as
// a sigstore bundle referrer.
Result<Artifacts> AttestationArtifacts(const sign::PrivateKey& key, const Attachment& attachment,
                                       const std::vector<Predicate>& predicates);

// An SBOM document as a referrer of the subject (artifactType = the document's media type).
Artifacts SbomArtifact(const oci::Descriptor& subject, std::string_view media_type,
                       std::string document, std::string_view created);

// One signature or attestation found for a digest, and whether it holds.
struct Finding {
  std::string where;             // "tag sha256-<hex>.sig layer 1", "bundle referrer sha256:..."
  std::string predicate_type;    // for attestations and bundles; empty for simple signing
  std::string docker_reference;  // simple signing's claim
  bool valid = false;
  std::string problem;  // which check failed, when not valid
  // A valid attestation's predicate, compact JSON (and an unverified one's: UnverifiedAttestations)
  std::string predicate_json;
};

struct DigestReport {
  std::string digest;
  std::vector<Finding> signatures;
  std::vector<Finding> attestations;
  bool signed_ok() const;
  bool attested_ok() const;
};

// Checks what is attached to `subject` in `source` against `key`: the manifest's own bytes
// against its digest, every simple-signing layer at the .sig tag (signature over the exact
// payload bytes, then that the payload names exactly this digest), every DSSE layer at the .att
// tag and every sigstore bundle referrer (signature over the PAE, then the statement's subject).
// Errors only when `source` cannot be read; failed checks are findings.
Result<DigestReport> CheckAttached(oci::ImageSource& source, const oci::Descriptor& subject,
                                   const sign::PublicKey& key);

// The attestations attached to `subject` as CheckAttached finds them, read without a key: nothing
// is verified, so none is valid (`problem` says it was not verified), but each statement that
// names the subject has its predicate type and predicate. For showing what an image claims about
// itself when no key is given (saying so), never for trusting it.
Result<std::vector<Finding>> UnverifiedAttestations(oci::ImageSource& source,
                                                    const oci::Descriptor& subject);

}  // namespace hardbase::pipeline
