#include "support/debsecan.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "support/process.h"

namespace hardbase::testing {

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// OsvEntry of one record for ecosystem `ecosystem`, appended to `out`.
void AddEntries(const nlohmann::json& record, const std::string& ecosystem,
                std::vector<OsvEntry>& out) {
  const std::string id = record.value("id", "");
  std::string summary = record.value("summary", "");
  for (char& c : summary) c = (c == '\n' || c == '\r') ? ' ' : c;
  const nlohmann::json& affected = record.value("affected", nlohmann::json::array());
  for (const nlohmann::json& a : affected) {
    if (a.value("/package/ecosystem"_json_pointer, "") != ecosystem) continue;
    const nlohmann::json& ranges = a.value("ranges", nlohmann::json::array());
    for (const nlohmann::json& range : ranges) {
      if (range.value("type", "") != "ECOSYSTEM") continue;
      OsvEntry e{id,
                 a.value("/package/name"_json_pointer, ""),
                 "0",
                 "",
                 a.value("/ecosystem_specific/urgency"_json_pointer, ""),
                 summary};
      const nlohmann::json& events = range.value("events", nlohmann::json::array());
      for (const nlohmann::json& event : events) {
        if (event.contains("introduced")) e.introduced = event["introduced"].get<std::string>();
        if (event.contains("fixed")) e.fixed = event["fixed"].get<std::string>();
      }
      out.push_back(std::move(e));
    }
  }
}

}  // namespace

std::optional<std::string> DebsecanRelease(std::string_view suite) {
  static const std::map<std::string_view, std::string> kReleases = {
      {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"}};
  auto it = kReleases.find(suite);
  if (it == kReleases.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<OsvEntry>> ReadOsvEntries(const std::string& zip, std::string_view release) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), zip.c_str(), 1 << 16) != ARCHIVE_OK)
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", zip, archive_error_string(a.get())));
  const std::string ecosystem = "Debian:" + std::string(release);
  std::vector<OsvEntry> out;
  archive_entry* entry = nullptr;
  std::string text;  // the current record
  for (int r; (r = archive_read_next_header(a.get(), &entry)) != ARCHIVE_EOF;) {
    if (r != ARCHIVE_OK)
      return Fail(ErrorCode::kIo, fmt::format("{}: {}", zip, archive_error_string(a.get())));
    std::string name = archive_entry_pathname(entry);
    if (!name.ends_with(".json")) continue;
    text.clear();
    char buffer[1 << 16];
    for (la_ssize_t n; (n = archive_read_data(a.get(), buffer, sizeof buffer)) != 0;) {
      if (n < 0)
        return Fail(ErrorCode::kIo,
                    fmt::format("{}: {}: {}", zip, name, archive_error_string(a.get())));
      text.append(buffer, size_t(n));
    }
    try {
      AddEntries(nlohmann::json::parse(text), ecosystem, out);
    } catch (const nlohmann::json::exception& e) {
      return Fail(ErrorCode::kSpec, fmt::format("{}: {}: {}", zip, name, e.what()));
    }
  }
  std::sort(out.begin(), out.end(), [](const OsvEntry& x, const OsvEntry& y) {
    return std::tie(x.source, x.id) < std::tie(y.source, y.id);
  });
  return out;
}

// The data file of debsecan 0.4.20.1 (Debian 12), as its fetch_data() and Vulnerability class in
// /usr/bin/debsecan read it from `<source URL><suite>`, zlib-compressed (zlib.decompress):
//
//   VERSION 1
//   <name>,<flags>,<description>                          one per vulnerability; its line index
//   ...                                                    is the vnum packages refer to
//   (blank line)
//   <package>,<vnum>,<flags>,<fixed version>,<other versions>
//   ...
//   (blank line)
//   <source>,<binary> <binary>...                          source -> binaries, only for "obsolete"
//
// Filled here: the vulnerability line's flags are unused by debsecan (written as "   "); its
// description is the record's summary (one line). Package line: <package> the source package;
// flags[0] 'S' (a source package: debsecan matches it against the installed package's Source:
// name and version; 'B' would be a binary name); flags[1] the urgency 'L'/'M'/'H' for Debian's
// low/medium/high, ' ' for anything else (unimportant, not yet assigned); flags[2] '?' (remote
// exploitability unknown: the records do not say); flags[3] 'F' when a fixed version exists, else
// ' ' (what --only-fixed and the "fixed" note go by). <fixed version>: the entry's fixed version,
// "" for none. debsecan reports a source package as vulnerable when its version is lower than that
// (with apt_pkg.version_compare), or always when it is empty, unless the version is one of the
// space-separated <other versions> (exact fixed versions on other branches: none written here).
// There is no "introduced" field: entries that start later than "0" cannot be expressed. The
// source -> binaries section is left empty (no package is then "obsolete").
std::string DebsecanData(const std::vector<OsvEntry>& entries) {
  std::map<std::string, size_t> vnum;  // id -> index of its vulnerability line
  std::string names, packages;
  for (const OsvEntry& e : entries) {
    auto [it, added] = vnum.emplace(e.id, vnum.size());
    if (added) names += fmt::format("{},   ,{}\n", e.id, e.summary);
    char urgency = e.urgency == "low"      ? 'L'
                   : e.urgency == "medium" ? 'M'
                   : e.urgency == "high"   ? 'H'
                                           : ' ';
    packages += fmt::format("{},{},S{}?{},{},\n", e.source, it->second, urgency,
                            e.fixed.empty() ? ' ' : 'F', e.fixed);
  }
  return "VERSION 1\n" + names + "\n" + packages + "\n";
}

Result<void> WriteDebsecanData(const std::vector<OsvEntry>& entries, std::string_view suite,
                               const std::string& dir) {
  // Compressed by Python's zlib module: the one debsecan decompresses it with.
  std::string path = dir + "/" + std::string(suite);
  ProcessResult r = RunProcess(
      {"/usr/bin/python3", "-c",
       "import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(sys.stdin.buffer.read()))",
       path},
      {}, DebsecanData(entries));
  if (r.exit_code != 0) return Fail(ErrorCode::kIo, fmt::format("write {}: {}", path, r.err));
  return {};
}

Result<DebsecanReport> RunDebsecan(const std::string& data_dir, std::string_view suite,
                                   const std::string& status_file) {
  // A port nothing listens on: any attempt to reach the network fails at once.
  const std::string nowhere = "http://127.0.0.1:9";
  ProcessResult r =
      RunProcess({"/usr/bin/debsecan", "--suite", std::string(suite), "--source",
                  "file://" + data_dir + "/", "--status", status_file, "--format", "summary",
                  "--config", data_dir + "/no-config", "--whitelist", data_dir + "/no-whitelist"},
                 {{"http_proxy", nowhere},
                  {"https_proxy", nowhere},
                  {"HTTP_PROXY", nowhere},
                  {"HTTPS_PROXY", nowhere},
                  {"no_proxy", ""}});
  if (r.exit_code != 0 || !r.err.empty())
    return Fail(ErrorCode::kIo, fmt::format("debsecan (exit {}): {}", r.exit_code, r.err));
  // Summary lines: "<id> <binary package>" and optionally " (fixed, low urgency, ...)".
  DebsecanReport report;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string id, package, notes;
    words >> id >> package;
    std::getline(words, notes);
    if (id.empty() || package.empty())
      return Fail(ErrorCode::kSpec, fmt::format("debsecan: unexpected line '{}'", line));
    report.pairs.emplace(id, package);
    if (notes.starts_with(" (fixed")) report.fixed.emplace(id, package);
  }
  return report;
}

}  // namespace hardbase::testing
