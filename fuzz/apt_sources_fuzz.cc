// libFuzzer target for the apt sources parsers (deb822 *.sources and one-line *.list files).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "deb/apt_sources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool deb822 : {true, false}) {
    auto sources = deb822 ? hardbase::deb::ParseDeb822Sources(text, "fuzz.sources")
                          : hardbase::deb::ParseOneLineSources(text, "fuzz.list");
    if (!sources) continue;
    for (const auto& s : *sources) {
      // Every accepted entry names at least one URI and suite, and non-flat suites a component.
      if (s.uris.empty() || s.suites.empty()) std::abort();
      for (const auto& suite : s.suites) {
        if (suite.empty()) std::abort();
        if (suite.back() != '/' && s.components.empty()) std::abort();
      }
    }
  }
  return 0;
}
