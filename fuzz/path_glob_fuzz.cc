// Fuzzes path-glob compilation and matching: the first line of the input is the pattern, the rest
// the path. Matching must not depend on empty path components.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "image/path_glob.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  std::string_view pattern = text.substr(0, newline);
  std::string_view path = newline == std::string_view::npos ? "" : text.substr(newline + 1);
  auto glob = hardbase::image::PathGlob::Compile(pattern);
  if (!glob) return 0;
  if (glob->pattern() != pattern) __builtin_trap();
  bool match = glob->Matches(path);
  if (!path.empty() && path[0] == '/' && glob->Matches("/" + std::string(path) + "/") != match) {
    __builtin_trap();
  }
  return 0;
}
