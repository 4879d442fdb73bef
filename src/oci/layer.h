// Image layers: a deterministic tar of a list of entries, compressed reproducibly.
//
// The same entries give the same bytes on every machine, under any umask, time zone or thread
// count: entries are written sorted bytewise by path (so parents come before children), with
// numeric uid/gid, empty uname/gname, the entry's own mtime, no atime/ctime, and PAX extended
// headers only where ustar cannot hold a value (long names or link targets, ids or sizes too
// large). Compression cuts the tar into fixed-size chunks compressed independently in parallel and
// concatenated as gzip members or zstd frames, which every gzip/zstd reader accepts as one stream;
// the chunk size and level are fixed, so the output never depends on the number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::oci {

enum class LayerEntryType { kFile, kDirectory, kSymlink, kHardlink };

struct LayerEntry {
  std::string
      path;  // absolute, normalised ("/usr/bin/foo"); written as "usr/bin/foo" (dirs "usr/")
  LayerEntryType type = LayerEntryType::kFile;
  uint32_t mode = 0;  // permission bits (<= 07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  std::string link_target;  // kSymlink: as written; kHardlink: absolute path of a kFile entry
  std::shared_ptr<const std::string> content;  // kFile only; null means empty
};

// The uncompressed tar of `entries`, sorted by path; kSpec error on a duplicate path, a relative
// path or a hard link to a path that is not a regular file among the entries.
Result<std::string> WriteLayerTar(std::vector<LayerEntry> entries);

// One tar holding the members of `tars` (tars WriteLayerTar wrote), in order, each path once: a
// later member at a path already taken is dropped (layers of one image share only directories and
// identical files, and container storage refuses a layer naming a path twice). kIntegrity for a
// tar that is truncated or has a malformed header.
Result<std::string> MergeLayerTars(const std::vector<std::string>& tars);

enum class Compression { kGzip, kZstd };

// The compressions' names, in the order above: "gzip", "zstd".
std::span<const std::string_view> CompressionNames();
// "gzip" / "zstd", and back (kUsage error for anything else).
std::string_view CompressionName(Compression compression);
Result<Compression> ParseCompression(std::string_view name);

// Everything that decides the compressed bytes of a layer (codec, library version, level, chunk
// size), for cache keys: a cached layer is reused only if compressing again would give its bytes.
std::string CompressionFingerprint(Compression compression);

// OCI media type of a layer: application/vnd.oci.image.layer.v1.tar+gzip or +zstd.
std::string_view LayerMediaType(Compression compression);

// Compresses `tar` reproducibly (see above), using up to `threads` threads (0: all cores).
// gzip: libdeflate at a fixed level, each member with mtime 0, no name, OS 255 ("unknown").
Result<std::string> CompressLayer(std::string_view tar, Compression compression,
                                  unsigned threads = 0);

}  // namespace hardbase::oci
