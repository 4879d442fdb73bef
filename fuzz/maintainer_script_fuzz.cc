// libFuzzer target for maintainer scripts (image::ParseMaintainerScript), then applying what they
// set up (image::ApplySetup): see setup_checks.h. Reading a script is also deterministic, lists
// at most 100 commands and one summary line, and every alternative found has absolute paths and
// a file name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "image/maintainer_script.h"
#include "setup_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace image = hardbase::image;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kPrefix = "fuzz: postinst";
  image::ParsedSetup parsed = image::ParseMaintainerScript(text, kPrefix);
  setup_fuzz::CheckParsed(parsed, kPrefix);
  setup_fuzz::Check(parsed.not_applied.size() <= 101);
  image::ParsedSetup again = image::ParseMaintainerScript(text, kPrefix);
  setup_fuzz::Check(again.actions == parsed.actions && again.not_applied == parsed.not_applied);
  setup_fuzz::CheckApplied(parsed);
  setup_fuzz::Check(again.alternatives == parsed.alternatives);
  for (const image::Alternative& a : parsed.alternatives) {
    setup_fuzz::Check(a.link.starts_with("/") && a.target.starts_with("/") && !a.name.empty() &&
                      a.name.find('/') == std::string::npos);
  }
  return 0;
}
