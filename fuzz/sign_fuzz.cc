// libFuzzer target for the sign module's readers of untrusted input: cosign key files, public
// keys, sigstore bundles, DSSE envelopes, in-toto statements and simple signing payloads.
//
// Besides "no crash, no leak": errors are one line of the documented category, and whatever is
// accepted survives a write/read round trip. The input is also tried as the JSON inside a key
// file, so that the fuzzer reaches the kdf and cipher checks; documents asking for one of the
// scrypt parameter sets the library accepts are not decrypted (0.1 to 0.4 s per run).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "sign/bundle.h"
#include "sign/dsse.h"
#include "sign/keys.h"
#include "sign/signed_json.h"
#include "sign/simple_signing.h"

namespace {

namespace sign = hardbase::sign;
using hardbase::ErrorCode;

void Check(bool ok) {
  if (!ok) std::abort();
}

template <class T>
bool Accepted(const hardbase::Result<T>& result, ErrorCode code) {
  if (result) return true;
  Check(result.error().code == code);
  Check(!result.error().message.empty() && result.error().message.find('\n') == std::string::npos);
  return false;
}

// True when a key document asks for one of the scrypt parameter sets the library runs (N=2^15 to
// 2^17, r=8, p=1: 0.1 to 0.4 s each); any other set is refused before scrypt runs.
bool CostlyScrypt(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object() || !doc.contains("kdf") || !doc["kdf"].is_object() ||
      !doc["kdf"].contains("params") || !doc["kdf"]["params"].is_object()) {
    return false;
  }
  const auto& params = doc["kdf"]["params"];
  auto is = [&](const char* name, double value) {
    return params.contains(name) && params[name].is_number() && params[name].get<double>() == value;
  };
  return (is("N", 32768) || is("N", 65536) || is("N", 131072)) && is("r", 8) && is("p", 1);
}

void FuzzKeyFile(std::string_view pem) {
  auto key = sign::DecryptPrivateKey(pem, "pw", "fuzz.key");
  if (!key) {
    Check(key.error().code == ErrorCode::kSpec || key.error().code == ErrorCode::kAuth);
    Check(key.error().message.starts_with("fuzz.key: "));
    Check(key.error().message.find('\n') == std::string::npos);
    return;
  }
  Check(sign::PublicKey::FromPem(key->Public().Pem(), "derived").has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (!CostlyScrypt(text)) {
    std::string body = hardbase::Base64Encode(text), pem;
    for (size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
    FuzzKeyFile("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + pem +
                "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
  }
  // As a PEM file itself: rarely valid, so the scrypt cost cannot be checked up front; keep it
  // to inputs too short to hold a key document with large parameters.
  if (size < 200) FuzzKeyFile(text);

  // As a PEM file, and as the DER inside one (to reach the SubjectPublicKeyInfo checks).
  std::string der_pem = "-----BEGIN PUBLIC KEY-----\n";
  std::string der_body = hardbase::Base64Encode(text);
  for (size_t i = 0; i < der_body.size(); i += 64) der_pem += der_body.substr(i, 64) + "\n";
  der_pem += "-----END PUBLIC KEY-----\n";
  for (const std::string& pem : {std::string(text), der_pem}) {
    auto pub = sign::PublicKey::FromPem(pem, "fuzz.pub");
    if (Accepted(pub, ErrorCode::kSpec)) {
      auto again = sign::PublicKey::FromPem(pub->Pem(), "again");
      Check(again && again->Hint() == pub->Hint() && again->Der() == pub->Der());
      Check(!pub->Verify("data", text));
    }
  }

  auto envelope = sign::ParseEnvelope(text);
  if (Accepted(envelope, ErrorCode::kSpec)) {
    auto again = sign::ParseEnvelope(sign::EnvelopeJson(*envelope));
    Check(again && sign::EnvelopeJson(*again) == sign::EnvelopeJson(*envelope));
  }

  auto bundle = sign::ParseBundle(text);
  if (Accepted(bundle, ErrorCode::kSpec)) {
    std::string json = sign::BundleJson(bundle->envelope, bundle->public_key_hint);
    auto again = sign::ParseBundle(json);
    Check(again && again->public_key_hint == bundle->public_key_hint &&
          sign::BundleJson(again->envelope, again->public_key_hint) == json);
  }

  auto statement = sign::ParseStatement(text);
  if (Accepted(statement, ErrorCode::kVerification)) {
    auto json = sign::StatementJson(statement->subjects, statement->predicate_type,
                                    statement->predicate_json);
    Check(json.has_value());
    auto again = sign::ParseStatement(*json);
    Check(again && again->predicate_json == statement->predicate_json &&
          again->subjects.size() == statement->subjects.size());
    Check(sign::CheckSubject(*statement, statement->subjects[0].sha256).has_value());
  }

  // An accepted payload's claims survive being written again.
  auto claims = sign::ParseSimpleSigningPayload(text);
  if (Accepted(claims, ErrorCode::kVerification)) {
    auto again = sign::ParseSimpleSigningPayload(
        sign::SimpleSigningPayload(claims->docker_reference, claims->manifest_digest));
    Check(again && again->docker_reference == claims->docker_reference &&
          again->manifest_digest == claims->manifest_digest);
  }
  return 0;
}
