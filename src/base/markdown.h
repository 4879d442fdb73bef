// Text from others (package names and versions, vulnerability ids, error messages) placed in
// Markdown that GitHub or GitLab renders, such as a pull request body, shown as the bytes it is:
// it can neither format, link, mention anyone, embed HTML, start a line of its own nor add
// cells to a table row.
#pragma once

#include <string>
#include <string_view>

namespace hardbase {

// `text` as an inline code span, for running text: Printable first (no control character, no
// newline), then fenced with one backtick more than its longest run of backticks, padded with a
// space when it starts or ends with a backtick or a space (CommonMark strips one such space from
// each side). Inside a code span nothing is Markdown: not `*`, `<`, `[`, `@` nor a URL. "" for "".
std::string MarkdownCode(std::string_view text);

// The same for a cell of a GitHub-flavoured Markdown table, whose rows are split at every pipe
// not escaped by a backslash, code spans included: each `|` becomes `\|`, which the table reads
// back as `|`. A backslash right before a pipe would pair with the escaping backslash instead
// (the table's scanner reads `\\` as one escaped character) and free the pipe; so when a pipe
// follows an odd run of backslashes, the last of them is shown as Printable's `\x5c`.
std::string MarkdownTableCode(std::string_view text);

}  // namespace hardbase
