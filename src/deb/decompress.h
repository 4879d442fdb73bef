// Decompression of repository index files (Packages.xz, .gz, .zst) through libarchive's raw
// reader, which picks the filter from the data's magic bytes. Only in-process filters are enabled:
// none that would run an external program.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::deb {

// The decompressed bytes of `data` (xz, gzip or zstd; uncompressed input comes back unchanged).
// A corrupt or truncated stream, or output beyond `max_size` bytes (a decompression bomb), is
// kIntegrity naming `what`.
Result<std::string> Decompress(std::string_view data, std::string_view what, uint64_t max_size);

}  // namespace hardbase::deb
