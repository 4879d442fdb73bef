// Debian's `debsecan` as an independent matcher: its vulnerability data file made straight from
// the OSV records of a snapshot zip (read here with libarchive and nlohmann::json, not with
// src/vuln, so that hardbase's import, advisory folding and merging are checked too), and debsecan
// run offline against a dpkg status file.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace hardbase::testing {

// One affected[] of an OSV record for one Debian release with an ECOSYSTEM range: the record's
// own id (CVE-, DSA-, DLA- or DTSA-), so each record is its own vulnerability for debsecan.
struct OsvEntry {
  std::string id, source, introduced, fixed;  // fixed "" when none; introduced "0" from the start
  std::string urgency;                        // ecosystem_specific.urgency, "" when absent
  std::string summary;
};

// The Debian release ("12") of a suite codename ("bookworm"); nullopt for an unknown one.
std::optional<std::string> DebsecanRelease(std::string_view suite);

// Every OsvEntry of ecosystem "Debian:<release>" in the OSV snapshot zip at `zip`, sorted by
// (source, id). kIo when the zip cannot be read, kSpec for a record that is not JSON.
Result<std::vector<OsvEntry>> ReadOsvEntries(const std::string& zip, std::string_view release);

// The uncompressed text of debsecan's data file for `entries`: one vulnerability line per id and
// one package line per entry. Format and fields: see debsecan.cc.
std::string DebsecanData(const std::vector<OsvEntry>& entries);

// Writes DebsecanData(entries) zlib-compressed as `<dir>/<suite>`: the file that
// `debsecan --source file://<dir>/ --suite <suite>` reads.
Result<void> WriteDebsecanData(const std::vector<OsvEntry>& entries, std::string_view suite,
                               const std::string& dir);

// What debsecan reports: (vulnerability id, binary package) pairs, and the subset it marks
// "fixed" (a fix is available in the suite).
struct DebsecanReport {
  std::set<std::pair<std::string, std::string>> pairs;
  std::set<std::pair<std::string, std::string>> fixed;
};

// Runs debsecan on `status_file` with the data written by WriteDebsecanData into `data_dir`,
// offline (file:// source; proxies pointed at a closed port), without the host's configuration
// or whitelist. kIo with debsecan's stderr when it fails.
Result<DebsecanReport> RunDebsecan(const std::string& data_dir, std::string_view suite,
                                   const std::string& status_file);

}  // namespace hardbase::testing
