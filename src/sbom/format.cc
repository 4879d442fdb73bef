#include "sbom/format.h"

#include <fmt/format.h>

#include <array>

namespace hardbase::sbom {
namespace {

// The names ParseSbomFormat accepts (the full ones, then their short aliases), and the format
// each one names.
constexpr std::array<std::string_view, 4> kSbomFormatNames = {"spdx-json", "cyclonedx-json", "spdx",
                                                              "cyclonedx"};
constexpr std::array<SbomFormat, kSbomFormatNames.size()> kSbomFormatOf = {
    SbomFormat::kSpdx, SbomFormat::kCycloneDx, SbomFormat::kSpdx, SbomFormat::kCycloneDx};

}  // namespace

std::span<const std::string_view> SbomFormatNames() { return kSbomFormatNames; }

Result<SbomFormat> ParseSbomFormat(std::string_view name) {
  for (size_t i = 0; i < kSbomFormatNames.size(); ++i) {
    if (kSbomFormatNames[i] == name) return kSbomFormatOf[i];
  }
  return Fail(ErrorCode::kUsage,
              fmt::format("unknown SBOM format '{}': use spdx-json or cyclonedx-json", name));
}

std::string_view SbomMediaType(SbomFormat format) {
  return format == SbomFormat::kSpdx ? kSpdxMediaType : kCycloneDxMediaType;
}

std::string SbomJson(const Document& document, SbomFormat format) {
  return format == SbomFormat::kSpdx ? SpdxJson(document) : CycloneDxJson(document);
}

}  // namespace hardbase::sbom
