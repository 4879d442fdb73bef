#include "base/json_limits.h"

#include <string>

namespace hardbase {

Result<void> CheckUntrustedJson(std::string_view text, std::string_view what, size_t max_depth,
                                size_t max_bytes) {
  if (text.size() > max_bytes) {
    return Fail(ErrorCode::kSpec, std::string(what) + ": JSON document of " +
                                      std::to_string(text.size()) + " bytes is larger than " +
                                      std::to_string(max_bytes));
  }
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return Fail(ErrorCode::kSpec, std::string(what) + ": JSON nested deeper than " +
                                          std::to_string(max_depth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;  // unbalanced closers are the parser's to reject
    }
  }
  return {};
}

Result<nlohmann::json> ParseUntrustedJson(std::string_view text, std::string_view what,
                                          size_t max_depth, size_t max_bytes) {
  HB_TRY_VOID(CheckUntrustedJson(text, what, max_depth, max_bytes));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; the
    // bracketed id says nothing to a user.
    std::string message = e.what();
    if (size_t end = message.find("] ");
        message.starts_with("[json.") && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    return Fail(ErrorCode::kSpec, std::string(what) + ": not valid JSON: " + message);
  }
}

}  // namespace hardbase
