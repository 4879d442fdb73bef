#include "base/printable.h"

#include <fmt/format.h>

#include <cstdint>

namespace hardbase {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` and its code point, or 0 when the
// first byte does not start one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
size_t DecodeUtf8(std::string_view s, char32_t* code_point) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t lead = byte(0);
  size_t length;
  char32_t min;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, *code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, *code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, *code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    *code_point = (*code_point << 6) | (byte(i) & 0x3f);
  }
  if (*code_point < min || *code_point > 0x10ffff) return 0;
  if (*code_point >= 0xd800 && *code_point <= 0xdfff) return 0;
  return length;
}

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
