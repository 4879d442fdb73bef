#include "vuln/tracker.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/json_limits.h"
#include "deb/distro.h"
#include "deb/version.h"
#include "vuln/osv.h"

namespace hardbase::vuln {
namespace {

using nlohmann::json;

std::string StringOrEmpty(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

void Skip(TrackerData& data, std::string example) {
  ++data.skipped;
  if (data.skipped_examples.size() < kMaxSkippedExamples) {
    data.skipped_examples.push_back(std::move(example));
  }
}

// The entry for one release of one (source, id), if the package is affected there.
void AddRelease(const std::string& source, const std::string& id, const std::string& release,
                const json& status, TrackerData& data) {
  Entry entry{release, source, id, "0", "", StringOrEmpty(status, "urgency"), {}};
  if (entry.urgency == kUnassigned) entry.urgency.clear();
  std::string state = StringOrEmpty(status, "status");
  if (state == "resolved") {
    entry.fixed = StringOrEmpty(status, "fixed_version");
    if (entry.fixed == "0") return;  // never affected
    if (!deb::ParseVersion(entry.fixed)) {
      return Skip(data, id + " " + source + ": bad version '" + entry.fixed + "'");
    }
  } else if (state != "open" && state != "undetermined") {
    return Skip(data, id + " " + source + ": unknown status '" + state + "'");
  }
  data.entries.push_back(std::move(entry));
}

}  // namespace

Result<TrackerData> ParseTrackerJson(std::string_view text, std::string_view name) {
  std::string context(name);
  HB_TRY_VOID(CheckUntrustedJson(text, context, kMaxJsonDepth, SIZE_MAX));  // the file is big
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail(ErrorCode::kSpec, context + ": not valid JSON");
  auto malformed = [&](const std::string& what) {
    return Fail(ErrorCode::kSpec, context + ": not Debian security tracker JSON: " + what);
  };
  if (!doc.is_object()) return malformed("not an object");
  TrackerData data;
  std::set<std::string> described;
  for (const auto& [source, ids] : doc.items()) {
    if (!ids.is_object()) return malformed("package " + source + " is not an object");
    for (const auto& [id, issue] : ids.items()) {
      if (!issue.is_object()) return malformed(source + " " + id + " is not an object");
      ++data.records;
      if (described.insert(id).second) {
        Vulnerability vulnerability;
        vulnerability.id = id;
        vulnerability.summary = SummaryLine(StringOrEmpty(issue, "description"));
        data.vulnerabilities.push_back(std::move(vulnerability));
      }
      auto releases = issue.find("releases");
      if (releases == issue.end()) continue;
      if (!releases->is_object())
        return malformed(source + " " + id + ": releases is not an object");
      for (const auto& [codename, status] : releases->items()) {
        if (!status.is_object()) {
          return malformed(source + " " + id + " " + codename + " is not an object");
        }
        // sid and experimental have no release number; nodsa changes no one's exposure.
        if (auto release = deb::ReleaseForCodename(codename)) {
          AddRelease(source, id, *release, status, data);
        }
      }
    }
  }
  return data;
}

}  // namespace hardbase::vuln
