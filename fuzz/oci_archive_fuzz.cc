// Fuzzes reading image archives in place (oci-archive and docker-archive: the tar index, member
// names, links, duplicates, then index.json / manifest.json and the documents they name) through
// OpenImage, as `inspect`, `scan` and `copy` read them. The input is an in-memory file (memfd), so
// no run leaves anything on disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "oci/image_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("oci-archive-fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (std::string transport : {"oci-archive:", "docker-archive:"}) {
    auto ref = hardbase::oci::ParseImageRef(transport + path);
    if (!ref) continue;
    auto source = hardbase::oci::OpenImage(*ref);
    if (!source) continue;
    auto root = (*source)->Root();
    if (!root) continue;
    auto platforms = hardbase::oci::ResolvePlatforms(**source, *root);
    if (!platforms) continue;
    (void)hardbase::oci::ReadImageFiles(**source, platforms->front().manifest,
                                        [](std::string_view) { return true; });
  }
  ::close(fd);
  return 0;
}
