// Standard base64 (RFC 4648 section 4, with padding), as JSON documents of the OCI, sigstore and
// in-toto formats carry binary values (signatures, salts, DSSE payloads).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase {

std::string Base64Encode(std::string_view bytes);

// Decodes padded standard base64; whitespace is not allowed. kSpec error naming `what` on any
// character outside the alphabet, bad padding or a length that is not a multiple of 4.
Result<std::string> Base64Decode(std::string_view text, std::string_view what = "base64 value");

}  // namespace hardbase
