// Fuzzes the bounded decoders of repository indexes and .deb members (xz, gzip, zstd, picked by
// magic) with a small output limit, and checks the promises decompress.h makes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deb/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kMax = uint64_t{4} << 20;
  auto out = hardbase::deb::Decompress(bytes, "fuzz", kMax);
  if (!out) {
    if (out.error().code != hardbase::ErrorCode::kIntegrity) __builtin_trap();
    if (out.error().message.find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  if (out->size() > kMax) __builtin_trap();
  if (hardbase::deb::DetectCompression(bytes) == hardbase::deb::Compression::kNone &&
      *out != bytes) {
    __builtin_trap();
  }
  return 0;
}
