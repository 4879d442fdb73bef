// Fuzzes reading layer tars (tar, tar+gzip, tar+zstd) as ReadImageFiles does: the input is used as
// two stacked layers, so whiteouts and hard links act across layers too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oci/image_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)hardbase::oci::ReadLayerFiles(
      2,
      [&](size_t) -> hardbase::Result<std::unique_ptr<hardbase::oci::BlobReader>> {
        return hardbase::oci::BlobReader::Bytes(bytes, "fuzz", std::nullopt);
      },
      [](std::string_view path) { return path.size() % 2 == 0; });
  return 0;
}
