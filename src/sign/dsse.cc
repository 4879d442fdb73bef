#include "sign/dsse.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/json_limits.h"
#include "base/sha256.h"
#include "sign/signed_json.h"

namespace hardbase::sign {
namespace {

using Json = nlohmann::ordered_json;

Json ParseJson(std::string_view text) { return ParseUntrustedJsonOrDiscarded<Json>(text); }

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The string member `name` of `object`, or nullptr when absent or not a string.
const std::string* StringAt(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string()) return nullptr;
  return object[name].get_ptr<const std::string*>();
}

}  // namespace

std::string Pae(std::string_view payload_type, std::string_view payload) {
  return fmt::format("DSSEv1 {} {} {} {}", payload_type.size(), payload_type, payload.size(),
                     payload);
}

std::string EnvelopeJson(const Envelope& envelope) {
  Json signatures = Json::array();
  for (const auto& s : envelope.signatures) {
    signatures.push_back({{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}});
  }
  return Dump({{"payload", Base64Encode(envelope.payload)},
               {"payloadType", envelope.payload_type},
               {"signatures", std::move(signatures)}});
}

Result<Envelope> ParseEnvelope(std::string_view json) {
  auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("DSSE envelope: {}", why));
  };
  HB_TRY_VOID(CheckSignedJson(json, ErrorCode::kSpec, "DSSE envelope"));
  Json doc = ParseJson(json);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  const std::string* payload = StringAt(doc, "payload");
  const std::string* type = StringAt(doc, "payloadType");
  if (payload == nullptr) return bad("no \"payload\" string");
  if (type == nullptr) return bad("no \"payloadType\" string");
  if (!doc.contains("signatures") || !doc["signatures"].is_array() || doc["signatures"].empty()) {
    return bad("no \"signatures\"");
  }
  Envelope envelope{*type, {}, {}};
  HB_TRY(envelope.payload, Base64Decode(*payload, "DSSE envelope: payload"));
  for (size_t i = 0; i < doc["signatures"].size(); ++i) {
    const Json& entry = doc["signatures"][i];
    const std::string* sig = StringAt(entry, "sig");
    const std::string* keyid = StringAt(entry, "keyid");
    if (sig == nullptr) return bad(fmt::format("signature {} has no \"sig\" string", i));
    if (keyid == nullptr && entry.contains("keyid")) {
      return bad(fmt::format("signature {}: \"keyid\" is not a string", i));
    }
    HB_TRY(std::string raw, Base64Decode(*sig, fmt::format("DSSE envelope: signature {}", i)));
    envelope.signatures.push_back({keyid != nullptr ? *keyid : "", std::move(raw)});
  }
  return envelope;
}

Result<Envelope> SignEnvelope(const PrivateKey& key, std::string payload_type,
                              std::string payload) {
  HB_TRY(std::string sig, key.Sign(Pae(payload_type, payload)));
  return Envelope{std::move(payload_type), std::move(payload), {{"", std::move(sig)}}};
}

Result<void> VerifyEnvelope(const Envelope& envelope, const PublicKey& key) {
  std::string pae = Pae(envelope.payload_type, envelope.payload);
  for (const auto& s : envelope.signatures) {
    if (key.Verify(pae, s.sig)) return {};
  }
  return Fail(ErrorCode::kVerification,
              fmt::format("DSSE envelope ({}): none of its {} signature(s) verifies with key {}",
                          envelope.payload_type, envelope.signatures.size(), key.Hint()));
}

Result<std::string> StatementJson(const std::vector<Subject>& subjects,
                                  std::string_view predicate_type,
                                  std::string_view predicate_json) {
  Json predicate = ParseJson(predicate_json);
  if (predicate.is_discarded() || !predicate.is_object()) {
    return Fail(
        ErrorCode::kSpec,
        fmt::format("in-toto statement: predicate for {} is not a JSON object", predicate_type));
  }
  Json subject = Json::array();
  for (const auto& s : subjects) {
    if (!IsSha256Hex(s.sha256)) {
      return Fail(ErrorCode::kSpec, fmt::format("in-toto statement: subject '{}': '{}' is not "
                                                "a SHA-256 hex digest",
                                                s.name, s.sha256));
    }
    Json entry = Json::object();
    if (!s.name.empty()) entry["name"] = s.name;
    entry["digest"] = {{"sha256", s.sha256}};
    subject.push_back(std::move(entry));
  }
  return Dump({{"_type", kStatementType},
               {"subject", std::move(subject)},
               {"predicateType", predicate_type},
               {"predicate", std::move(predicate)}});
}

Result<Statement> ParseStatement(std::string_view json) {
  auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kVerification, fmt::format("not an in-toto statement: {}", why));
  };
  // Go readers of statements (cosign, in-toto-golang) match the statement's member names
  // case-insensitively; the predicate is free-form (a map to them).
  HB_TRY_VOID(
      CheckSignedJson(json, ErrorCode::kVerification, "not an in-toto statement", "predicate"));
  Json doc = ParseJson(json);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  const std::string* type = StringAt(doc, "_type");
  if (type == nullptr || (*type != kStatementType && *type != kStatementTypeV01)) {
    return bad(fmt::format("_type is not {}", kStatementType));
  }
  const std::string* predicate_type = StringAt(doc, "predicateType");
  if (predicate_type == nullptr || predicate_type->empty()) return bad("no predicateType");
  Statement statement{{}, *predicate_type, "{}"};
  if (doc.contains("predicate")) {
    if (!doc["predicate"].is_object()) return bad("predicate is not an object");
    statement.predicate_json = Dump(doc["predicate"]);
  }
  if (!doc.contains("subject") || !doc["subject"].is_array() || doc["subject"].empty()) {
    return bad("no subject");
  }
  for (const Json& entry : doc["subject"]) {
    const std::string* name = StringAt(entry, "name");
    const std::string* sha256 = entry.is_object() && entry.contains("digest")
                                    ? StringAt(entry["digest"], "sha256")
                                    : nullptr;
    if (sha256 == nullptr || !IsSha256Hex(*sha256)) {
      return bad("a subject has no lowercase hex sha256 digest");
    }
    statement.subjects.push_back({name != nullptr ? *name : "", *sha256});
  }
  return statement;
}

Result<void> CheckSubject(const Statement& statement, std::string_view sha256) {
  for (const auto& s : statement.subjects) {
    if (s.sha256 == sha256) return {};
  }
  return Fail(ErrorCode::kVerification,
              fmt::format("in-toto statement ({}) does not cover sha256:{} (its first subject is "
                          "sha256:{})",
                          statement.predicate_type, sha256,
                          statement.subjects.empty() ? "none" : statement.subjects[0].sha256));
}

}  // namespace hardbase::sign
