// The SBOM formats hardbase writes, as the CLI names them and as registries label them: one
// vocabulary for `hardbase sbom --format`, the artifacts a build attaches and the ones `attach`
// looks up.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "sbom/document.h"

namespace hardbase::sbom {

// Media types (artifact types) of SBOM artifacts.
inline constexpr std::string_view kSpdxMediaType = "application/spdx+json";
inline constexpr std::string_view kCycloneDxMediaType = "application/vnd.cyclonedx+json";

enum class SbomFormat { kSpdx, kCycloneDx };
// The names ParseSbomFormat accepts: "spdx-json", "cyclonedx-json", and the short aliases
// "spdx", "cyclonedx".
std::span<const std::string_view> SbomFormatNames();
// kUsage naming spdx-json and cyclonedx-json for anything else.
Result<SbomFormat> ParseSbomFormat(std::string_view name);
std::string_view SbomMediaType(SbomFormat format);
// The document in that format (SpdxJson or CycloneDxJson).
std::string SbomJson(const Document& document, SbomFormat format);

}  // namespace hardbase::sbom
