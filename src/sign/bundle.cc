#include "sign/bundle.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace hardbase::sign {
namespace {

using Json = nlohmann::ordered_json;

// Media types of every sigstore bundle version, old and new spelling.
constexpr std::string_view kBundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle";

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
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  if (!doc.contains("mediaType") || !doc["mediaType"].is_string() ||
      !doc["mediaType"].get_ref<const std::string&>().starts_with(kBundleMediaTypePrefix)) {
    return bad("no sigstore bundle mediaType");
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
  Bundle bundle{doc["mediaType"], key.value("hint", ""), {}};
  HB_TRY(bundle.envelope, WithContext(ParseEnvelope(doc["dsseEnvelope"].dump(
                                          -1, ' ', false, Json::error_handler_t::replace)),
                                      "sigstore bundle"));
  return bundle;
}

}  // namespace hardbase::sign
