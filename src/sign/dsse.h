// DSSE envelopes (github.com/secure-systems-lab/dsse) and the in-toto Statements they carry: the
// signed form of cosign attestations and of the content of sigstore bundles.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "sign/keys.h"

namespace hardbase::sign {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kStatementTypeV01 = "https://in-toto.io/Statement/v0.1";
inline constexpr std::string_view kPredicateCosignSign = "https://sigstore.dev/cosign/sign/v1";
inline constexpr std::string_view kPredicateSpdx = "https://spdx.dev/Document";
inline constexpr std::string_view kPredicateCycloneDx = "https://cyclonedx.org/bom";
inline constexpr std::string_view kPredicateSlsaProvenance = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kPredicateOpenVex = "https://openvex.dev/ns/v0.2.0";

// DSSE pre-authentication encoding, the bytes actually signed:
// "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
std::string Pae(std::string_view payload_type, std::string_view payload);

struct EnvelopeSignature {
  std::string keyid;
  std::string sig;  // raw ASN.1 DER bytes
};

// An envelope with its payload and signatures decoded (raw bytes, not base64).
struct Envelope {
  std::string payload_type;
  std::string payload;
  std::vector<EnvelopeSignature> signatures;
};

// {"payload":<b64>,"payloadType":...,"signatures":[{"keyid":...,"sig":<b64>}]}
std::string EnvelopeJson(const Envelope& envelope);
// kSpec when not such a document (missing member, bad base64, no signature).
Result<Envelope> ParseEnvelope(std::string_view json);

// One signature (empty keyid, as cosign writes) over the PAE of the payload.
Result<Envelope> SignEnvelope(const PrivateKey& key, std::string payload_type, std::string payload);
// kVerification unless one of the envelope's signatures verifies with `key` over the PAE.
Result<void> VerifyEnvelope(const Envelope& envelope, const PublicKey& key);

struct Subject {
  std::string name;    // may be empty, then omitted from the statement
  std::string sha256;  // lowercase hex
};

// An in-toto Statement v1:
// {"_type":...,"subject":[{"name":..,"digest":{"sha256":..}}],"predicateType":..,"predicate":..}
// kSpec when `predicate_json` is not a JSON object or a subject digest is not SHA-256 hex.
Result<std::string> StatementJson(const std::vector<Subject>& subjects,
                                  std::string_view predicate_type, std::string_view predicate_json);

struct Statement {
  std::vector<Subject> subjects;
  std::string predicate_type;
  std::string predicate_json;  // the predicate re-serialised compactly, members in their order
};

// Reads a Statement v1 or v0.1. kVerification when it is not one (other _type, no subject, a
// subject without a SHA-256 digest, no predicateType, a predicate that is not an object).
Result<Statement> ParseStatement(std::string_view json);

// kVerification unless one of the statement's subjects has SHA-256 `sha256` (hex).
Result<void> CheckSubject(const Statement& statement, std::string_view sha256);

}  // namespace hardbase::sign
