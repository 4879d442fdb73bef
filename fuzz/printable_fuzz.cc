// Fuzzes terminal escaping: whatever the input, the output is valid UTF-8 without a C0, DEL, C1
// or bidi control, escaping it again changes nothing, and printable input passes unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/printable.h"

namespace {

// Whether `s` is valid UTF-8 (RFC 3629) with no code point a terminal would act on.
bool SafeUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint8_t lead = static_cast<uint8_t>(s[i]);
    size_t length = lead < 0x80                    ? 1
                    : lead >= 0xc2 && lead <= 0xdf ? 2
                    : lead >= 0xe0 && lead <= 0xef ? 3
                    : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                   : 0;
    if (length == 0 || i + length > s.size()) return false;
    char32_t c = length == 1 ? lead : lead & (0xff >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      uint8_t b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      c = (c << 6) | (b & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[length] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
        (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string once = hardbase::Printable(text);
  if (!SafeUtf8(once)) __builtin_trap();
  if (hardbase::Printable(once) != once) __builtin_trap();
  if (SafeUtf8(text) && once != text) __builtin_trap();
  return 0;
}
