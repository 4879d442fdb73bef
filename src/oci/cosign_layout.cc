#include "oci/cosign_layout.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/sha256.h"
#include "oci/manifest.h"

namespace hardbase::oci {
namespace {

constexpr std::string_view kDigestTagPrefix = "sha256-";
constexpr size_t kHexSize = 64;

}  // namespace

std::string CosignTag(std::string_view digest, std::string_view suffix) {
  return fmt::format("{}{}.{}", kDigestTagPrefix, DigestHex(digest), suffix);
}

std::optional<std::pair<std::string, std::string>> CosignSubject(std::string_view tag) {
  if (!tag.starts_with(kDigestTagPrefix) || tag.size() < kDigestTagPrefix.size() + kHexSize) {
    return std::nullopt;
  }
  std::string_view hex = tag.substr(kDigestTagPrefix.size(), kHexSize);
  if (!IsSha256Hex(hex)) return std::nullopt;
  std::string_view rest = tag.substr(kDigestTagPrefix.size() + kHexSize);
  std::string suffix;
  if (!rest.empty()) {
    if (!rest.starts_with('.')) return std::nullopt;
    rest.remove_prefix(1);
    if (std::find(kCosignSuffixes.begin(), kCosignSuffixes.end(), rest) == kCosignSuffixes.end()) {
      return std::nullopt;
    }
    suffix = rest;
  }
  return std::pair{"sha256:" + std::string(hex), std::move(suffix)};
}

bool IsCosignTag(std::string_view tag) { return CosignSubject(tag).has_value(); }

bool IsCosignEntry(const Descriptor& entry) { return IsCosignTag(RefName(entry)); }

Result<std::vector<CosignArtifact>> FindCosignArtifacts(
    ImageSource& source, std::string_view digest, std::span<const std::string_view> suffixes) {
  std::vector<CosignArtifact> out;
  for (std::string_view suffix : kCosignSuffixes) {
    if (std::find(suffixes.begin(), suffixes.end(), suffix) == suffixes.end()) continue;
    std::string tag = CosignTag(digest, suffix);
    auto found = source.Resolve(tag);
    if (!found) {
      if (found.error().code == ErrorCode::kNotFound) continue;
      return Fail(found.error());
    }
    out.push_back({std::string(suffix), std::move(tag), std::move(*found)});
  }
  return out;
}

Result<std::vector<std::pair<Descriptor, std::string>>> ExistingTagLayers(ImageSource& source,
                                                                          const std::string& tag) {
  std::vector<std::pair<Descriptor, std::string>> out;
  auto found = source.Resolve(tag);
  if (!found) {
    if (found.error().code == ErrorCode::kNotFound) return out;
    return Fail(found.error());
  }
  HB_TRY(std::string bytes, source.ReadBlob(*found));
  HB_TRY(Manifest manifest, WithContext(ParseManifest(bytes), "tag " + tag));
  for (const auto& layer : manifest.layers) {
    HB_TRY(std::string blob, source.ReadBlob(layer));
    out.emplace_back(layer, std::move(blob));
  }
  return out;
}

}  // namespace hardbase::oci
