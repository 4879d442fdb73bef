#include "vuln/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "base/printable.h"
#include "base/sha256.h"
#include "deb/purl.h"

namespace hardbase::vuln {
namespace {

using Json = nlohmann::ordered_json;

// ReportFormat's names, indexed by the enum.
constexpr std::array<std::string_view, 4> kReportFormatNames = {"table", "json", "sarif",
                                                                "cyclonedx"};

constexpr Severity kWorstFirst[] = {Severity::kCritical, Severity::kHigh,       Severity::kMedium,
                                    Severity::kLow,      Severity::kNegligible, Severity::kUnknown};

// Text from images (status fields) need not be UTF-8: replaced, never an exception.
std::string Dump(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Findings worst severity first, then by id and package.
std::vector<const Finding*> Sorted(const std::vector<Finding>& findings) {
  std::vector<const Finding*> out;
  for (const Finding& f : findings) out.push_back(&f);
  std::stable_sort(out.begin(), out.end(), [](const Finding* a, const Finding* b) {
    return std::tie(b->severity, a->id, a->package) < std::tie(a->severity, b->id, b->package);
  });
  return out;
}

// Which part of a report a finding belongs to: suppression by VEX comes first.
enum class Section { kMain, kKernelHeaders, kSuppressed };
Section SectionOf(const Finding& f) {
  if (f.suppressed) return Section::kSuppressed;
  return f.kernel_headers ? Section::kKernelHeaders : Section::kMain;
}

std::string FixedText(const Finding& f) { return f.fixed_version.empty() ? "-" : f.fixed_version; }

std::string ImageLabel(const Report& report) {
  if (report.image_digest.empty() || report.image.find(report.image_digest) != std::string::npos) {
    return report.image;
  }
  return report.image + " (" + report.image_digest + ")";
}

// What the table calls the image's distribution: its purl qualifier ("debian-12").
std::string DistroLabel(const Report& report) {
  std::string label = report.distro.PurlQualifier();
  return label.empty() ? "unknown distribution" : label;
}

// The purl of an installed package or of a finding's: the one SBOMs write for it (deb/purl.h).
std::string InstalledPurl(const InstalledPackage& p, const deb::Distro& distro) {
  return deb::PackagePurl(distro, p.name, p.version, p.architecture, p.source, p.source_version)
      .ToString();
}

std::string FindingPurl(const Finding& f, const deb::Distro& distro) {
  return deb::PackagePurl(distro, f.package, f.version, f.architecture, f.source, f.source_version)
      .ToString();
}

// A name-based UUID (version 5 layout, SHA-256 instead of SHA-1): the same report content gives
// the same serial number.
std::string ContentUuid(std::string_view content) {
  std::string hex = Sha256Hex(content).substr(0, 32);
  hex[12] = '5';
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// --- table ----------------------------------------------------------------------------------

// Rows as aligned columns, two spaces apart, with no trailing blanks. Cells come from images,
// databases and VEX documents: each is escaped, so none can start a row or send escape sequences.
std::string Columns(std::vector<std::vector<std::string>> rows, std::string_view indent) {
  for (auto& row : rows) {
    for (auto& cell : row) cell = Printable(cell);
  }
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> TableRow(const Finding& f) {
  std::string status(FixStatusName(f.status));
  if (!f.vex_status.empty() && !f.suppressed) status += " (vex: " + f.vex_status + ")";
  return {std::string(SeverityName(f.severity)), f.id, f.package, f.version, FixedText(f), status};
}

// --- SARIF ----------------------------------------------------------------------------------

// GitHub's security-severity: the CVSS score when it agrees with the severity reported (Debian's
// urgency wins over CVSS), else a score in the middle of the severity's band.
double SecuritySeverity(const Finding& f) {
  if (f.cvss_score >= 0 && SeverityFromScore(f.cvss_score) == f.severity) return f.cvss_score;
  switch (f.severity) {
    case Severity::kCritical:
      return 9.5;
    case Severity::kHigh:
      return 8.0;
    case Severity::kMedium:
      return 5.5;
    case Severity::kLow:
      return 2.0;
    case Severity::kNegligible:
      return 0.5;
    case Severity::kUnknown:
      break;
  }
  return 0.0;
}

std::string_view SarifLevel(Severity severity) {
  if (severity >= Severity::kHigh) return "error";
  return severity == Severity::kMedium ? "warning" : "note";
}

std::string FindingMessage(const Finding& f) {
  std::string text = f.package + " " + f.version + " is affected by " + f.id + "; " +
                     (f.fixed_version.empty() ? "no fix available" : "fixed in " + f.fixed_version);
  if (f.kernel_headers) text += " (kernel headers: kernel CVEs do not apply to a container)";
  return text;
}

std::string ArtifactUri(const Report& report, const Finding& f) {
  std::string_view db = report.package_database;
  while (!db.empty() && db.front() == '/') db.remove_prefix(1);
  if (db.empty()) db = "var/lib/dpkg/status";
  std::string uri(db);
  if (uri.size() >= 8 && uri.compare(uri.size() - 8, 8, "status.d") == 0) uri += "/" + f.package;
  return uri;
}

Json SarifRule(const std::string& id, const std::vector<const Finding*>& findings) {
  const Finding& worst =
      **std::max_element(findings.begin(), findings.end(), [](const Finding* a, const Finding* b) {
        return std::make_pair(a->severity, SecuritySeverity(*a)) <
               std::make_pair(b->severity, SecuritySeverity(*b));
      });
  std::string summary = worst.summary.empty() ? "Vulnerability " + id : worst.summary;
  std::string text = id + ": " + summary + "\n\nAffected packages:\n";
  std::string markdown =
      "**" + id + "**: " + summary +
      "\n\n| Package | Installed | Source | Fixed version |\n|---|---|---|---|\n";
  for (const Finding* f : findings) {
    std::string fixed = f->fixed_version.empty() ? "no fix available" : f->fixed_version;
    text += "- " + f->package + " " + f->version + " (source " + f->source + " " +
            f->source_version + "): " + fixed + "\n";
    markdown += "| " + f->package + " | " + f->version + " | " + f->source + " " +
                f->source_version + " | " + fixed + " |\n";
  }
  std::string severity(SeverityName(worst.severity));
  return Json{
      {"id", id},
      {"name", id},
      {"shortDescription", Json{{"text", id + ": " + summary}}},
      {"fullDescription", Json{{"text", summary}}},
      {"defaultConfiguration", Json{{"level", SarifLevel(worst.severity)}}},
      {"help", Json{{"text", text}, {"markdown", markdown}}},
      {"properties", Json{{"security-severity", fmt::format("{:.1f}", SecuritySeverity(worst))},
                          {"tags", Json::array({"security", "vulnerability", severity})}}}};
}

Json SarifResult(const Report& report, const Finding& f, size_t rule_index) {
  Json location{
      {"physicalLocation", Json{{"artifactLocation", Json{{"uri", ArtifactUri(report, f)}}},
                                {"region", Json{{"startLine", 1}}}}}};
  Json result{{"ruleId", f.id},
              {"ruleIndex", rule_index},
              {"level", SarifLevel(f.severity)},
              {"message", Json{{"text", FindingMessage(f)}}},
              {"locations", Json::array({std::move(location)})},
              {"partialFingerprints",
               Json{{"primaryLocationLineHash", Sha256Hex(f.id + "\n" + f.package)}}},
              {"properties", Json{{"package", f.package},
                                  {"purl", FindingPurl(f, report.distro)},
                                  {"installedVersion", f.version},
                                  {"architecture", f.architecture},
                                  {"source", f.source},
                                  {"sourceVersion", f.source_version},
                                  {"fixedVersion", f.fixed_version},
                                  {"status", FixStatusName(f.status)},
                                  {"severity", SeverityName(f.severity)},
                                  {"kernelHeaders", f.kernel_headers}}}};
  // Kept out of the alerts, as the other outputs count them apart: what VEX clears, and kernel
  // headers.
  if (f.suppressed) {
    std::string why = "VEX " + f.vex_status;
    if (!f.vex_justification.empty()) why += ": " + f.vex_justification;
    if (!f.vex_document.empty()) why += " (" + f.vex_document + ")";
    result["suppressions"] = Json::array({Json{{"kind", "external"}, {"justification", why}}});
  } else if (f.kernel_headers) {
    result["suppressions"] = Json::array(
        {Json{{"kind", "external"},
              {"justification", "kernel headers: kernel CVEs do not apply to a container"}}});
  }
  return result;
}

// --- CycloneDX ------------------------------------------------------------------------------

std::string_view CdxSeverity(Severity severity) {
  if (severity == Severity::kNegligible) return "info";
  return SeverityName(severity);
}

std::string_view CdxState(std::string_view vex_status) {
  if (vex_status == "not_affected") return "not_affected";
  if (vex_status == "fixed") return "resolved";
  if (vex_status == "under_investigation") return "in_triage";
  return "exploitable";
}

// OpenVEX justification -> the nearest CycloneDX 1.5 one ("" when none fits).
std::string_view CdxJustification(std::string_view openvex) {
  if (openvex == "component_not_present" || openvex == "vulnerable_code_not_present") {
    return "code_not_present";
  }
  if (openvex == "vulnerable_code_not_in_execute_path") return "code_not_reachable";
  if (openvex == "vulnerable_code_cannot_be_controlled_by_adversary") return "requires_environment";
  if (openvex == "inline_mitigations_already_exist") return "protected_by_mitigating_control";
  return "";
}

Json CdxRatings(const std::vector<const Finding*>& findings) {
  Json ratings = Json::array();
  std::set<std::string> seen;
  auto add = [&](Json rating) {
    if (seen.insert(rating.dump()).second) ratings.push_back(std::move(rating));
  };
  for (const Finding* f : findings) {
    if (f->severity_source == "debian") {
      add(Json{{"source", Json{{"name", "Debian"}}},
               {"severity", CdxSeverity(f->severity)},
               {"method", "other"},
               {"justification", "Debian urgency: " + f->urgency}});
    }
    if (f->cvss_score >= 0 && !f->cvss_vector.empty()) {
      add(Json{{"score", f->cvss_score},
               {"severity", CdxSeverity(SeverityFromScore(f->cvss_score))},
               {"method", f->cvss_vector.rfind("CVSS:3.0", 0) == 0 ? "CVSSv3" : "CVSSv31"},
               {"vector", f->cvss_vector}});
    }
  }
  if (ratings.empty()) ratings.push_back(Json{{"severity", "unknown"}});
  return ratings;
}

Json CdxVulnerability(const std::string& bom_ref, const std::vector<const Finding*>& findings,
                      const deb::Distro& distro) {
  const Finding& first = *findings.front();
  Json v{{"bom-ref", bom_ref}, {"id", first.id}, {"source", Json{{"name", "Debian"}}}};
  v["ratings"] = CdxRatings(findings);
  if (!first.summary.empty()) v["description"] = first.summary;
  std::set<std::string> advisories, upgrades;
  bool kernel_headers = false;
  Json affects = Json::array();
  for (const Finding* f : findings) {
    advisories.insert(f->advisories.begin(), f->advisories.end());
    if (!f->fixed_version.empty() && !f->suppressed) {
      upgrades.insert("Upgrade " + f->source + " to " + f->fixed_version);
    }
    kernel_headers = kernel_headers || f->kernel_headers;
    Json version{{"version", f->version}, {"status", f->suppressed ? "unaffected" : "affected"}};
    affects.push_back(
        Json{{"ref", FindingPurl(*f, distro)}, {"versions", Json::array({std::move(version)})}});
  }
  if (!upgrades.empty()) {
    std::string recommendation;
    for (const std::string& u : upgrades)
      recommendation += (recommendation.empty() ? "" : "; ") + u;
    v["recommendation"] = recommendation;
  }
  if (!advisories.empty()) {
    Json references = Json::array();
    for (const std::string& a : advisories) {
      references.push_back(Json{{"id", a}, {"source", Json{{"name", "Debian"}}}});
    }
    v["references"] = std::move(references);
  }
  if (!first.vex_status.empty()) {
    Json analysis{{"state", CdxState(first.vex_status)}};
    std::string_view justification = CdxJustification(first.vex_justification);
    if (first.vex_status == "not_affected" && !justification.empty()) {
      analysis["justification"] = justification;
    }
    std::string detail = "OpenVEX " + first.vex_status;
    if (!first.vex_justification.empty()) detail += ": " + first.vex_justification;
    if (!first.vex_document.empty()) detail += " (" + first.vex_document + ")";
    analysis["detail"] = detail;
    v["analysis"] = std::move(analysis);
  }
  v["affects"] = std::move(affects);
  if (kernel_headers) {
    v["properties"] = Json::array({Json{{"name", "hardbase:kernel-headers"}, {"value", "true"}}});
  }
  return v;
}

}  // namespace

Summary Summarize(const Report& report) {
  Summary s;
  for (Severity severity : kWorstFirst) s.by_severity[severity] = 0;
  s.by_status[FixStatus::kFixable] = 0;
  s.by_status[FixStatus::kUnfixed] = 0;
  std::set<std::pair<std::string, std::string>> unique, fixable;
  for (const Finding& f : report.match.findings) {
    switch (SectionOf(f)) {
      case Section::kSuppressed:
        ++s.suppressed;
        continue;
      case Section::kKernelHeaders:
        ++s.kernel_headers;
        continue;
      case Section::kMain:
        break;
    }
    ++s.findings;
    ++s.by_severity[f.severity];
    ++s.by_status[f.status];
    ++s.per_package[f.package];
    unique.emplace(f.id, f.source);
    if (f.status == FixStatus::kFixable) fixable.emplace(f.id, f.source);
  }
  s.unique = static_cast<int>(unique.size());
  s.fixable_unique = static_cast<int>(fixable.size());
  return s;
}

std::span<const std::string_view> ReportFormatNames() { return kReportFormatNames; }

Result<ReportFormat> ParseReportFormat(std::string_view name) {
  for (size_t i = 0; i < kReportFormatNames.size(); ++i) {
    if (kReportFormatNames[i] == name) return static_cast<ReportFormat>(i);
  }
  return Fail(ErrorCode::kUsage,
              "unknown report format '" + std::string(name) + "' (table, json, sarif, cyclonedx)");
}

std::string RenderTable(const Report& report) {
  std::string out = fmt::format("{}: {} {}, {} packages\n\n", Printable(ImageLabel(report)),
                                Printable(DistroLabel(report)), Printable(report.architecture),
                                report.packages.size());
  std::vector<std::vector<std::string>> main{
      {"SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "STATUS"}};
  std::vector<std::vector<std::string>> kernel, suppressed;
  for (const Finding* f : Sorted(report.match.findings)) {
    switch (SectionOf(*f)) {
      case Section::kMain:
        main.push_back(TableRow(*f));
        break;
      case Section::kKernelHeaders:
        kernel.push_back(TableRow(*f));
        break;
      case Section::kSuppressed:
        suppressed.push_back({f->id, f->package, f->version, f->vex_status,
                              f->vex_justification.empty() ? "-" : f->vex_justification,
                              f->vex_document});
        break;
    }
  }
  out += main.size() > 1 ? Columns(main, "") : "No vulnerabilities found.\n";
  if (!kernel.empty()) {
    out += fmt::format("\nKernel headers ({}; kernel CVEs that do not apply to a container):\n",
                       kernel.size());
    out += Columns(kernel, "  ");
  }
  if (!suppressed.empty()) {
    out += fmt::format("\nSuppressed by VEX ({}):\n", suppressed.size());
    out += Columns(suppressed, "  ");
  }

  Summary s = Summarize(report);
  std::string severities;
  for (Severity severity : kWorstFirst) {
    severities += fmt::format("{}{} {}", severities.empty() ? "" : ", ", s.by_severity[severity],
                              SeverityName(severity));
  }
  out += fmt::format("\nSummary: {} findings in {} packages: {}\n", s.findings,
                     s.per_package.size(), severities);
  out += fmt::format("         {} fixable, {} unfixed; {} unique (CVE, source) pairs, {} fixable\n",
                     s.by_status[FixStatus::kFixable], s.by_status[FixStatus::kUnfixed], s.unique,
                     s.fixable_unique);
  out += fmt::format("         {} on kernel headers, {} suppressed by VEX (listed apart)\n",
                     s.kernel_headers, s.suppressed);
  const Metadata& db = report.database;
  out += fmt::format("Database: data as of {}, from {}",
                     db.data_date.empty() ? "an unknown date" : Printable(db.data_date),
                     Printable(db.source));
  if (!db.imported_at.empty()) out += ", imported " + Printable(db.imported_at);
  if (db.skipped > 0) out += fmt::format(", {} entries skipped for bad versions", db.skipped);
  out += "\n";
  if (!report.match.unmatched.empty()) {
    out += fmt::format("Unmatched packages ({}, not scanned):\n", report.match.unmatched.size());
    for (const std::string& u : report.match.unmatched) out += "  " + Printable(u) + "\n";
  }
  for (const std::string& w : report.warnings) out += "Warning: " + Printable(w) + "\n";
  return out;
}

std::string RenderJson(const Report& report) {
  Summary s = Summarize(report);
  Json by_severity = Json::object();
  for (Severity severity : kWorstFirst)
    by_severity[SeverityName(severity)] = s.by_severity[severity];
  Json per_package = Json::object();
  for (const auto& entry : s.per_package) per_package[entry.first] = entry.second;

  Json findings = Json::array();
  for (const Finding& f : report.match.findings) {
    Json j{{"id", f.id},
           {"advisories", f.advisories},
           {"package", f.package},
           {"purl", FindingPurl(f, report.distro)},
           {"version", f.version},
           {"architecture", f.architecture},
           {"source", f.source},
           {"source_version", f.source_version},
           {"fixed_version", f.fixed_version.empty() ? Json(nullptr) : Json(f.fixed_version)},
           {"status", FixStatusName(f.status)},
           {"severity", SeverityName(f.severity)},
           {"severity_source", f.severity_source},
           {"urgency", f.urgency},
           {"cvss_score", f.cvss_score < 0 ? Json(nullptr) : Json(f.cvss_score)},
           {"cvss_vector", f.cvss_vector},
           {"summary", f.summary},
           {"kernel_headers", f.kernel_headers},
           {"suppressed", f.suppressed}};
    if (!f.vex_status.empty()) {
      j["vex"] = Json{{"status", f.vex_status},
                      {"justification", f.vex_justification},
                      {"document", f.vex_document}};
    }
    findings.push_back(std::move(j));
  }
  const Metadata& db = report.database;
  Json out{{"schema", "hardbase-scan/v1"},
           {"image", Json{{"reference", report.image},
                          {"digest", report.image_digest},
                          {"name", report.image_name},
                          {"distro", report.distro.PurlQualifier()},
                          {"release", report.release},
                          {"architecture", report.architecture},
                          {"packages", report.packages.size()}}},
           {"database", Json{{"source", db.source},
                             {"data_date", db.data_date},
                             {"imported_at", db.imported_at},
                             {"format_version", db.format_version},
                             {"skipped", db.skipped}}},
           {"summary", Json{{"by_severity", std::move(by_severity)},
                            {"by_status", Json{{"fixable", s.by_status[FixStatus::kFixable]},
                                               {"unfixed", s.by_status[FixStatus::kUnfixed]}}},
                            {"findings", s.findings},
                            {"unique", s.unique},
                            {"fixable_unique", s.fixable_unique},
                            {"kernel_headers", s.kernel_headers},
                            {"suppressed", s.suppressed},
                            {"unmatched", report.match.unmatched.size()},
                            {"per_package", std::move(per_package)}}},
           {"findings", std::move(findings)},
           {"unmatched", report.match.unmatched},
           {"warnings", report.warnings},
           {"scanned_at", report.scanned_at},
           {"tool", Json{{"name", "hardbase"}, {"version", report.tool_version}}}};
  return Dump(out);
}

std::string RenderSarif(const Report& report) {
  std::map<std::string, std::vector<const Finding*>> by_id;
  for (const Finding& f : report.match.findings) by_id[f.id].push_back(&f);
  Json rules = Json::array();
  std::map<std::string, size_t> rule_index;
  for (const auto& entry : by_id) {
    rule_index[entry.first] = rules.size();
    rules.push_back(SarifRule(entry.first, entry.second));
  }
  Json results = Json::array();
  for (const Finding* f : Sorted(report.match.findings)) {
    results.push_back(SarifResult(report, *f, rule_index[f->id]));
  }
  Json driver{{"name", "hardbase"}};
  if (!report.tool_version.empty()) driver["version"] = report.tool_version;
  driver["rules"] = std::move(rules);
  Json run{{"tool", Json{{"driver", std::move(driver)}}},
           {"results", std::move(results)},
           {"properties", Json{{"image", report.image},
                               {"imageDigest", report.image_digest},
                               {"distro", report.distro.PurlQualifier()},
                               {"architecture", report.architecture},
                               {"databaseSource", report.database.source},
                               {"databaseDataDate", report.database.data_date},
                               {"scannedAt", report.scanned_at}}}};
  return Dump(Json{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                   {"version", "2.1.0"},
                   {"runs", Json::array({std::move(run)})}});
}

std::string RenderCycloneDx(const Report& report) {
  // Components: the installed packages, and any package a finding names that the list lacks.
  Json components = Json::array();
  std::set<std::string> refs;
  auto add_component = [&](const std::string& name, const std::string& version, std::string purl) {
    if (!refs.insert(purl).second) return;
    components.push_back(Json{{"type", "library"},
                              {"bom-ref", purl},
                              {"name", name},
                              {"version", version},
                              {"purl", purl}});
  };
  for (const InstalledPackage& p : report.packages) {
    add_component(p.name, p.version, InstalledPurl(p, report.distro));
  }
  for (const Finding& f : report.match.findings) {
    add_component(f.package, f.version, FindingPurl(f, report.distro));
  }

  // One vulnerability per id, split when VEX statements set different states for its packages.
  std::map<std::tuple<std::string, std::string, std::string, std::string>,
           std::vector<const Finding*>>
      groups;
  for (const Finding& f : report.match.findings) {
    groups[{f.id, f.vex_status, f.vex_justification, f.vex_document}].push_back(&f);
  }
  Json vulnerabilities = Json::array();
  std::map<std::string, int> seen_ids;
  std::string content =
      report.image + "\n" + report.image_digest + "\n" + report.database.data_date;
  for (const auto& group : groups) {
    const std::string& id = std::get<0>(group.first);
    int n = ++seen_ids[id];
    std::string bom_ref = n == 1 ? id : id + "#" + std::to_string(n);
    vulnerabilities.push_back(CdxVulnerability(bom_ref, group.second, report.distro));
    for (const Finding* f : group.second)
      content += "\n" + bom_ref + " " + FindingPurl(*f, report.distro);
  }
  for (const std::string& ref : refs) content += "\n" + ref;

  Json image{{"type", "container"},
             {"bom-ref", "image"},
             {"name", report.image_name.empty() ? report.image : report.image_name}};
  if (!report.image_digest.empty()) image["version"] = report.image_digest;
  Json tool{{"type", "application"}, {"name", "hardbase"}};
  if (!report.tool_version.empty()) tool["version"] = report.tool_version;
  Json metadata = Json::object();
  if (!report.scanned_at.empty()) metadata["timestamp"] = report.scanned_at;
  metadata["tools"] = Json{{"components", Json::array({std::move(tool)})}};
  metadata["component"] = std::move(image);
  metadata["properties"] = Json::array(
      {Json{{"name", "hardbase:vulnerability-data:source"}, {"value", report.database.source}},
       Json{{"name", "hardbase:vulnerability-data:date"}, {"value", report.database.data_date}}});
  return Dump(Json{{"bomFormat", "CycloneDX"},
                   {"specVersion", "1.5"},
                   {"serialNumber", "urn:uuid:" + ContentUuid(content)},
                   {"version", 1},
                   {"metadata", std::move(metadata)},
                   {"components", std::move(components)},
                   {"vulnerabilities", std::move(vulnerabilities)}});
}

std::string Render(const Report& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kTable:
      return RenderTable(report);
    case ReportFormat::kJson:
      return RenderJson(report);
    case ReportFormat::kSarif:
      return RenderSarif(report);
    case ReportFormat::kCycloneDx:
      return RenderCycloneDx(report);
  }
  return RenderJson(report);
}

}  // namespace hardbase::vuln
