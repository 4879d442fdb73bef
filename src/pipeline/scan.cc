#include "pipeline/scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "base/version.h"
#include "deb/distro.h"
#include "sbom/document.h"
#include "vuln/import.h"

namespace hardbase::pipeline {
namespace {

// Seconds since the epoch of an RFC 3339 time; nullopt when it is not one.
std::optional<int64_t> EpochOf(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  if (!t) return std::nullopt;
  return t->first;
}

std::string DateOf(const std::string& rfc3339) { return rfc3339.substr(0, 10); }

// A database without the release would match nothing and so call every image clean.
Result<void> CheckRelease(const vuln::Database& db, const std::string& release) {
  auto releases = db.Releases();
  if (std::find(releases.begin(), releases.end(), release) != releases.end()) return {};
  return Fail(ErrorCode::kNotFound,
              fmt::format("the vulnerability database ({}) has no data for Debian {}",
                          db.metadata().source, release));
}

}  // namespace

std::string DefaultVulnDbPath(const std::string& cache_dir) { return cache_dir + "/vuln/vulndb"; }

Result<vuln::Database> UpdateVulnDb(const std::string& from, const std::string& db_path,
                                    net::HttpClient& http) {
  std::string dir = DirName(db_path);
  HB_TRY_VOID(MakeDirs(dir.empty() ? "." : dir));
  HB_TRY(FileLock lock, FileLock::Acquire(db_path + ".lock", FileLock::Mode::kExclusive));
  std::optional<TempDir> download;
  std::string path = from;
  if (from.starts_with("http://") || from.starts_with("https://")) {
    HB_TRY(download, TempDir::Create(".download-", dir.empty() ? "." : dir));
    std::string name = BaseName(from.substr(0, from.find_first_of("?#")));
    path = download->path() + "/" + (name.empty() ? "data" : name);
    LogInfo("downloading {}", from);
    // Bounded like any input of the import, and complete before anything reads it (the client
    // renames its .part file into place only then).
    net::DownloadRequest request{from, path};
    request.max_size = vuln::ImportLimits{}.max_input_bytes;
    auto results = http.Download({request}, nullptr);
    HB_TRY_VOID(results.at(0));
  }
  HB_TRY(vuln::Database db, WithContext(vuln::ImportPath(path, from), "import " + from));
  HB_TRY_VOID(db.Save(db_path));
  return db;
}

std::vector<std::string> DatabaseWarnings(const vuln::Metadata& metadata, int64_t now) {
  std::vector<std::string> out;
  if (auto date = EpochOf(metadata.data_date)) {
    int64_t days = (now - *date) / 86400;
    if (now - *date > 7 * 86400) {
      out.push_back(
          fmt::format("the vulnerability data is from {} ({} days old): CVEs and fixes "
                      "published since are missing; run `hardbase vuln update`",
                      DateOf(metadata.data_date), days));
    }
  } else {
    out.push_back("the vulnerability data does not say how old it is");
  }
  if (metadata.skipped > 0) {
    out.push_back(
        fmt::format("{} entr{} of the data skipped at import for an unparseable version (e.g. {})",
                    metadata.skipped, metadata.skipped == 1 ? "y" : "ies",
                    metadata.skipped_examples.empty() ? "?" : metadata.skipped_examples.front()));
  }
  return out;
}

Result<std::string> InventoryRelease(const Inventory& inventory, std::string release) {
  if (!release.empty()) return release;
  return WithContext(deb::ParseOsRelease(inventory.os_release).DebianRelease(),
                     inventory.reference);
}

std::optional<std::string> LockRelease(const spec::Lock& lock) {
  std::optional<std::string> release;
  for (const auto& r : lock.releases) {
    if (auto n = deb::ReleaseForCodename(r.codename)) release = *n;
  }
  return release;
}

Result<vuln::Database> LoadVulnDbFor(const std::string& path, const std::string& release,
                                     const std::vector<vuln::InstalledPackage>& packages) {
  vuln::Database::Selection only{release, {}};
  for (const auto& p : packages) only.sources.insert(p.source);
  // An empty set would select every source of the release.
  if (only.sources.empty()) only.sources.insert("");
  HB_TRY(vuln::Database db, vuln::Database::Load(path, &only));
  HB_TRY_VOID(CheckRelease(db, release));
  return db;
}

Result<vuln::Report> ScanInventory(const Inventory& inventory, const vuln::Database& db,
                                   std::string release, const std::vector<vuln::VexDocument>& vex) {
  if (inventory.package_database.empty() || inventory.packages.empty()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("{}: {}: nothing can be matched, which is not the same as no "
                            "vulnerabilities",
                            inventory.reference,
                            inventory.package_database.empty()
                                ? "no package database (var/lib/dpkg/status or status.d/)"
                                : "no installed package in " + inventory.package_database));
  }
  HB_TRY(release, InventoryRelease(inventory, std::move(release)));
  HB_TRY_VOID(CheckRelease(db, release));
  vuln::Report report;
  report.image = inventory.reference;
  report.image_digest = inventory.digest;
  report.image_name = inventory.name;
  // The distribution of the packages, for their purls: what the image's os-release says, as in
  // its SBOM (deb/purl.h), whatever release they are matched for.
  report.distro = deb::ParseOsRelease(inventory.os_release);
  report.release = release;
  report.architecture = inventory.architecture;
  report.database = db.metadata();
  report.packages = inventory.packages;
  // Where findings point in SARIF: status.d/<package> for distroless-style images.
  report.package_database = inventory.package_database == "var/lib/dpkg/status.d"
                                ? inventory.package_database
                                : "var/lib/dpkg/status";
  report.match = vuln::Match(db, release, inventory.packages);

  std::vector<std::string> ids = {inventory.reference};
  if (!inventory.digest.empty()) {
    ids.push_back(inventory.digest);
    ids.push_back(
        sbom::ImagePurl(BaseName(inventory.name), inventory.digest, inventory.architecture));
  }
  vuln::ApplyVex(vex, ids, report.distro, report.match.findings);

  int64_t now = static_cast<int64_t>(std::time(nullptr));
  report.warnings = DatabaseWarnings(db.metadata(), now);
  auto created = EpochOf(inventory.created), data = EpochOf(db.metadata().data_date);
  if (created && data && *created > *data) {
    report.warnings.push_back(fmt::format(
        "the image's packages (as of {}) are newer than the vulnerability data ({}): their "
        "CVEs and fixes may be missing",
        DateOf(inventory.created), DateOf(db.metadata().data_date)));
  }
  report.scanned_at = Rfc3339(now);
  report.tool_version = std::string(HardbaseVersion());
  return report;
}

Result<void> CheckScanGate(const vuln::Report& report, const ScanGate& gate) {
  if (!gate.threshold && !gate.fixable_only) return {};
  int hits = 0;
  std::string first;
  for (const auto& f : report.match.findings) {
    if (f.suppressed || f.kernel_headers) continue;
    if (gate.threshold && f.severity < *gate.threshold) continue;
    if (gate.fixable_only && f.status != vuln::FixStatus::kFixable) continue;
    if (hits++ == 0) first = f.id + " in " + f.package;
  }
  if (hits == 0) return {};
  std::string what = gate.fixable_only ? "fixable " : "";
  if (gate.threshold) what += fmt::format("{} or worse ", vuln::SeverityName(*gate.threshold));
  return Fail(ErrorCode::kVulnerable,
              fmt::format("scan {}: {} {}finding{} (first: {})", report.image, hits, what,
                          hits == 1 ? "" : "s", first));
}

}  // namespace hardbase::pipeline
