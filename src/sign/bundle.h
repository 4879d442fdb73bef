// Sigstore bundles (v0.3) for keyed signatures: a DSSE envelope plus the hint naming the public
// key, without transparency log entry or timestamp. This is what `cosign sign --key
// --tlog-upload=false` writes in bundle mode, and what @sigstore/verify accepts with trust
// material holding only the public key and tlog/CT/timestamp thresholds of 0.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "sign/dsse.h"

namespace hardbase::sign {

inline constexpr std::string_view kBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";

// {"mediaType":...,"verificationMaterial":{"publicKey":{"hint":...},"tlogEntries":[]},
//  "dsseEnvelope":<EnvelopeJson>}
std::string BundleJson(const Envelope& envelope, std::string_view public_key_hint);

struct Bundle {
  std::string media_type;
  std::string public_key_hint;
  Envelope envelope;
};

// kSpec when malformed or not a sigstore bundle, and for every bundle sigstore's own validation
// (@sigstore/bundle) refuses: a media type other than the four of versions 0.1 to 0.3 (exactly,
// not by prefix), an envelope with other than one signature or with an empty payload or
// signature, log entries without logId/kindVersion/inclusion proof; also when two members have
// names Go's encoding/json takes for one (sign/signed_json.h). "not supported" for bundles
// hardbase cannot verify: a messageSignature instead of a DSSE envelope, or a certificate instead
// of a key hint. Transparency log entries and timestamps are not consulted (keyed verification
// without a log, like `cosign verify --insecure-ignore-tlog`).
Result<Bundle> ParseBundle(std::string_view json);

}  // namespace hardbase::sign
