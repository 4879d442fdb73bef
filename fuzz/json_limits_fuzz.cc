// Fuzzes the bounds check that runs before any untrusted JSON is parsed (base/json_limits.h):
// for every text the JSON library accepts, CheckUntrustedJson must pass exactly when the
// document nests no deeper than the limit, whatever strings, escapes and brackets it holds; and
// no text may crash it or ParseUntrustedJson.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr size_t kLimit = 6;

  bool within = static_cast<bool>(hardbase::CheckUntrustedJson(text, "fuzz", kLimit));
  auto parsed = hardbase::ParseUntrustedJson(text, "fuzz", kLimit);
  if (parsed && !within) __builtin_trap();

  // The reference depth, from the parser's own callback (depth of the parent at each start).
  if (!hardbase::CheckUntrustedJson(text, "fuzz", 4096)) return 0;
  size_t levels = 0;
  auto count = [&levels](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if (event == nlohmann::json::parse_event_t::object_start ||
        event == nlohmann::json::parse_event_t::array_start) {
      levels = std::max(levels, static_cast<size_t>(depth) + 1);
    }
    return true;
  };
  auto reference = nlohmann::json::parse(text, count, /*allow_exceptions=*/false);
  if (reference.is_discarded()) return 0;
  if (within != (levels <= kLimit)) __builtin_trap();
  if (within && !parsed) __builtin_trap();
  return 0;
}
