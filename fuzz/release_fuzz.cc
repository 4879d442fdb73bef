// libFuzzer target for ParseRelease: the signed text of InRelease files, and the date parser
// under it. Checks that accepted input is self-consistent, not only that nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/sha256.h"
#include "deb/release.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto release = hardbase::deb::ParseRelease(text);
  if (release) {
    for (const auto& [path, entry] : release->sha256) {
      if (!hardbase::IsSha256Hex(entry.sha256)) std::abort();
      auto found = release->Lookup(path);
      if (!found || found->sha256 != entry.sha256 || found->size != entry.size) std::abort();
    }
    (void)hardbase::deb::CheckFreshness(*release, 0);
  }
  // A date that parses formats back to one that parses to the same instant.
  auto date = hardbase::deb::ParseRfc2822Date(text);
  // (Within years 1970..9999, which the parser accepts once expressed in UTC.)
  if (date && *date >= 0 && *date <= 253402300799) {
    auto again = hardbase::deb::ParseRfc2822Date(hardbase::deb::FormatRfc2822Date(*date));
    if (!again || *again != *date) std::abort();
  }
  return 0;
}
