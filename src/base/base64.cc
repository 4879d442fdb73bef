#include "base/base64.h"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace hardbase {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: not base64: {}", what, why));
  };
  if (text.size() % 4 != 0) return bad("length is not a multiple of 4");
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < text.size()) return bad("'=' before the end");
      ++pad;
    } else if (!alpha || pad > 0) {
      return bad(fmt::format("unexpected character at offset {}", i));
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock does not strip padding: it decodes '=' as zero bits, removed below.
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return bad("rejected by the decoder");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace hardbase
