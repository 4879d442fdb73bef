// Decompression of repository index files (Packages.xz, .gz, .zst, .bz2) through libarchive's
// raw reader, which picks the filter from the data's magic bytes.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::deb {

// The decompressed bytes of `data`; uncompressed input comes back unchanged. A corrupt or truncated
// stream is kIntegrity naming `what`.
Result<std::string> Decompress(std::string_view data, std::string_view what);

}  // namespace hardbase::deb
