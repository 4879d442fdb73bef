#include "pipeline/signatures.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "oci/cosign_layout.h"
#include "oci/manifest.h"
#include "sign/bundle.h"
#include "sign/dsse.h"
#include "sign/signed_json.h"
#include "sign/simple_signing.h"

namespace hardbase::pipeline {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kBundleContentAnnotation = "dev.sigstore.bundle.content";

oci::Descriptor EmptyConfig() {
  return oci::MakeBlob(std::string(oci::kMediaTypeEmpty), std::string(oci::kEmptyJson)).descriptor;
}

// The manifest at a cosign tag: the layers (uncompressed, so each diff_id is its digest) under a
// config as cosign's "empty image" has it.
Artifacts TagManifest(const std::string& tag,
                      const std::vector<std::pair<oci::Descriptor, std::string>>& layers) {
  Artifacts out;
  Json diff_ids = Json::array();
  std::vector<oci::Descriptor> descriptors;
  for (const auto& [d, bytes] : layers) {
    diff_ids.push_back(d.digest);
    descriptors.push_back(d);
    out.blobs.push_back({d, bytes, ""});
  }
  Json config = {{"architecture", ""},
                 {"os", ""},
                 {"config", Json::object()},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  oci::Blob config_blob = oci::MakeBlob(std::string(oci::kMediaTypeConfig), config.dump());
  oci::Blob manifest = oci::MakeBlob(std::string(oci::kMediaTypeManifest),
                                     oci::ManifestJson(config_blob.descriptor, descriptors, {}));
  out.blobs.push_back({config_blob.descriptor, std::move(config_blob.bytes), ""});
  manifest.descriptor.annotations[std::string(oci::kAnnotationRefName)] = tag;
  out.entries.push_back(manifest.descriptor);
  out.blobs.push_back({manifest.descriptor, std::move(manifest.bytes), ""});
  return out;
}

// A referrer of `subject` carrying one blob: artifactType = the blob's media type.
Artifacts Referrer(const oci::Descriptor& subject, std::string_view media_type, std::string bytes,
                   std::map<std::string, std::string> annotations) {
  Artifacts out;
  oci::Blob layer = oci::MakeBlob(std::string(media_type), std::move(bytes));
  oci::Descriptor config = EmptyConfig();
  oci::Descriptor bare_subject{subject.media_type, subject.digest, subject.size, {}, {}, {}};
  oci::Blob manifest = oci::MakeBlob(
      std::string(oci::kMediaTypeManifest),
      oci::ManifestJson(config, {layer.descriptor}, annotations, bare_subject, media_type));
  manifest.descriptor.artifact_type = std::string(media_type);
  manifest.descriptor.annotations = std::move(annotations);
  out.blobs.push_back({config, std::string(oci::kEmptyJson), ""});
  out.blobs.push_back({layer.descriptor, std::move(layer.bytes), ""});
  out.blobs.push_back({manifest.descriptor, std::move(manifest.bytes), ""});
  out.entries.push_back(std::move(manifest.descriptor));
  return out;
}

// `layer` added to the layers at a tag unless an identical one is there.
std::vector<std::pair<oci::Descriptor, std::string>> WithLayer(
    std::vector<std::pair<oci::Descriptor, std::string>> layers, oci::Descriptor layer,
    std::string bytes) {
  bool present =
      std::any_of(layers.begin(), layers.end(), [&](const auto& l) { return l.first == layer; });
  if (!present) layers.emplace_back(std::move(layer), std::move(bytes));
  return layers;
}

// A sigstore bundle of a DSSE-signed statement about the subject, as a referrer.
Result<Artifacts> BundleReferrer(const sign::PrivateKey& key, const Attachment& a,
                                 const sign::Envelope& envelope, std::string_view predicate_type) {
  std::string bundle = sign::BundleJson(envelope, key.Public().Hint());
  return Referrer(a.subject, sign::kBundleMediaType, std::move(bundle),
                  {{std::string(kBundleContentAnnotation), "dsse-envelope"},
                   {std::string(kBundlePredicateAnnotation), std::string(predicate_type)},
                   {std::string(oci::kAnnotationCreated), a.created}});
}

Result<sign::Envelope> SignedStatement(const sign::PrivateKey& key, const Attachment& a,
                                       std::string_view predicate_type,
                                       std::string_view predicate_json) {
  HB_TRY(std::string statement,
         sign::StatementJson({{"", std::string(oci::DigestHex(a.subject.digest))}}, predicate_type,
                             predicate_json));
  return sign::SignEnvelope(key, std::string(sign::kInTotoPayloadType), std::move(statement));
}

constexpr std::string_view kNotVerified = "not verified: no key given";

// Checks a DSSE envelope against the key and the subject; the statement's predicate type on
// success, the failed check otherwise. Without a key the signature is not checked and the
// finding is never valid (kNotVerified), but carries the predicate of a statement about the
// subject.
void CheckEnvelope(const sign::Envelope& envelope, const sign::PublicKey* key,
                   std::string_view digest, Finding& f) {
  if (envelope.payload_type != sign::kInTotoPayloadType) {
    f.problem = fmt::format("payload type is '{}', not {}", envelope.payload_type,
                            sign::kInTotoPayloadType);
    return;
  }
  if (key) {
    if (auto ok = sign::VerifyEnvelope(envelope, *key); !ok) {
      f.problem = ok.error().message;
      return;
    }
  }
  auto statement = sign::ParseStatement(envelope.payload);
  if (!statement) {
    f.problem = statement.error().message;
    return;
  }
  f.predicate_type = statement->predicate_type;
  if (auto covers = sign::CheckSubject(*statement, oci::DigestHex(digest)); !covers) {
    f.problem = covers.error().message;
    return;
  }
  f.predicate_json = std::move(statement->predicate_json);
  f.valid = key != nullptr;
  if (!key) f.problem = kNotVerified;
}

}  // namespace

void Artifacts::Append(Artifacts other) {
  for (auto& b : other.blobs) blobs.push_back(std::move(b));
  for (auto& e : other.entries) entries.push_back(std::move(e));
}

Result<Artifacts> SignatureArtifacts(const sign::PrivateKey& key, const Attachment& a,
                                     std::string_view docker_reference) {
  std::string payload = sign::SimpleSigningPayload(docker_reference, a.subject.digest);
  HB_TRY(std::string signature, key.Sign(payload));
  oci::Blob layer = oci::MakeBlob(std::string(kSimpleSigningMediaType), payload);
  layer.descriptor.annotations[std::string(kCosignSignatureAnnotation)] = Base64Encode(signature);
  Artifacts out = TagManifest(oci::CosignTag(a.subject.digest, oci::kCosignSignatureSuffix),
                              WithLayer(a.existing_layers, layer.descriptor, payload));
  HB_TRY(sign::Envelope envelope, SignedStatement(key, a, sign::kPredicateCosignSign, "{}"));
  HB_TRY(Artifacts bundle, BundleReferrer(key, a, envelope, sign::kPredicateCosignSign));
  out.Append(std::move(bundle));
  return out;
}

Result<Artifacts> AttestationArtifacts(const sign::PrivateKey& key, const Attachment& a,
                                       const std::vector<Predicate>& predicates) {
  Artifacts bundles;
  auto layers = a.existing_layers;
  for (const auto& predicate : predicates) {
    HB_TRY(sign::Envelope envelope, SignedStatement(key, a, predicate.type, predicate.json));
    oci::Blob layer =
        oci::MakeBlob(std::string(kDsseEnvelopeMediaType), sign::EnvelopeJson(envelope));
    layer.descriptor.annotations[std::string(kPredicateTypeAnnotation)] = predicate.type;
    layers = WithLayer(std::move(layers), layer.descriptor, layer.bytes);
    HB_TRY(Artifacts bundle, BundleReferrer(key, a, envelope, predicate.type));
    bundles.Append(std::move(bundle));
  }
  Artifacts out =
      TagManifest(oci::CosignTag(a.subject.digest, oci::kCosignAttestationSuffix), layers);
  out.Append(std::move(bundles));
  return out;
}

Artifacts SbomArtifact(const oci::Descriptor& subject, std::string_view media_type,
                       std::string document, std::string_view created) {
  return Referrer(subject, media_type, std::move(document),
                  {{std::string(oci::kAnnotationCreated), std::string(created)}});
}

bool DigestReport::signed_ok() const {
  return std::any_of(signatures.begin(), signatures.end(),
                     [](const Finding& f) { return f.valid; });
}

bool DigestReport::attested_ok() const {
  return std::any_of(attestations.begin(), attestations.end(),
                     [](const Finding& f) { return f.valid; });
}

namespace {

// CheckAttached, and without a key (nullptr) UnverifiedAttestations' reading.
Result<DigestReport> ReadAttached(oci::ImageSource& source, const oci::Descriptor& subject,
                                  const sign::PublicKey* key) {
  DigestReport report;
  report.digest = subject.digest;
  // The manifest itself must be the bytes its digest names: a signature covers a digest, and
  // what runs is what those bytes say.
  if (auto bytes = source.ReadBlob(subject); !bytes) {
    report.signatures.push_back(
        {"manifest " + subject.digest, "", "", false, bytes.error().message, ""});
    return report;
  }

  // cosign's tags: simple signing at .sig, DSSE envelopes at .att.
  constexpr std::string_view kSuffixes[] = {oci::kCosignSignatureSuffix,
                                            oci::kCosignAttestationSuffix};
  HB_TRY(auto tagged, oci::FindCosignArtifacts(source, subject.digest, kSuffixes));
  for (const oci::CosignArtifact& artifact : tagged) {
    const std::string& tag = artifact.tag;
    bool signature = artifact.suffix == oci::kCosignSignatureSuffix;
    auto& findings = signature ? report.signatures : report.attestations;
    auto manifest_bytes = source.ReadBlob(artifact.descriptor);
    auto manifest = manifest_bytes ? oci::ParseManifest(*manifest_bytes)
                                   : Result<oci::Manifest>(Fail(manifest_bytes.error()));
    if (!manifest) {
      findings.push_back({"tag " + tag, "", "", false, manifest.error().message, ""});
      continue;
    }
    for (size_t i = 0; i < manifest->layers.size(); ++i) {
      const oci::Descriptor& layer = manifest->layers[i];
      Finding f;
      f.where = fmt::format("tag {} layer {}", tag, i);
      auto blob = source.ReadBlob(layer);
      if (!blob) {
        f.problem = blob.error().message;
      } else if (signature) {
        auto annotation = layer.annotations.find(std::string(kCosignSignatureAnnotation));
        if (layer.media_type != kSimpleSigningMediaType) {
          f.problem = "layer media type is " + layer.media_type;
        } else if (annotation == layer.annotations.end()) {
          f.problem = fmt::format("no {} annotation", kCosignSignatureAnnotation);
        } else if (auto sig = Base64Decode(annotation->second, "signature"); !sig) {
          f.problem = sig.error().message;
        } else if (!key) {
          f.problem = kNotVerified;
        } else if (auto ok = key->Verify(*blob, *sig); !ok) {
          f.problem = ok.error().message;
        } else if (auto claims = sign::ParseSimpleSigningPayload(*blob); !claims) {
          f.problem = claims.error().message;
        } else if (auto covers = sign::CheckManifestDigest(*claims, subject.digest); !covers) {
          f.problem = covers.error().message;
        } else {
          f.docker_reference = claims->docker_reference;
          f.valid = true;
        }
      } else if (auto envelope = sign::ParseEnvelope(*blob); !envelope) {
        f.problem = envelope.error().message;
      } else {
        CheckEnvelope(*envelope, key, subject.digest, f);
      }
      findings.push_back(std::move(f));
    }
  }

  // Sigstore bundles among the OCI referrers: a cosign sign/v1 statement is a signature, any
  // other predicate an attestation.
  HB_TRY(auto referrers, source.Referrers(subject.digest));
  for (const auto& r : referrers) {
    if (r.artifact_type != sign::kBundleMediaType) continue;
    Finding f;
    f.where = "bundle referrer " + r.digest;
    auto bytes = source.ReadBlob(r);
    auto manifest = bytes ? oci::ParseManifest(*bytes) : Result<oci::Manifest>(Fail(bytes.error()));
    Result<std::string> blob = Fail(ErrorCode::kVerification, "the referrer holds no bundle");
    if (!manifest) {
      blob = Fail(manifest.error());
    } else if (!manifest->layers.empty()) {
      blob = source.ReadBlob(manifest->layers[0]);
    }
    auto bundle = blob ? sign::ParseBundle(*blob) : Result<sign::Bundle>(Fail(blob.error()));
    if (!bundle) {
      f.problem = bundle.error().message;
    } else if (key && !bundle->public_key_hint.empty() && bundle->public_key_hint != key->Hint()) {
      // sigstore's verifiers look the key up by this hint: they would not use this key.
      f.problem = fmt::format("the bundle names key {}, not {}",
                              sign::JsonQuoted(bundle->public_key_hint), key->Hint());
    } else {
      CheckEnvelope(bundle->envelope, key, subject.digest, f);
    }
    bool signature = f.predicate_type.empty() || f.predicate_type == sign::kPredicateCosignSign;
    (signature ? report.signatures : report.attestations).push_back(std::move(f));
  }
  return report;
}

}  // namespace

Result<DigestReport> CheckAttached(oci::ImageSource& source, const oci::Descriptor& subject,
                                   const sign::PublicKey& key) {
  return ReadAttached(source, subject, &key);
}

Result<std::vector<Finding>> UnverifiedAttestations(oci::ImageSource& source,
                                                    const oci::Descriptor& subject) {
  HB_TRY(DigestReport report, ReadAttached(source, subject, nullptr));
  return std::move(report.attestations);
}

}  // namespace hardbase::pipeline
