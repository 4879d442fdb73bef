// osv.dev's OSV records for Debian (https://ossf.github.io/osv-schema/): one JSON record in, the
// database's plain records out. Pure: bytes in, values out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "vuln/database.h"

namespace hardbase::vuln {

// What one OSV record contributes.
struct OsvRecord {
  Vulnerability vulnerability;       // id, summary, CVSS (first CVSS_V3 severity entry)
  std::vector<std::string> related;  // CVE and Debian advisory (DSA/DLA/DTSA) ids among aliases,
                                     // related and upstream (sorted, unique): links both ways
  std::vector<Entry> entries;        // one per affected[] of a "Debian:N" ecosystem with an
                                     // ECOSYSTEM range; other ecosystems (Alpine, ...) are ignored
  int64_t skipped = 0;               // affected entries skipped for an unparseable version
  std::vector<std::string> skipped_examples;
};

// kSpec naming `name` for input that is not JSON or not an OSV record (no id, affected not a
// list...). A range with several introduced/fixed pairs gives one entry per pair.
Result<OsvRecord> ParseOsvRecord(std::string_view json, std::string_view name);

// A description as a summary: its first sentence (or line) on one line, at most 200 bytes.
std::string SummaryLine(std::string_view text);

// The database from parsed records: DSA/DLA/DTSA records folded into the CVE entries of the same
// (release, source) that they relate to; the rest kept. `metadata` gets records, skipped and the
// newest `modified` as data_date; the caller fills source and imported_at.
Database BuildFromOsv(std::vector<OsvRecord> records, Metadata metadata);

}  // namespace hardbase::vuln
