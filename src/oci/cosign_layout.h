// cosign's storage layout: what cosign (and hardbase, the same way) attaches to an image
// sha256:<hex> is a manifest in the image's own repository or layout, tagged after that digest:
//   sha256-<hex>.sig    signatures: simple-signing payloads, the signature in an annotation
//   sha256-<hex>.att    attestations: DSSE envelopes
//   sha256-<hex>.sbom   an SBOM (`cosign attach sbom`; read and copied, never written here)
// This unit is the one place that knows those tags: making them, recognising them, finding the
// ones present in a source. Everything but the last two functions is pure.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "oci/image.h"
#include "oci/image_source.h"

namespace hardbase::oci {

inline constexpr std::string_view kCosignSignatureSuffix = "sig";
inline constexpr std::string_view kCosignAttestationSuffix = "att";
inline constexpr std::string_view kCosignSbomSuffix = "sbom";
// Every suffix, in the order artifacts are looked up and listed.
inline constexpr std::array<std::string_view, 3> kCosignSuffixes = {
    kCosignSignatureSuffix, kCosignAttestationSuffix, kCosignSbomSuffix};

// The tag of what is attached to `digest` ("sha256:<hex>") under `suffix`: "sha256-<hex>.sig".
std::string CosignTag(std::string_view digest, std::string_view suffix);

// Whether `tag` is one of those tags: "sha256-<64 hex>" followed by ".sig", ".att", ".sbom" or
// nothing (the bare digest tag some registries' tooling leaves behind).
bool IsCosignTag(std::string_view tag);

// The digest ("sha256:<hex>") the cosign tag names, with its suffix ("" for the bare form);
// nullopt when `tag` is not a cosign tag.
std::optional<std::pair<std::string, std::string>> CosignSubject(std::string_view tag);

// Whether a layout's index entry is a cosign artifact, not an image: its ref.name is a cosign tag.
bool IsCosignEntry(const Descriptor& entry);

// One cosign artifact present for a digest.
struct CosignArtifact {
  std::string suffix;  // "sig", "att", "sbom"
  std::string tag;
  Descriptor descriptor;  // as the source resolves the tag
};

// The artifacts at the cosign tags of `digest` that `source` holds, in kCosignSuffixes order,
// only those among `suffixes`. Failures other than kNotFound are returned.
Result<std::vector<CosignArtifact>> FindCosignArtifacts(
    ImageSource& source, std::string_view digest,
    std::span<const std::string_view> suffixes = kCosignSuffixes);

// The layers (descriptor and bytes) of the manifest at `tag`, to keep when another signature or
// attestation is added to it; empty when the tag is absent.
Result<std::vector<std::pair<Descriptor, std::string>>> ExistingTagLayers(ImageSource& source,
                                                                          const std::string& tag);

}  // namespace hardbase::oci
