// The package URL of a Debian binary package: the one place it is made, so the SBOM, every
// rendering of a scan and the SLSA provenance name a package with the same string and a tool can
// join them by it (the purl rules themselves are base/purl.h's). Pure.
#pragma once

#include <string_view>

#include "base/purl.h"
#include "deb/distro.h"

namespace hardbase::deb {

// pkg:deb/<vendor>/<name>@<version>?arch=<arch>&distro=<distro>[&upstream=<source>[@<version>]]
// (purl-spec's deb type; the distro and upstream qualifiers as syft and trivy write them):
//   vendor    the distro's ID ("debian"); "debian" when the image does not say (a dpkg database
//             without os-release: its packages are taken for Debian's, the only ones hardbase
//             reads), so the purl keeps the namespace the deb type requires
//   arch      the package's Architecture ("amd64", "all"); left out when empty
//   distro    distro.PurlQualifier() ("debian-12"); left out when the distro is unknown
//   upstream  the source package when it differs from the binary's name, with "@<version>" when
//             the source version differs from the binary's (a binNMU, or a package whose version
//             is its own); `source` and `source_version` may be empty or equal to the binary's
//             name and version to say "the same"
Purl PackagePurl(const Distro& distro, std::string_view name, std::string_view version,
                 std::string_view architecture, std::string_view source = {},
                 std::string_view source_version = {});

}  // namespace hardbase::deb
