#include "base/printable.h"

#include <fmt/format.h>

#include <cstdint>

#include "base/strings.h"

namespace hardbase {
namespace {

// Code points above ASCII that a terminal acts on instead of showing: C1 controls, bidi controls
// (they reorder the text around them) and the Unicode line and paragraph separators.
bool IsControl(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t c = 0;
    size_t length = DecodeUtf8(text, &c);
    if (length == 0 || c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(text[0]));
      length = 1;
    } else if (IsControl(c)) {
      out += fmt::format("\\u{:04x}", static_cast<uint32_t>(c));
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

}  // namespace hardbase
