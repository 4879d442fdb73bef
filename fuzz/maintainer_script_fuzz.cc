// libFuzzer target for maintainer scripts (image::ParseMaintainerScript, and the tokenizer
// image::SplitShellCommands), then applying what they set up (image::ApplySetup): see
// setup_checks.h. Reading a script is also deterministic, and lists at most 100 commands and
// one summary line.
#include <cstddef>
#include <cstdint>
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
  for (const image::ShellCommand& c : image::SplitShellCommands(text)) {
    setup_fuzz::Check(!c.words.empty() && c.line >= 1);
  }
  return 0;
}
