// Text from others (registries, image configs, packages, VEX documents, archives) made safe to
// show on a terminal, so that a value can neither start a line of its own (a fake "verified"
// line) nor send escape sequences (colours, cursor moves, title changes) nor reorder what is shown.
#pragma once

#include <string>
#include <string_view>

namespace hardbase {

// `text` with everything a terminal would act on escaped, printable UTF-8 kept as is:
// C0 controls (newline and tab included) and DEL become \xNN, C1 controls (U+0080..U+009F) and
// Unicode's bidi controls and line/paragraph separators (U+061C, U+200E, U+200F, U+2028..U+202E,
// U+2066..U+2069) become \uNNNN, and each byte that is not part of valid UTF-8 (stray
// continuation bytes, overlong forms, surrogates, beyond U+10FFFF, truncated sequences) becomes
// \xNN. Backslashes stay as they are, so escaping is idempotent: a message built from escaped
// values can be escaped again as a whole (log lines, the final error line) without doubling.
// The result is valid UTF-8 without a control character.
std::string Printable(std::string_view text);

}  // namespace hardbase
