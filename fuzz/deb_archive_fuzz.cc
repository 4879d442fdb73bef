// Fuzzes the .deb reader (ar, compressed tar members, entry safety checks) with a small unpacked
// size limit, and checks the promises the header makes about what it returns (whiteout names and
// over-long names refused, errors on one line).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deb/deb_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hardbase::deb::EntryType;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto contents = hardbase::deb::ReadDeb(bytes, "fuzz.deb", uint64_t{8} << 20);
  if (!contents) {
    if (contents.error().message.find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  for (const auto& e : contents->data) {
    auto normal = hardbase::deb::NormaliseMemberPath(e.path.substr(1));
    if (e.path.empty() || e.path[0] != '/' || !normal || *normal != e.path) __builtin_trap();
    if (e.mode > 07777) __builtin_trap();
    if ((e.content != nullptr) != (e.type == EntryType::kFile)) __builtin_trap();
    if (e.type == EntryType::kHardlink && e.link_target.empty()) __builtin_trap();
    // No OCI whiteout names, nothing longer than NAME_MAX / PATH_MAX allow.
    std::string_view base = std::string_view(e.path).substr(e.path.rfind('/') + 1);
    if (base.starts_with(".wh.") || base.size() > 255 || e.path.size() > 4095) __builtin_trap();
    if (e.link_target.size() > 4095) __builtin_trap();
  }
  return 0;
}
