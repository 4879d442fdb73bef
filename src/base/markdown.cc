#include "base/markdown.h"

#include <algorithm>

#include "base/printable.h"

namespace hardbase {
namespace {

// `body` between fences of backticks longer than any run of them inside it.
std::string CodeSpan(const std::string& body) {
  if (body.empty()) return "";
  size_t longest = 0;
  for (size_t run = 0; char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  auto padded = [](char c) { return c == '`' || c == ' '; };
  std::string pad = padded(body.front()) || padded(body.back()) ? " " : "";
  return fence + pad + body + pad + fence;
}

}  // namespace

std::string MarkdownCode(std::string_view text) { return CodeSpan(Printable(text)); }

std::string MarkdownTableCode(std::string_view text) {
  std::string body;
  size_t backslashes = 0;  // the run of them just written
  for (char c : Printable(text)) {
    if (c == '|') {
      if (backslashes % 2 == 1) {
        body.pop_back();
        body += "\\x5c";
      }
      body += "\\|";
      backslashes = 0;
      continue;
    }
    body += c;
    backslashes = c == '\\' ? backslashes + 1 : 0;
  }
  return CodeSpan(body);
}

}  // namespace hardbase
