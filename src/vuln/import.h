// Reading vulnerability data from disk into a Database: an osv.dev export zip (all.zip of the
// Debian ecosystem), a directory of OSV JSON files, or a tracker JSON file. Downloading a URL is
// the caller's business (the pipeline fetches it to a file first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "vuln/database.h"

namespace hardbase::vuln {

enum class InputKind { kOsvZip, kOsvDirectory, kTrackerJson };

// The public sources of Debian's vulnerability data that `hardbase vuln update` downloads when it
// is given no file. osv.dev's per-ecosystem export, as its data-sources page documents it
// (gs://osv-vulnerabilities/<ECOSYSTEM>/all.zip, over HTTPS), is the default: the importer reads
// DSA/DLA advisories and CVSS vectors from it besides what the tracker says.
inline constexpr std::string_view kOsvDebianExportUrl =
    "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip";
// The Debian security tracker's own JSON export (every source package, CVE and release).
inline constexpr std::string_view kTrackerJsonUrl =
    "https://security-tracker.debian.org/tracker/data/json";

// Tells the kind from the path: a directory; a file starting with "PK\x03\x04" (zip); a file whose
// first non-blank byte is '{' (tracker JSON). kSpec otherwise.
Result<InputKind> DetectInput(const std::string& path);

// What an import may cost: the data is someone else's, and a zip of a few megabytes can inflate
// to gigabytes. Past a bound the import fails with kSpec naming the entry.
struct ImportLimits {
  // One OSV record (zip member or file) once decompressed; real ones are a few kilobytes.
  uint64_t max_record_bytes = uint64_t{16} << 20;
  // All records together once decompressed; osv.dev's whole Debian export is a few hundred MiB.
  uint64_t max_total_bytes = uint64_t{4} << 30;
  // The file as it comes (a download, or a tracker JSON file, which is read whole): osv.dev's
  // Debian all.zip was 59 MB in February 2025, so this leaves room to grow, not to fill a disk.
  uint64_t max_input_bytes = uint64_t{1} << 30;
};

// Reads and builds the whole database. `source` is recorded as the metadata's source (the URL a
// file was downloaded from, or the path). kSpec naming the zip member / file for a record that is
// not valid JSON or not OSV, or past `limits`; kSpec "corrupt or truncated zip" for a damaged
// archive (nothing is returned, so a failed import never replaces a good database). Records of no
// Debian release (Alpine, ...) are read and ignored. data_date is the newest record's `modified`
// (OSV), or for a tracker file (whose records have no date) the file's mtime.
// Memory stays bounded by a few records in flight plus what the database keeps.
Result<Database> ImportPath(const std::string& path, const std::string& source,
                            const ImportLimits& limits = {});

}  // namespace hardbase::vuln
