#include "vuln/osv.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "base/json_limits.h"
#include "deb/version.h"
#include "vuln/severity.h"

namespace hardbase::vuln {
namespace {

using nlohmann::json;

constexpr size_t kMaxSummary = 200;

// Thrown by the readers below for a record that is not OSV's shape; caught in ParseOsvRecord.
struct NotOsv {
  std::string what;
};

// The member `key` of `object`; nullptr when absent or null.
const json* Member(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string StringAt(const json& object, std::string_view key) {
  const json* value = Member(object, key);
  if (!value) return "";
  if (!value->is_string()) throw NotOsv{std::string(key) + " is not a string"};
  return value->get<std::string>();
}

// An array member; an empty one when absent.
const json& ArrayAt(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  const json* value = Member(object, key);
  if (!value) return kEmpty;
  if (!value->is_array()) throw NotOsv{std::string(key) + " is not a list"};
  return *value;
}

bool IsCve(std::string_view id) { return id.starts_with("CVE-"); }
bool IsDebianAdvisory(std::string_view id) {
  return id.starts_with("DSA-") || id.starts_with("DLA-") || id.starts_with("DTSA-");
}

bool ValidVersion(std::string_view version, bool introduced) {
  return (introduced && version == "0") || deb::ParseVersion(version).has_value();
}

void Skip(OsvRecord& record, std::string example) {
  ++record.skipped;
  if (record.skipped_examples.size() < kMaxSkippedExamples) {
    record.skipped_examples.push_back(std::move(example));
  }
}

// The entries of one ECOSYSTEM range: one per introduced/fixed pair, in event order.
void AddRangeEntries(const json& events, const Entry& base, OsvRecord& record) {
  std::optional<Entry> open;  // introduced, waiting for its fixed
  bool bad = false;           // the open pair has a version that does not parse
  auto close = [&] {
    if (open && !bad) record.entries.push_back(std::move(*open));
    open.reset();
    bad = false;
  };
  auto check = [&](const std::string& version, bool introduced) {
    if (bad || ValidVersion(version, introduced)) return;
    bad = true;
    Skip(record, base.id + " " + base.source + ": bad version '" + version + "'");
  };
  auto begin = [&](std::string introduced) {
    close();
    open = base;
    open->introduced = std::move(introduced);
    check(open->introduced, true);
  };
  for (const json& event : events) {
    if (!event.is_object()) throw NotOsv{"a range event is not an object"};
    if (const json* introduced = Member(event, "introduced")) {
      begin(introduced->is_string() ? introduced->get<std::string>() : "");
    } else if (const json* fixed = Member(event, "fixed")) {
      if (!open) begin("0");  // a fix with no introduced before it: every version up to it
      open->fixed = fixed->is_string() ? fixed->get<std::string>() : "";
      check(open->fixed, false);
      close();
    } else if (const json* last = Member(event, "last_affected")) {
      // The entry model knows only "fixed"; "up to and including X" is not representable.
      if (open && !bad) {
        std::string version = last->is_string() ? last->get<std::string>() : "";
        Skip(record,
             base.id + " " + base.source + ": last_affected '" + version + "' is not supported");
      }
      open.reset();
      bad = false;
    }  // "limit" only bounds a GIT range's walk
  }
  close();
}

void AddAffected(const json& affected, OsvRecord& record) {
  if (!affected.is_object()) throw NotOsv{"an affected entry is not an object"};
  const json* package = Member(affected, "package");
  if (!package || !package->is_object()) return;  // GIT-only entries have an empty package
  std::string ecosystem = StringAt(*package, "ecosystem");
  if (!ecosystem.starts_with("Debian:") || ecosystem.size() == 7) return;

  Entry base;
  base.id = record.vulnerability.id;
  base.release = ecosystem.substr(7);
  base.source = StringAt(*package, "name");
  if (const json* specific = Member(affected, "ecosystem_specific");
      specific && specific->is_object()) {
    base.urgency = StringAt(*specific, "urgency");
    if (base.urgency == kUnassigned) base.urgency.clear();
  }
  if (base.source.empty()) {
    Skip(record, base.id + ": Debian:" + base.release + " entry without a package name");
    return;
  }
  for (const json& range : ArrayAt(affected, "ranges")) {
    if (!range.is_object()) throw NotOsv{"a range is not an object"};
    if (StringAt(range, "type") != "ECOSYSTEM") continue;
    AddRangeEntries(ArrayAt(range, "events"), base, record);
  }
}

// Cuts a UTF-8 string at a character boundary at most `max` bytes in.
std::string_view CutUtf8(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// Drops members that nothing here reads (at any depth) while parsing: `versions` (every affected
// version, 40% of the export) and `references` are most of a record's size.
bool SkipUnused(int /*depth*/, json::parse_event_t event, json& parsed) {
  return event != json::parse_event_t::key || (parsed != "versions" && parsed != "references");
}

}  // namespace

std::string SummaryLine(std::string_view text) {
  // The first sentence of the first paragraph, its line breaks and tabs made spaces.
  std::string line;
  int newlines = 0;  // in the current run of blanks; two end the paragraph
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c > ' ' && c != 0x7f) {
      if (newlines >= 2 || line.ends_with(". ")) break;
      line += ch;
      newlines = 0;
    } else if (!line.empty()) {
      if (c == '\n') ++newlines;
      if (line.back() != ' ') line += ' ';
    }
  }
  if (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.size() > kMaxSummary) line = std::string(CutUtf8(line, kMaxSummary - 3)) + "...";
  return line;
}

Result<OsvRecord> ParseOsvRecord(std::string_view text, std::string_view name) {
  std::string context(name);
  HB_TRY_VOID(CheckUntrustedJson(text, context));
  json doc = json::parse(text.begin(), text.end(), SkipUnused, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail(ErrorCode::kSpec, context + ": not valid JSON");
  if (!doc.is_object())
    return Fail(ErrorCode::kSpec, context + ": not an OSV record (not an object)");
  try {
    OsvRecord record;
    Vulnerability& vuln = record.vulnerability;
    vuln.id = StringAt(doc, "id");
    if (vuln.id.empty()) throw NotOsv{"no id"};
    vuln.modified = StringAt(doc, "modified");
    vuln.published = StringAt(doc, "published");
    std::string summary = StringAt(doc, "summary");
    vuln.summary = SummaryLine(summary.empty() ? StringAt(doc, "details") : summary);
    for (const json& severity : ArrayAt(doc, "severity")) {
      if (!severity.is_object() || StringAt(severity, "type") != "CVSS_V3") continue;
      vuln.cvss_vector = StringAt(severity, "score");
      vuln.cvss_score = CvssV3BaseScore(vuln.cvss_vector).value_or(-1);
      break;
    }
    for (const char* key : {"aliases", "related", "upstream"}) {
      for (const json& id : ArrayAt(doc, key)) {
        if (!id.is_string()) throw NotOsv{std::string(key) + " holds a non-string"};
        const auto& linked = id.get_ref<const std::string&>();
        if (linked != vuln.id && (IsCve(linked) || IsDebianAdvisory(linked))) {
          record.related.push_back(linked);
        }
      }
    }
    std::sort(record.related.begin(), record.related.end());
    record.related.erase(std::unique(record.related.begin(), record.related.end()),
                         record.related.end());
    const json* affected = Member(doc, "affected");
    if (affected && !affected->is_array()) throw NotOsv{"affected is not a list"};
    if (affected) {
      for (const json& item : *affected) AddAffected(item, record);
    }
    return record;
  } catch (const NotOsv& e) {
    return Fail(ErrorCode::kSpec, context + ": not an OSV record: " + e.what);
  } catch (const json::exception& e) {
    return Fail(ErrorCode::kSpec, context + ": not an OSV record: " + e.what());
  }
}

Database BuildFromOsv(std::vector<OsvRecord> records, Metadata metadata) {
  // By id, so that skipped_examples do not depend on the order records were read in.
  std::stable_sort(records.begin(), records.end(), [](const OsvRecord& a, const OsvRecord& b) {
    return a.vulnerability.id < b.vulnerability.id;
  });
  // Which CVEs each advisory fixes, from both sides of the link.
  std::map<std::string, std::set<std::string>, std::less<>> cves_of;
  for (const OsvRecord& record : records) {
    const std::string& id = record.vulnerability.id;
    for (const std::string& linked : record.related) {
      if (IsCve(id) && !IsCve(linked)) cves_of[linked].insert(id);
      if (!IsCve(id) && IsCve(linked)) cves_of[id].insert(linked);
    }
  }
  // Where each (release, source, CVE) entry sits in `entries`.
  using Key = std::tuple<std::string_view, std::string_view, std::string_view>;
  std::vector<Entry> entries;
  std::vector<Entry> advisories;
  for (OsvRecord& record : records) {
    auto& target = IsCve(record.vulnerability.id) ? entries : advisories;
    for (Entry& entry : record.entries) target.push_back(std::move(entry));
  }
  std::multimap<Key, size_t> cve_entries;
  for (size_t i = 0; i < entries.size(); ++i) {
    cve_entries.emplace(Key(entries[i].release, entries[i].source, entries[i].id), i);
  }
  std::vector<Entry> kept;
  for (Entry& advisory : advisories) {
    bool folded = false;
    if (auto it = cves_of.find(advisory.id); it != cves_of.end()) {
      for (const std::string& cve : it->second) {
        auto [first, last] = cve_entries.equal_range(Key(advisory.release, advisory.source, cve));
        for (auto at = first; at != last; ++at) {
          entries[at->second].advisories.push_back(advisory.id);
          folded = true;
        }
      }
    }
    if (!folded) kept.push_back(std::move(advisory));
  }
  cve_entries.clear();  // holds views into `entries`, which grows now
  for (Entry& entry : entries) {
    std::sort(entry.advisories.begin(), entry.advisories.end());
    entry.advisories.erase(std::unique(entry.advisories.begin(), entry.advisories.end()),
                           entry.advisories.end());
  }
  for (Entry& entry : kept) entries.push_back(std::move(entry));

  // A vulnerability for every id an entry names, as an entry or as one of its advisories.
  std::set<std::string_view> named;
  for (const Entry& entry : entries) {
    named.insert(entry.id);
    named.insert(entry.advisories.begin(), entry.advisories.end());
  }
  std::vector<Vulnerability> vulnerabilities;
  metadata.records = static_cast<int64_t>(records.size());
  for (OsvRecord& record : records) {
    metadata.data_date = std::max(metadata.data_date, record.vulnerability.modified);
    metadata.skipped += record.skipped;
    for (std::string& example : record.skipped_examples) {
      if (metadata.skipped_examples.size() < kMaxSkippedExamples) {
        metadata.skipped_examples.push_back(std::move(example));
      }
    }
    if (named.count(record.vulnerability.id)) {
      vulnerabilities.push_back(std::move(record.vulnerability));
    }
  }
  return Database::Make(std::move(metadata), std::move(entries), std::move(vulnerabilities));
}

}  // namespace hardbase::vuln
