// libFuzzer target for sysusers.d files (image::ParseSysusers), then applying what they set up
// (image::ApplySetup): see setup_checks.h for what is checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "image/sysusers.h"
#include "setup_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kPrefix = "fuzz: /usr/lib/sysusers.d/fuzz.conf";
  hardbase::image::ParsedSetup parsed = hardbase::image::ParseSysusers(text, kPrefix);
  setup_fuzz::CheckParsed(parsed, kPrefix);
  setup_fuzz::CheckApplied(parsed);
  return 0;
}
