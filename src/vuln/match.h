// Matching an image's installed packages against the database, by source package and source
// version with dpkg ordering. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "deb/installed_package.h"
#include "vuln/database.h"
#include "vuln/severity.h"

namespace hardbase::vuln {

// One installed binary package, as its dpkg status stanza says (the record has its home in deb/,
// where the image's database is read into it).
using InstalledPackage = deb::InstalledPackage;

enum class FixStatus { kFixable, kUnfixed };
std::string_view FixStatusName(FixStatus status);  // "fixable", "unfixed"

struct Finding {
  std::string id;                       // CVE id (or an advisory id naming no CVE)
  std::vector<std::string> advisories;  // DSA/DLA folded into it
  std::string package;                  // binary package
  std::string version;                  // installed binary version
  std::string architecture;
  std::string source;
  std::string source_version;
  std::string fixed_version;  // "" when unfixed
  FixStatus status = FixStatus::kUnfixed;
  Severity severity = Severity::kUnknown;
  std::string severity_source;  // "debian" (urgency), "cvss" or "" (unknown)
  std::string urgency;          // as in the data
  double cvss_score = -1;
  std::string cvss_vector;
  std::string summary;
  bool kernel_headers = false;  // linux-libc-dev / linux-headers-*: kernel CVEs that do
                                // not apply to a container, reported apart
  // Set by ApplyVex: an OpenVEX "not_affected" statement covers it.
  bool suppressed = false;
  std::string vex_status;  // "not_affected", "fixed", "under_investigation", "affected"
  std::string vex_justification;
  std::string vex_document;  // where the statement came from (path / @id)
};

struct MatchResult {
  std::vector<Finding> findings;  // sorted by (package, id)
  // Installed packages whose source version does not parse: never silently dropped, listed with
  // the reason ("pkg 1:x: bad version ...").
  std::vector<std::string> unmatched;
};

// An entry affects a package when introduced <= source_version < fixed (no fixed: every version
// from introduced on). Binary packages of the same source each get their finding.
MatchResult Match(const Database& db, std::string_view release,
                  const std::vector<InstalledPackage>& packages);

bool IsKernelHeaders(std::string_view package);

}  // namespace hardbase::vuln
