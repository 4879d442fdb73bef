// Fuzzes the CVSS v3 vector scorer: it never crashes, an accepted vector scores within [0, 10] on
// one decimal, and the severity name of any score parses back.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vuln/severity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hardbase::vuln;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto score = CvssV3BaseScore(text)) {
    if (!(*score >= 0 && *score <= 10)) __builtin_trap();
    if (std::fabs(*score * 10 - std::round(*score * 10)) > 1e-9) __builtin_trap();
    auto severity = ParseSeverity(SeverityName(SeverityFromScore(*score)));
    if (!severity || *severity == Severity::kUnknown) __builtin_trap();
  } else if (score.error().code != hardbase::ErrorCode::kSpec) {
    __builtin_trap();
  }
  (void)SeverityFromUrgency(text);
  (void)ParseSeverity(text);
  return 0;
}
