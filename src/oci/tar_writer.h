// The tar format pieces shared by layer tars and image archives (oci-archive, docker-archive):
// deterministic ustar headers with PAX extended headers only where ustar cannot hold a value, and
// the path order that puts parents before their children.
//
// Written by hand rather than with libarchive so that the bytes depend on nothing but the entry:
// libarchive converts names through the process locale and pads its output to its own block size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "oci/layer.h"

namespace hardbase::oci {

inline constexpr size_t kTarBlockSize = 512;

// Appends the header of `entry` (a PAX extended header first when one is needed) for `size` bytes
// of data that follow it (0 for anything but a file). The entry's path and a hard link's target
// are absolute and written without the leading '/'; a directory's name gets a trailing '/'.
// Content, uname and gname are never written; the mode keeps only its permission bits.
void AppendTarHeader(const LayerEntry& entry, uint64_t size, std::string* out);

// Zero bytes that pad `size` bytes of data to whole blocks.
inline size_t TarPadding(uint64_t size) {
  return static_cast<size_t>((kTarBlockSize - size % kTarBlockSize) % kTarBlockSize);
}

// The end-of-archive marker: two zero blocks.
inline constexpr size_t kTarTrailerSize = 2 * kTarBlockSize;

// Path order of a tar: bytewise by components, so "/a" < "/a/b" < "/a-b" (a parent comes right
// before its children).
bool TarPathLess(std::string_view a, std::string_view b);

}  // namespace hardbase::oci
