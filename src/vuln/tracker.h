// Debian's security tracker JSON export (/tracker/data/json):
// {source: {CVE-id: {description, scope, debianbug, releases: {codename: {status, fixed_version,
// urgency, nodsa, nodsa_reason, repositories}}}}}. Pure: bytes in, values out.
#pragma once

#include <string_view>
#include <vector>

#include "base/error.h"
#include "vuln/database.h"

namespace hardbase::vuln {

struct TrackerData {
  std::vector<Entry> entries;  // status "resolved" with fixed_version "0" (not affected) gives no
                               // entry; "resolved" gives fixed; "open"/"undetermined" give no fix
  std::vector<Vulnerability> vulnerabilities;  // id and summary (first sentence of description)
  int64_t records = 0;                         // (source, CVE) pairs read
  int64_t skipped = 0;
  std::vector<std::string> skipped_examples;
};

// kSpec naming `name` for input that is not the tracker's shape. Releases whose codename
// deb::ReleaseForCodename does not know (sid, experimental) are ignored.
Result<TrackerData> ParseTrackerJson(std::string_view json, std::string_view name);

}  // namespace hardbase::vuln
