// Fuzzes the deb822 control parser with and without comment support.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "deb/control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool comments : {false, true}) {
    (void)hardbase::deb::ForEachStanza(
        text,
        [](const hardbase::deb::Stanza& s) -> hardbase::Result<void> {
          for (const auto& f : s.fields()) {
            if (f.name.empty()) __builtin_trap();
            (void)s.Get(f.name);
          }
          return {};
        },
        hardbase::deb::ControlOptions{.allow_comments = comments});
  }
  return 0;
}
