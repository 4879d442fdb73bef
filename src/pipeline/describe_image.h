// What an image is made of, for its SBOMs and its SLSA provenance: translates Debian package
// records (dpkg status stanzas, copyright files, the lock) into the plain records of src/sbom.
//
// The same code describes images hardbase built (at build time, from the lock and the package
// facts cached with each layer) and any other image (from the files of its dpkg database), so
// both kinds of SBOM agree; only hardbase's own carry each .deb's SHA256, from the lock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/distro.h"
#include "oci/image_source.h"
#include "sbom/document.h"
#include "sbom/format.h"
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

// The SBOM document of one platform image of `source`, from its files: var/lib/dpkg/status
// (packages marked installed), var/lib/dpkg/status.d/*, the copyright files and os-release.
// `name` is the image's name in the documents; `lock` as for DescribePackages.
Result<sbom::Document> DescribeImage(oci::ImageSource& source, const oci::PlatformImage& image,
                                     std::string name, const spec::ArchLock* lock);

// What went into a build, for its SLSA provenance v1 predicate.
struct BuildInputs {
  std::string spec_path;
  std::string spec_sha256;  // of the spec file's bytes
  std::string lock_path;
  std::string lock_sha256;  // of the lock file's bytes
  std::string arch;
  deb::Distro distro;  // of the packages, for their purls (as in the SBOM)
  std::string compression;
  int64_t source_date_epoch = 0;
  const spec::ArchLock* packages = nullptr;  // every .deb, with its sha256
};

// The predicate (https://slsa.dev/provenance/v1): the build definition (spec and lock digests as
// external parameters, every .deb as a resolved dependency) and the builder (hardbase and its
// version). Deterministic: no clock, no host name.
std::string SlsaProvenancePredicate(const BuildInputs& inputs);

// What a predicate SlsaProvenancePredicate wrote says, read back (for `reproduce`).
struct SlsaProvenance {
  std::string spec_path;  // as given to the build (relative to its working directory)
  std::string spec_sha256;
  std::string lock_path;
  std::string lock_sha256;
  std::string arch;
  std::string compression;
  int64_t source_date_epoch = 0;
  // A resolved dependency: the .deb its purl names, its repository-relative filename and sha256.
  struct Deb {
    std::string name;
    std::string version;
    std::string architecture;
    std::string filename;
    std::string sha256;
  };
  std::vector<Deb> debs;
  std::string hardbase_version;  // the builder's
};

// kSpec naming the member that is missing or malformed; kSpec too for another build type than
// hardbase's (a provenance of another builder says nothing hardbase can rebuild from).
Result<SlsaProvenance> ParseSlsaProvenance(std::string_view predicate_json);

}  // namespace hardbase::pipeline
