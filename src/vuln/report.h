// A scan's report and its renderings: a table for people, JSON for scripts, SARIF 2.1.0 for
// GitHub code scanning, CycloneDX 1.5 VDR/VEX for the SBOM tooling. Pure: values in, text out.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/distro.h"
#include "vuln/match.h"

namespace hardbase::vuln {

struct Report {
  std::string image;         // the reference as given
  std::string image_digest;  // "sha256:..." of the platform manifest; "" for a root filesystem
  std::string image_name;    // for purls: the repository or directory name
  deb::Distro distro;        // of the image's packages, for their purls ("debian-12")
  std::string release;       // the release matched: "12"
  std::string architecture;
  Metadata database;  // the data's source and date, stated in every output
  std::vector<InstalledPackage> packages;
  MatchResult match;
  std::vector<std::string> warnings;  // stale data, data older than the image, ...
  std::string scanned_at;             // RFC 3339 UTC
  std::string tool_version;
  // Where the packages were read, relative to the root: "var/lib/dpkg/status", or
  // "var/lib/dpkg/status.d" (one file per package, as distroless and hardbase images have).
  std::string package_database = "var/lib/dpkg/status";
};

// Counts over the findings that are not suppressed, kernel-header ones apart.
struct Summary {
  std::map<Severity, int> by_severity;  // findings (binary package, id)
  std::map<FixStatus, int> by_status;
  int findings = 0;
  int unique = 0;  // distinct (id, source) pairs
  int fixable_unique = 0;
  int kernel_headers = 0;                  // findings on kernel-header packages
  int suppressed = 0;                      // by VEX
  std::map<std::string, int> per_package;  // binary package -> findings
};
Summary Summarize(const Report& report);

enum class ReportFormat { kTable, kJson, kSarif, kCycloneDx };
// The formats' names, in the order above: "table", "json", "sarif", "cyclonedx".
std::span<const std::string_view> ReportFormatNames();
// kUsage naming the choices for anything else.
Result<ReportFormat> ParseReportFormat(std::string_view name);

// The table: one row per finding (severity, id, package, installed, fixed, status), worst first,
// kernel-header and VEX-suppressed findings in their own sections, then the summary and the
// database's date and source.
std::string RenderTable(const Report& report);
// JSON: {schema: "hardbase-scan/v1", image, database, summary, findings[], unmatched[],
// warnings[]}; each finding names its package by name and by purl (the SBOMs' purl).
std::string RenderJson(const Report& report);
// SARIF 2.1.0 as GitHub code scanning takes it: one rule per id with help text and
// properties["security-severity"]; one result per finding located at the package database file,
// its package's purl among its properties.
std::string RenderSarif(const Report& report);
// CycloneDX 1.5 JSON: the packages as components (each purl, the SBOMs' one, also its bom-ref)
// and each vulnerability with its affects[], ratings, and analysis when a VEX statement covers it
// (a match alone is no analysis: without one only the recommendation to upgrade, when a fix
// exists).
std::string RenderCycloneDx(const Report& report);
std::string Render(const Report& report, ReportFormat format);

}  // namespace hardbase::vuln
