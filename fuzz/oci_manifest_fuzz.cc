// Fuzzes the parsers of OCI/Docker image documents and image references.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oci/image_ref.h"
#include "oci/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = hardbase::oci::ParseManifest(text)) {
    for (const auto& layer : m->layers) {
      if (!hardbase::oci::IsSha256Digest(layer.digest) || layer.size < 0) __builtin_trap();
    }
  }
  (void)hardbase::oci::ParseIndex(text);
  (void)hardbase::oci::ParseConfig(text);
  if (auto ref = hardbase::oci::ParseImageRef(text)) {
    auto again = hardbase::oci::ParseImageRef(ref->ToString());
    if (!again || !(*again == *ref)) __builtin_trap();  // the canonical form round-trips
  }
  return 0;
}
