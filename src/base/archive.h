// libarchive readers as the modules that read archives (Debian packages, OCI layers and image
// archives, OSV zips) hold them: owned, freed once, and their failure said even where libarchive
// leaves its message unset.
#pragma once

#include <archive.h>

#include <memory>
#include <string>
#include <string_view>

namespace hardbase {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

// libarchive's message for the last failure of `a`, or `fallback` where it set none (a pax header
// cut short leaves it unset).
inline std::string ArchiveWhy(archive* a, std::string_view fallback) {
  const char* why = archive_error_string(a);
  return why ? why : std::string(fallback);
}

}  // namespace hardbase
