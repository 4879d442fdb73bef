// OpenVEX (https://github.com/openvex/spec, v0.2.0): statements that a vulnerability does or does
// not affect a product, so a scan can honour what a team has already analysed. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/distro.h"
#include "vuln/match.h"

namespace hardbase::vuln {

struct VexStatement {
  std::string vulnerability;               // vulnerability.name or @id ("CVE-2024-2961")
  std::vector<std::string> aliases;        // vulnerability.aliases
  std::vector<std::string> products;       // product @id / identifiers.purl (purls, image digests);
                                           // empty = every product
  std::vector<std::string> subcomponents;  // purls of packages; empty = every package
  std::string status;                      // not_affected | affected | fixed | under_investigation
  std::string justification;               // for not_affected: component_not_present, ...
  std::string impact_statement;
  std::string timestamp;
};

struct VexDocument {
  std::string id;  // @id
  std::vector<VexStatement> statements;
};

// kSpec naming `name` for JSON that is not an OpenVEX document, or a not_affected statement with
// neither a justification nor an impact_statement (the spec requires one).
Result<VexDocument> ParseOpenVex(std::string_view json, std::string_view name);

// Marks the findings a statement covers. A statement covers a finding when
//   - its vulnerability (name or an alias) is the finding's id or one of its advisories,
//   - it names no product, or one of its products is one of `image_ids` (the ids the scanned
//     image answers to: its reference as given, its digest "sha256:...", its purl
//     "pkg:oci/<name>@sha256:..."; purls compare as parsed values, an OCI purl also by its digest
//     alone) or is the finding's Debian package (as scanners also accept), and
//   - it names no subcomponent, or one of them is the finding's Debian package.
// A Debian package is named by a deb purl (base/purl.h) whose namespace is "debian" or `distro`'s
// ID (either case), whose name is the binary package's and whose version, when it has one, is
// the installed one; with the qualifier arch=source, the name and version are the source
// package's instead. Other qualifiers do not matter. Of the statements covering a finding the
// latest (by timestamp, then document order) decides: not_affected and fixed suppress it, the
// others only record their status.
void ApplyVex(const std::vector<VexDocument>& documents, const std::vector<std::string>& image_ids,
              const deb::Distro& distro, std::vector<Finding>& findings);

}  // namespace hardbase::vuln
