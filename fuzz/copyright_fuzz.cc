// Fuzzes the DEP-5 copyright parser behind the SBOM licences. Checks that the expression only
// uses SPDX expression characters and balanced parentheses, that every LicenseRef with a text is
// one the expression uses, and that a licence name maps to a well-formed id.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sbom/copyright.h"

namespace {

bool WellFormed(std::string_view expression) {
  int depth = 0;
  for (char c : expression) {
    bool id_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == '+';
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return false;
    if (!id_char && c != ' ' && c != '(' && c != ')') return false;
  }
  return depth == 0 && expression.find("  ") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string expression = hardbase::sbom::LicenseExpression(text);
  if (!WellFormed(expression)) __builtin_trap();
  auto used = hardbase::sbom::LicenseRefsIn(expression);
  for (const auto& [id, license_text] : hardbase::sbom::LicenseRefTexts(text)) {
    if (!used.contains(id) || license_text.empty()) __builtin_trap();
  }
  std::string id = hardbase::sbom::SpdxLicenseId(text.substr(0, 200));
  if (!WellFormed(id) || id.find('(') != std::string::npos) __builtin_trap();
  return 0;
}
