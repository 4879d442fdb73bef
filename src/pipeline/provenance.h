// What an image is made of, for its SBOMs and its SLSA provenance: translates Debian package
// records (dpkg status stanzas, copyright files, the lock) into the plain records of src/sbom.
//
// The same code describes images hardbase built (at build time, from the lock and the package
// facts cached with each layer) and any other image (from the files of its dpkg database), so
// both kinds of SBOM agree; only hardbase's own carry each .deb's SHA256, from the lock.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "oci/image_source.h"
#include "sbom/document.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

// One package as the image's dpkg database records it.
struct InstalledPackage {
  std::string status;                    // its stanza (var/lib/dpkg/status or status.d/<name>)
  std::optional<std::string> copyright;  // /usr/share/doc/<name>/copyright, when shipped
};

// Fills `doc`'s packages from `installed`: name, version, architecture, source, Maintainer,
// Homepage, the licences of the copyright file (or of another package of the same source whose
// doc directory it shares) with the texts of its LicenseRef-* licences, and the dependencies among
// these packages (Depends and Pre-Depends; of an alternative, the first one installed; virtual
// names through Provides). With `lock`, each package the lock holds at that version gets the
// .deb's SHA256. kSpec naming the package for a stanza without Package or Version.
Result<void> DescribePackages(const std::vector<InstalledPackage>& installed,
                              const spec::ArchLock* lock, sbom::Document& doc);

// A status stanza's "Source: name (version)" field split; either part may be absent.
std::pair<std::string, std::string> SplitSource(std::string_view field);

// The KEY=value fields of an os-release text, quotes removed.
std::map<std::string, std::string> ParseOsRelease(std::string_view os_release);
// "debian-12" from an os-release text (ID and VERSION_ID; "debian-unknown" when absent).
std::string DistroFromOsRelease(std::string_view os_release);

// The SBOM document of one platform image of `source`, from its files: var/lib/dpkg/status
// (packages marked installed), var/lib/dpkg/status.d/*, the copyright files and os-release.
// `name` is the image's name in the documents; `lock` as for DescribePackages.
Result<sbom::Document> DescribeImage(oci::ImageSource& source, const oci::PlatformImage& image,
                                     std::string name, const spec::ArchLock* lock);

// Media types of SBOM artifacts, and the formats `hardbase sbom --format` takes.
inline constexpr std::string_view kSpdxMediaType = "application/spdx+json";
inline constexpr std::string_view kCycloneDxMediaType = "application/vnd.cyclonedx+json";
enum class SbomFormat { kSpdx, kCycloneDx };
// The names ParseSbomFormat accepts: "spdx-json", "cyclonedx-json", and the short aliases
// "spdx", "cyclonedx".
std::span<const std::string_view> SbomFormatNames();
// kUsage naming spdx-json and cyclonedx-json for anything else.
Result<SbomFormat> ParseSbomFormat(std::string_view name);
std::string_view SbomMediaType(SbomFormat format);
std::string SbomJson(const sbom::Document& document, SbomFormat format);

// What went into a build, for its SLSA provenance v1 predicate.
struct BuildInputs {
  std::string spec_path;
  std::string spec_sha256;  // of the spec file's bytes
  std::string lock_path;
  std::string lock_sha256;  // of the lock file's bytes
  std::string arch;
  std::string distro;  // purl qualifier, e.g. debian-12
  std::string compression;
  int64_t source_date_epoch = 0;
  const spec::ArchLock* packages = nullptr;  // every .deb, with its sha256
};

// The predicate (https://slsa.dev/provenance/v1): the build definition (spec and lock digests as
// external parameters, every .deb as a resolved dependency) and the builder (hardbase and its
// version). Deterministic: no clock, no host name.
std::string SlsaProvenancePredicate(const BuildInputs& inputs);

}  // namespace hardbase::pipeline
