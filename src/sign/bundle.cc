#include "sign/bundle.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "sign/signed_json.h"

namespace hardbase::sign {
namespace {

using Json = nlohmann::ordered_json;

// The media types of the sigstore bundle versions there are (v0.1 first), exactly: sigstore-js
// only matches a prefix, so "...bundle.v0.3+json; evil" would pass there.
constexpr std::string_view kKnownMediaTypes[] = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    kBundleMediaType,
};

}  // namespace

std::string BundleJson(const Envelope& envelope, std::string_view public_key_hint) {
  Json bundle = {{"mediaType", kBundleMediaType},
                 {"verificationMaterial",
                  {{"publicKey", {{"hint", public_key_hint}}}, {"tlogEntries", Json::array()}}},
                 {"dsseEnvelope", Json::parse(EnvelopeJson(envelope))}};
  return bundle.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Bundle> ParseBundle(std::string_view json) {
  auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("sigstore bundle: {}", why));
  };
  HB_TRY_VOID(CheckSignedJson(json, ErrorCode::kSpec, "sigstore bundle"));
  Json doc = ParseUntrustedJsonOrDiscarded<Json>(json);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  if (!doc.contains("mediaType") || !doc["mediaType"].is_string()) return bad("no mediaType");
  const std::string& media_type = doc["mediaType"].get_ref<const std::string&>();
  if (std::find(std::begin(kKnownMediaTypes), std::end(kKnownMediaTypes), media_type) ==
      std::end(kKnownMediaTypes)) {
    return bad(fmt::format("mediaType {} is not a sigstore bundle version (0.1 to 0.3)",
                           JsonQuoted(media_type)));
  }
  if (doc.contains("messageSignature")) {
    return bad("messageSignature bundles are not supported (only DSSE envelopes)");
  }
  if (!doc.contains("dsseEnvelope") || !doc["dsseEnvelope"].is_object()) {
    return bad("no dsseEnvelope");
  }
  if (!doc.contains("verificationMaterial") || !doc["verificationMaterial"].is_object()) {
    return bad("no verificationMaterial");
  }
  const Json& material = doc["verificationMaterial"];
  if (material.contains("certificate") || material.contains("x509CertificateChain")) {
    return bad("certificate (keyless) bundles are not supported (only a public key hint)");
  }
  if (!material.contains("publicKey") || !material["publicKey"].is_object()) {
    return bad("no verificationMaterial.publicKey");
  }
  const Json& key = material["publicKey"];
  if (key.contains("hint") && !key["hint"].is_string()) {
    return bad("verificationMaterial.publicKey.hint is not a string");
  }
  // Log entries are not consulted (keyed verification without a log), but a bundle whose
  // entries sigstore's own validation refuses is refused here too.
  if (material.contains("tlogEntries")) {
    const Json& entries = material["tlogEntries"];
    if (!entries.is_array()) return bad("verificationMaterial.tlogEntries is not an array");
    bool v01 = media_type == kKnownMediaTypes[0];
    for (size_t i = 0; i < entries.size(); ++i) {
      const Json& entry = entries[i];
      for (const char* member :
           {"logId", "kindVersion", v01 ? "inclusionPromise" : "inclusionProof"}) {
        if (!entry.is_object() || !entry.contains(member)) {
          return bad(fmt::format("tlogEntries[{}] has no {}", i, member));
        }
      }
      if (!v01 && (!entry["inclusionProof"].is_object() ||
                   !entry["inclusionProof"].contains("checkpoint"))) {
        return bad(fmt::format("tlogEntries[{}] has no inclusionProof.checkpoint", i));
      }
    }
  }
  Bundle bundle{media_type, key.value("hint", ""), {}};
  HB_TRY(bundle.envelope, WithContext(ParseEnvelope(doc["dsseEnvelope"].dump(
                                          -1, ' ', false, Json::error_handler_t::replace)),
                                      "sigstore bundle"));
  // One signature, as sigstore requires of a bundle: with several, verifiers differ on which
  // one must hold.
  if (bundle.envelope.signatures.size() != 1) {
    return bad(
        fmt::format("dsseEnvelope has {} signatures, not one", bundle.envelope.signatures.size()));
  }
  if (bundle.envelope.payload.empty()) return bad("dsseEnvelope has an empty payload");
  if (bundle.envelope.signatures[0].sig.empty()) return bad("dsseEnvelope has an empty signature");
  return bundle;
}

}  // namespace hardbase::sign
