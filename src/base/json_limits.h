// Parsing JSON that others wrote (registry answers, signatures, attestations, vulnerability data)
// within bounds checked before the JSON library sees a byte.
//
// nlohmann-json builds and walks nested values recursively (dump, comparison, conversions), so a
// document nested 100,000 levels deep overflows the stack; and a document is held in memory
// several times over while parsed. CheckUntrustedJson refuses both with a linear scan that keeps
// only a depth counter: brackets inside strings (escaped quotes included) do not count.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/error.h"

namespace hardbase {

// Deeper than any document of the formats hardbase reads (OCI, DSSE, sigstore, in-toto, SPDX,
// CycloneDX, OSV nest well under 20 levels), far shallower than what exhausts a stack.
inline constexpr size_t kMaxJsonDepth = 128;
// Larger than any single document hardbase parses whole (OSV records are capped lower).
inline constexpr size_t kMaxJsonBytes = size_t{64} << 20;

// kSpec "WHAT: JSON nested deeper than N levels" or "WHAT: JSON document of N bytes is larger
// than M": the text is not parsed. A text passing the check may still be invalid JSON.
Result<void> CheckUntrustedJson(std::string_view text, std::string_view what,
                                size_t max_depth = kMaxJsonDepth, size_t max_bytes = kMaxJsonBytes);

// The parsed document, or kSpec naming `what` when it exceeds the bounds or is not valid JSON.
Result<nlohmann::json> ParseUntrustedJson(std::string_view text, std::string_view what,
                                          size_t max_depth = kMaxJsonDepth,
                                          size_t max_bytes = kMaxJsonBytes);

// Drop-in for `Json::parse(text, nullptr, false)` at call sites that report their own error: a
// discarded value (is_discarded()) when the text is out of bounds or not valid JSON. `Json` is
// nlohmann::json or nlohmann::ordered_json.
template <class Json = nlohmann::json>
Json ParseUntrustedJsonOrDiscarded(std::string_view text, size_t max_depth = kMaxJsonDepth,
                                   size_t max_bytes = kMaxJsonBytes) {
  if (!CheckUntrustedJson(text, "", max_depth, max_bytes)) {
    return Json(Json::value_t::discarded);
  }
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace hardbase
