// cosign's "simple signing" payload: the JSON document a tag-scheme signature (sha256-<hex>.sig)
// signs, binding an image's manifest digest to the repository it was pushed to.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::sign {

// Exactly the bytes cosign writes (pkg/signature/payload):
// {"critical":{"identity":{"docker-reference":"<ref>"},"image":{"docker-manifest-digest":
// "<digest>"},"type":"cosign container image signature"},"optional":null}
std::string SimpleSigningPayload(std::string_view docker_reference,
                                 std::string_view manifest_digest);

struct SimpleSigningClaims {
  std::string docker_reference;
  std::string manifest_digest;
  std::string type;
};

// Reads a signed payload back. kVerification when it is not a cosign simple signing document
// (not JSON, wrong type, no digest or reference), when two members of one object have names that
// Go's encoding/json, which cosign uses, takes for one (duplicates, "Docker-Manifest-Digest"
// beside "docker-manifest-digest": cosign would read the last), or when a member outside
// "optional" is not one cosign's payload has (an unknown claim in "critical" is not ignored).
// Members of "optional" are free, as cosign puts annotations there.
Result<SimpleSigningClaims> ParseSimpleSigningPayload(std::string_view payload);

// kVerification unless the claims name `manifest_digest` ("sha256:<hex>"): a valid signature over
// another image's payload proves nothing about this one.
Result<void> CheckManifestDigest(const SimpleSigningClaims& claims,
                                 std::string_view manifest_digest);

}  // namespace hardbase::sign
