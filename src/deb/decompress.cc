#include "deb/decompress.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace hardbase::deb {

Result<std::string> Decompress(std::string_view data, std::string_view what, uint64_t max_size) {
  std::unique_ptr<archive, decltype(&archive_read_free)> ar(archive_read_new(), archive_read_free);
  archive_read_support_filter_xz(ar.get());
  archive_read_support_filter_gzip(ar.get());
  archive_read_support_filter_zstd(ar.get());
  archive_read_support_format_raw(ar.get());
  auto fail = [&](std::string_view step) {
    const char* msg = archive_error_string(ar.get());
    return Fail(ErrorCode::kIntegrity, "decompress " + std::string(what) + ": " +
                                           std::string(step) + ": " + (msg ? msg : "corrupt data"));
  };
  if (data.empty()) return std::string();
  if (archive_read_open_memory(ar.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return fail("open");
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(ar.get(), &entry) != ARCHIVE_OK) return fail("header");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(ar.get(), buf, sizeof buf);
    if (n < 0) return fail("read");
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return Fail(ErrorCode::kIntegrity, "decompress " + std::string(what) +
                                             ": larger than the " + std::to_string(max_size) +
                                             " bytes expected");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace hardbase::deb
