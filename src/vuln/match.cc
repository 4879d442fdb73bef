#include "vuln/match.h"

#include <algorithm>
#include <tuple>

#include "deb/version.h"

namespace hardbase::vuln {
namespace {

// introduced <= version < fixed; introduced "0" (or none) is every version, no fixed is open.
bool Affects(const Entry& entry, std::string_view version) {
  if (!entry.introduced.empty() && entry.introduced != "0" &&
      deb::CompareVersions(version, entry.introduced) < 0) {
    return false;
  }
  return entry.fixed.empty() || deb::CompareVersions(version, entry.fixed) < 0;
}

Finding MakeFinding(const InstalledPackage& package, std::string_view source,
                    std::string_view source_version, const Entry& entry,
                    const Vulnerability* vulnerability) {
  Finding f;
  f.id = entry.id;
  f.advisories = entry.advisories;
  f.package = package.name;
  f.version = package.version;
  f.architecture = package.architecture;
  f.source = source;
  f.source_version = source_version;
  f.fixed_version = entry.fixed;
  f.status = entry.fixed.empty() ? FixStatus::kUnfixed : FixStatus::kFixable;
  f.urgency = entry.urgency;
  if (vulnerability != nullptr) {
    f.cvss_score = vulnerability->cvss_score;
    f.cvss_vector = vulnerability->cvss_vector;
    f.summary = vulnerability->summary;
  }
  if (auto severity = SeverityFromUrgency(entry.urgency)) {
    f.severity = *severity;
    f.severity_source = "debian";
  } else if (f.cvss_score >= 0) {
    f.severity = SeverityFromScore(f.cvss_score);
    f.severity_source = "cvss";
  }
  f.kernel_headers = IsKernelHeaders(package.name);
  return f;
}

}  // namespace

std::string_view FixStatusName(FixStatus status) {
  return status == FixStatus::kFixable ? "fixable" : "unfixed";
}

MatchResult Match(const Database& db, std::string_view release,
                  const std::vector<InstalledPackage>& packages) {
  MatchResult result;
  for (const InstalledPackage& package : packages) {
    std::string_view source = package.source.empty() ? package.name : package.source;
    std::string_view source_version =
        package.source_version.empty() ? package.version : package.source_version;
    if (auto parsed = deb::ParseVersion(source_version); !parsed) {
      result.unmatched.push_back(package.name + " " + std::string(source_version) + ": " +
                                 parsed.error().message);
      continue;
    }
    std::string_view last_id;  // one finding per id, however many of its ranges contain it
    for (const Entry* entry : db.Find(release, source)) {
      if (entry->id == last_id || !Affects(*entry, source_version)) continue;
      last_id = entry->id;
      result.findings.push_back(
          MakeFinding(package, source, source_version, *entry, db.FindVulnerability(entry->id)));
    }
  }
  std::sort(result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.package, a.id, a.architecture, a.version) <
           std::tie(b.package, b.id, b.architecture, b.version);
  });
  return result;
}

// Only the kernel's headers: they are data compiled into other programs, so a kernel CVE in them
// never runs in a container (which uses the host's kernel). linux-kbuild-* is left out on purpose:
// it ships executables (modpost, fixdep, ...) that do run in the image.
bool IsKernelHeaders(std::string_view package) {
  return package == "linux-libc-dev" || package.starts_with("linux-headers-");
}

}  // namespace hardbase::vuln
