// Reading vulnerability data from disk into a Database: an osv.dev export zip (all.zip of the
// Debian ecosystem), a directory of OSV JSON files, or a tracker JSON file. Downloading a URL is
// the caller's business (the pipeline fetches it to a file first).
#pragma once

#include <string>

#include "base/error.h"
#include "vuln/database.h"

namespace hardbase::vuln {

enum class InputKind { kOsvZip, kOsvDirectory, kTrackerJson };

// Tells the kind from the path: a directory; a file starting with "PK\x03\x04" (zip); a file whose
// first non-blank byte is '{' (tracker JSON). kSpec otherwise.
Result<InputKind> DetectInput(const std::string& path);

// Reads and builds the whole database. `source` is recorded as the metadata's source (the URL a
// file was downloaded from, or the path). kSpec naming the zip member / file for a record that is
// not valid JSON or not OSV; kSpec "corrupt or truncated zip" for a damaged archive (nothing is
// returned, so a failed import never replaces a good database). Records of no Debian release
// (Alpine, ...) are read and ignored. For a tracker file, data_date is its mtime.
Result<Database> ImportPath(const std::string& path, const std::string& source);

}  // namespace hardbase::vuln
