// Decompression of untrusted data: repository index files (Packages.xz, .gz, .zst) and the
// compressed tar members of .debs. Every decoder is bounded whatever the stream claims: liblzma
// runs under a memory limit, zstd under a window limit (zlib's window is fixed at 32 KiB), output
// is produced in small steps (never allocated from a size the stream announces), and the total
// output is capped by the caller. All decoders run in-process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::deb {

enum class Compression { kNone, kGzip, kXz, kZstd };

// liblzma's memory limit (all threads together) and the largest zstd window accepted. Real Debian
// packages use xz dictionaries of at most 64 MiB (xz -9) and zstd windows of at most 128 MiB
// (the zstd tool's own default limit); anything asking for more is refused, not obeyed.
inline constexpr uint64_t kMaxXzDecoderMemory = uint64_t{512} << 20;
inline constexpr int kMaxZstdWindowLog = 27;

// The compression `data` starts with (by magic bytes); kNone for anything else.
Compression DetectCompression(std::string_view data);

// A pull decoder over a compressed buffer that the caller keeps alive. Not thread-safe.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // The next piece of output (at most 1 MiB), valid until the next call; empty at the end of
  // the stream. kIntegrity for a corrupt or truncated stream, a stream asking for more decoder
  // memory than the limits above, or more than `max_output` bytes of output in total.
  virtual Result<std::string_view> Next() = 0;
};

// A decoder of `data` compressed with `compression` (kNone passes the bytes through). Messages
// are bare ("xz: corrupt or truncated stream"): callers add what was being decompressed. With
// kXz, `threads` > 1 decodes independent blocks in parallel (what dpkg-deb writes for big members).
Result<std::unique_ptr<Decoder>> OpenDecoder(Compression compression, std::string_view data,
                                             uint64_t max_output, unsigned threads = 1);

// The decompressed bytes of `data` (xz, gzip or zstd, picked by magic; uncompressed input comes
// back unchanged). A corrupt or truncated stream, one needing more memory than the limits above,
// or output beyond `max_size` bytes (a decompression bomb), is kIntegrity naming `what`.
Result<std::string> Decompress(std::string_view data, std::string_view what, uint64_t max_size);

}  // namespace hardbase::deb
