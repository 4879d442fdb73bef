// Software bills of materials for a container image of Debian packages: SPDX 2.3 JSON and
// CycloneDX 1.5 JSON, from plain records (the pipeline fills them from the lock, the .deb
// hashes and the shipped copyright files).
//
// Both documents meet the NTIA minimum elements: per package a supplier (the Maintainer field;
// "Debian" when a package has none, since it comes from the distribution), name, version, purl
// as unique id, the .deb's SHA-256 (when known) and its dependencies; per document the tool as
// author (the SBOM is machine-generated; nothing else is known about who runs the tool) and the
// build's timestamp. The output is a pure function of the Document: same record, same bytes, so
// a reproducible image has a reproducible SBOM.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "deb/distro.h"

namespace hardbase::sbom {

struct Package {
  std::string name, version, architecture;  // architecture: Debian name or "all"
  std::string source, source_version;       // source package; empty when equal to the binary's
  std::string maintainer;                   // the Maintainer field: "Name <email>"; may be empty
  std::string sha256;    // the .deb's SHA-256 (hex); empty when unknown (image not built by us)
  std::string license;   // SPDX license expression; empty = unknown (NOASSERTION)
  std::string homepage;  // may be empty
  std::vector<std::string> depends;  // names of other packages of this document it depends on
};

struct Document {
  std::string name;          // the image's name, e.g. "java17"
  std::string image_digest;  // "sha256:<hex>" of the manifest described (the root component)
  std::string architecture;  // Debian arch of the image, e.g. amd64
  std::string created;       // RFC 3339 UTC, from the build's timestamp (so SBOMs are reproducible)
  std::string tool_version;  // hardbase's version, e.g. "0.1.0"
  // The distribution the packages are of (the image's os-release; for an image built here
  // without one, that of the lock's release): the namespace and distro qualifier of their purls.
  deb::Distro distro;
  std::vector<Package> packages;
  // LicenseRef-* id -> licence text (from LicenseRefTexts of the packages' copyright files). SPDX
  // requires the text of every LicenseRef used; one missing here gets a placeholder saying so.
  std::map<std::string, std::string> license_texts;
};

// Deterministic bytes: packages sorted by name, architecture and version, fixed key order.
// Dependencies name packages; a name matching several packages (multi-arch) links to each, and
// names not in the document are dropped.
std::string SpdxJson(const Document& doc);
std::string CycloneDxJson(const Document& doc);

// The package's purl, deb::PackagePurl's canonical string (the one every hardbase output names
// the package with): pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-12[&upstream=...].
std::string PackageUrl(const Package& pkg, const deb::Distro& distro);

// The purl of the image itself: pkg:oci/<name>@sha256:<hex>?arch=<OCI architecture> (purl-spec's
// oci type: the name lower-cased, the architecture as OCI names it, "arm64" not "aarch64"), from
// the image's name, its manifest digest "sha256:<hex>" and its Debian architecture.
std::string ImagePurl(std::string_view name, std::string_view digest,
                      std::string_view debian_architecture);

// cpe:2.3:a:<vendor>:<product>:<version>:*:*:*:*:*:*:* with vendor and product the source
// package's name (what NVD usually files Debian-packaged software under, e.g. openssl:openssl
// for libssl3) and the Debian version, special characters backslash-quoted per CPE 2.3.
std::string Cpe23(const Package& pkg);

}  // namespace hardbase::sbom
