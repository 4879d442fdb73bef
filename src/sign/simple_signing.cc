#include "sign/simple_signing.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/json_limits.h"
#include "sign/signed_json.h"

namespace hardbase::sign {
namespace {

constexpr std::string_view kSimpleSigningType = "cosign container image signature";

// The members each object of the signed document may have, by its path from the top: what
// cosign's payload.SimpleContainerImage holds. "optional" is free-form (annotations).
struct KnownMembers {
  std::vector<const char*> path;
  std::vector<std::string_view> allowed;
};
const KnownMembers kKnownMembers[] = {
    {{}, {"critical", "optional"}},
    {{"critical"}, {"identity", "image", "type"}},
    {{"critical", "identity"}, {"docker-reference"}},
    {{"critical", "image"}, {"docker-manifest-digest"}},
};

std::string Joined(const std::vector<const char*>& path) {
  std::string out;
  for (const char* name : path) out += (out.empty() ? "" : ".") + std::string(name);
  return out;
}

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
  constexpr std::string_view kWhat = "not a cosign simple signing payload";
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kVerification, fmt::format("{}: {}", kWhat, why));
  };
  // cosign reads "optional" into a map: there, names differing in case are distinct members.
  HB_TRY_VOID(CheckSignedJson(payload, ErrorCode::kVerification, kWhat, "optional"));
  auto doc = ParseUntrustedJsonOrDiscarded(payload);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  // cosign ignores members it does not know; a reader that knows more (containers/image's
  // "critical" rules) may act on them, so a signed claim hardbase cannot read is refused.
  for (const auto& [path, allowed] : kKnownMembers) {
    const nlohmann::json* node = &doc;
    for (const char* name : path) {
      node = node->is_object() && node->contains(name) ? &(*node)[name] : nullptr;
      if (node == nullptr) break;
    }
    if (node == nullptr || !node->is_object()) continue;
    for (const auto& [name, value] : node->items()) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return bad(fmt::format("unknown member {} in {}", JsonQuoted(name),
                               path.size() == 0 ? "the document" : Joined(path)));
      }
    }
  }
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
    return bad(fmt::format("type is {}, not \"{}\"", JsonQuoted(claims.type), kSimpleSigningType));
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
