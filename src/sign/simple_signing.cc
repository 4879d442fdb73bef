#include "sign/simple_signing.h"

#include <fmt/format.h>

#include <initializer_list>
#include <nlohmann/json.hpp>

namespace hardbase::sign {
namespace {

constexpr std::string_view kSimpleSigningType = "cosign container image signature";

}  // namespace

std::string SimpleSigningPayload(std::string_view docker_reference,
                                 std::string_view manifest_digest) {
  // nlohmann::json sorts members by name, which is also the order of cosign's Go structs.
  nlohmann::json doc = {{"critical",
                         {{"identity", {{"docker-reference", docker_reference}}},
                          {"image", {{"docker-manifest-digest", manifest_digest}}},
                          {"type", kSimpleSigningType}}},
                        {"optional", nullptr}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<SimpleSigningClaims> ParseSimpleSigningPayload(std::string_view payload) {
  auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kVerification,
                fmt::format("not a cosign simple signing payload: {}", why));
  };
  auto doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  // The string at a path of member names; empty when absent or not a string.
  auto text = [&](std::initializer_list<const char*> path) -> std::string {
    const nlohmann::json* node = &doc;
    for (const char* name : path) {
      if (!node->is_object() || !node->contains(name)) return "";
      node = &(*node)[name];
    }
    return node->is_string() ? node->get<std::string>() : "";
  };
  SimpleSigningClaims claims{text({"critical", "identity", "docker-reference"}),
                             text({"critical", "image", "docker-manifest-digest"}),
                             text({"critical", "type"})};
  if (claims.type != kSimpleSigningType) {
    return bad(fmt::format("type is \"{}\", not \"{}\"", claims.type, kSimpleSigningType));
  }
  if (claims.manifest_digest.empty()) return bad("no critical.image.docker-manifest-digest");
  if (claims.docker_reference.empty()) return bad("no critical.identity.docker-reference");
  if (doc.contains("optional") && !doc["optional"].is_null() && !doc["optional"].is_object()) {
    return bad("\"optional\" is neither null nor an object");
  }
  return claims;
}

Result<void> CheckManifestDigest(const SimpleSigningClaims& claims,
                                 std::string_view manifest_digest) {
  if (claims.manifest_digest == manifest_digest) return {};
  return Fail(ErrorCode::kVerification, fmt::format("signed payload is for image {}, not {}",
                                                    claims.manifest_digest, manifest_digest));
}

}  // namespace hardbase::sign
