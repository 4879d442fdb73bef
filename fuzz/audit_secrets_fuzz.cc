// Fuzzes the audit's search of an image's files for secrets (audit::FindSecrets), which reads
// every small file of every layer of any image, and its reading of environment variables. The
// first input line is the file's path (credential files are recognised by name), the rest its
// content. Each match must name a line of the content.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  std::string_view path = input.substr(0, eol);
  std::string_view content = eol == std::string_view::npos ? "" : input.substr(eol + 1);
  int lines = 1 + static_cast<int>(std::count(content.begin(), content.end(), '\n'));
  for (const auto& match : hardbase::audit::FindSecrets(path, content)) {
    if (match.line < 1 || match.line > lines || match.kind.empty()) __builtin_trap();
  }
  std::vector<std::string> env;
  for (size_t start = 0; start < content.size();) {
    size_t end = std::min(content.find('\n', start), content.size());
    env.emplace_back(content.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& name : hardbase::audit::SecretEnvNames(env)) {
    if (std::none_of(env.begin(), env.end(),
                     [&](const std::string& var) { return var.starts_with(name); })) {
      __builtin_trap();
    }
  }
  return 0;
}
