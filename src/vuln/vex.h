// OpenVEX (https://github.com/openvex/spec, v0.2.0): statements that a vulnerability does or does
// not affect a product, so a scan can honour what a team has already analysed. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "vuln/match.h"

namespace hardbase::vuln {

struct VexStatement {
  std::string vulnerability;            // vulnerability.name or @id ("CVE-2024-2961")
  std::vector<std::string> aliases;     // vulnerability.aliases
  std::vector<std::string> products;    // product @id / identifiers.purl (purls, image digests);
                                        // empty = every product
  std::vector<std::string> subcomponents;  // purls of packages; empty = every package
  std::string status;                   // not_affected | affected | fixed | under_investigation
  std::string justification;            // for not_affected: component_not_present, ...
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

// The product ids an image answers to: its digest ("sha256:..."), its purl
// ("pkg:oci/name@sha256%3A..."), and its reference as given.
// Marks findings covered by a statement: the vulnerability (name or alias) matches the finding's
// id or one of its advisories, a product matches one of `image_ids` or is the finding's Debian
// package (as for subcomponents; or the statement names none), and a subcomponent matches the package's purl "pkg:deb/debian/<name>@<version>" (any
// qualifiers, version optional) or the statement names none. Later statements (by timestamp, then
// document order) override earlier ones. not_affected and fixed suppress; the others only record
// the status.
void ApplyVex(const std::vector<VexDocument>& documents, const std::vector<std::string>& image_ids,
              std::vector<Finding>& findings);

}  // namespace hardbase::vuln
