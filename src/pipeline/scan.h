// `hardbase scan`, `diff` and `vuln update`: the vulnerability database on disk, and matching an
// image's packages against it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "net/http.h"
#include "pipeline/inventory.h"
#include "spec/lock.h"
#include "vuln/database.h"
#include "vuln/report.h"
#include "vuln/severity.h"
#include "vuln/vex.h"

namespace hardbase::pipeline {

// Where the database lives unless --db says otherwise: <cache dir>/vuln/vulndb.
std::string DefaultVulnDbPath(const std::string& cache_dir);

// Imports `from` (an osv.dev export zip, a directory of OSV records, a Debian tracker JSON file,
// or an http(s) URL of one of these, downloaded first) and replaces the database at `db_path`
// atomically, under a lock so concurrent updates do not interleave. A failed import leaves the
// old database as it was.
Result<vuln::Database> UpdateVulnDb(const std::string& from, const std::string& db_path,
                                    net::HttpClient& http);

// Warnings about the data itself: older than 7 days (relative to `now`, seconds since the
// epoch), records skipped at import.
std::vector<std::string> DatabaseWarnings(const vuln::Metadata& metadata, int64_t now);

// The release to match an inventory against: `release` when given, else its os-release's.
Result<std::string> InventoryRelease(const Inventory& inventory, std::string release);

// The Debian release number ("12") a lock's packages come from: that of the last of its
// releases whose codename is a known Debian one; nullopt when none is.
std::optional<std::string> LockRelease(const spec::Lock& lock);

// The part of the database at `path` that matters for `packages` of `release` (see
// vuln::Database::Selection): a scan loads in milliseconds what a full load takes longer for.
Result<vuln::Database> LoadVulnDbFor(const std::string& path, const std::string& release,
                                     const std::vector<vuln::InstalledPackage>& packages);

// The report of an inventory: its packages matched for `release` (empty: from its os-release),
// the VEX documents applied, warnings about stale data or data older than the image. kNotFound
// when the image has no package database (nothing was matched: that is not "0 vulnerabilities"),
// or the database has no data for the release.
Result<vuln::Report> ScanInventory(const Inventory& inventory, const vuln::Database& db,
                                   std::string release, const std::vector<vuln::VexDocument>& vex);

// What `scan --fail-on` / `--fail-on-fixable` decide. The findings the gate counts: not
// suppressed by VEX, not kernel headers (their CVEs are the kernel's, which a container does not
// run), at or above `threshold` when there is one, fixable when `fixable_only`.
struct ScanGate {
  std::optional<vuln::Severity> threshold;
  bool fixable_only = false;
};
// kVulnerable counting the findings and naming the first ("scan IMAGE: 3 fixable high or worse
// findings (first: CVE-... in libssl3)") when any counts; success otherwise, and always when the
// gate asks for nothing.
Result<void> CheckScanGate(const vuln::Report& report, const ScanGate& gate);

}  // namespace hardbase::pipeline
