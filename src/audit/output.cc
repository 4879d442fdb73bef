#include "audit/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "audit/tools.h"
#include "base/printable.h"
#include "base/strings.h"

namespace hardbase::audit {
namespace {

using Json = nlohmann::ordered_json;

std::string P(std::string_view text) { return Printable(text); }

Json Count(const SeverityCount& c) { return {{"fixable", c.fixable}, {"unfixed", c.unfixed}}; }

Json Files(const std::vector<ModeFile>& files) {
  Json out = Json::array();
  for (const auto& f : files) {
    out.push_back({{"path", f.path}, {"mode", FormatMode(f.mode)}, {"package", f.package}});
  }
  return out;
}

Json ToJson(const Report& r) {
  Json image = {{"reference", r.reference},
                {"name", r.name},
                {"digest", r.digest},
                {"created", r.created},
                {"architecture", r.architecture},
                {"distro", r.distro},
                {"user", r.config.user},
                {"packages", r.packages},
                {"size_bytes", r.size},
                {"files", r.files},
                {"layers", r.layers}};
  Json surface = Json::object();
  for (ToolKind kind : ToolKinds()) {
    Json tools = Json::array();
    for (const auto& t : r.surface[static_cast<size_t>(kind)]) {
      tools.push_back({{"path", t.path}, {"package", t.package}});
    }
    surface[std::string(ToolKindKey(kind))] = std::move(tools);
  }
  Json secrets = Json::array();
  for (const auto& s : r.secrets) {
    secrets.push_back({{"path", s.path},
                       {"kind", s.kind},
                       {"line", s.line},
                       {"layer", s.layer},
                       {"removed", s.removed},
                       {"package", s.package}});
  }
  const ConfigSummary& c = r.config;
  Json config = {{"user", c.user},
                 {"runs_as_root", c.runs_as_root},
                 {"user_evidence", c.user_evidence},
                 {"healthcheck", c.healthcheck},
                 {"exposed_ports", c.exposed_ports},
                 {"env_secrets", c.env_secrets},
                 {"entrypoint", c.entrypoint},
                 {"cmd", c.cmd}};
  const VulnerabilitySummary& v = r.vulnerabilities;
  Json vulnerabilities = {{"database", v.database},
                          {"total", v.total},
                          {"by_severity",
                           {{"critical", Count(v.critical)},
                            {"high", Count(v.high)},
                            {"medium", Count(v.medium)},
                            {"low", Count(v.low)},
                            {"negligible", Count(v.negligible)},
                            {"unknown", Count(v.unknown)}}},
                          {"note", v.note}};
  const Provenance& p = r.provenance;
  Json provenance = {{"signature", SignatureName(p.signature)}, {"sbom", p.sbom},
                     {"attestations", p.attestations},          {"key", p.key},
                     {"sbom_verified", p.sbom_verified},        {"evidence", p.evidence}};
  Json cis = Json::array();
  for (const auto& check : r.cis) {
    cis.push_back({{"id", check.id},
                   {"title", check.title},
                   {"status", CisStatusName(check.status)},
                   {"evidence", check.evidence}});
  }
  Json findings = Json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", SeverityName(f.severity)},
                        {"title", f.title},
                        {"evidence", f.evidence},
                        {"points", f.points}});
  }
  return {{"schema", "hardbase.audit/v1"},
          {"image", std::move(image)},
          {"score", r.score},
          {"grade", r.grade},
          {"surface", std::move(surface)},
          {"setuid", Files(r.setuid)},
          {"world_writable", Files(r.world_writable)},
          {"secrets", std::move(secrets)},
          {"unowned_files",
           {{"count", r.unowned_count}, {"sample", r.unowned_sample}, {"known", r.file_lists}}},
          {"packages_without_copyright", r.packages_without_copyright},
          {"config", std::move(config)},
          {"vulnerabilities", std::move(vulnerabilities)},
          {"provenance", std::move(provenance)},
          {"cis", std::move(cis)},
          {"findings", std::move(findings)}};
}

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + P(item);
  return out;
}

std::string VulnerabilityLine(const VulnerabilitySummary& v) {
  if (!v.database) return "not matched: " + (v.note.empty() ? "no database" : P(v.note));
  std::vector<std::string> parts;
  for (auto [name, c] : {std::pair<std::string_view, const SeverityCount*>{"critical", &v.critical},
                         {"high", &v.high},
                         {"medium", &v.medium},
                         {"low", &v.low},
                         {"negligible", &v.negligible},
                         {"unknown", &v.unknown}}) {
    int n = c->fixable + c->unfixed;
    if (n > 0) parts.push_back(fmt::format("{} {} ({} fixable)", n, name, c->fixable));
  }
  if (parts.empty()) return "none";
  std::string out = fmt::format("{} total: ", v.total);
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

std::string ProvenanceLine(const Provenance& p) {
  std::string out = fmt::format("signature {}", SignatureName(p.signature));
  if (p.signature == Provenance::Signature::kVerified) out += " (key " + P(p.key) + ")";
  out += p.sbom ? (p.sbom_verified ? ", SBOM attested" : ", SBOM stored") : ", no SBOM";
  out += fmt::format(", {} attestation{}", p.attestations, p.attestations == 1 ? "" : "s");
  return out;
}

std::string UserLine(const ConfigSummary& c) {
  return fmt::format("{} ({})", c.runs_as_root ? "root" : "not root", P(c.user_evidence));
}

int SurfaceCount(const Report& r, ToolKind kind) {
  return static_cast<int>(r.surface[static_cast<size_t>(kind)].size());
}

}  // namespace

std::string AuditJson(const Report& report) {
  return ToJson(report).dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string CompareJson(const Report& before, const Report& after) {
  Json out = {{"schema", "hardbase.audit-compare/v1"},
              {"before", ToJson(before)},
              {"after", ToJson(after)}};
  return out.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string AuditText(const Report& r) {
  std::string out;
  out += fmt::format("hardbase audit {}\n", P(r.reference));
  out += fmt::format("  image      {}{}\n", P(r.name), r.digest.empty() ? "" : "  " + P(r.digest));
  out += fmt::format("  distro     {}{}\n", r.distro.empty() ? "unknown" : P(r.distro),
                     r.architecture.empty() ? "" : ", " + P(r.architecture));
  out += fmt::format("  contents   {} packages, {} files, {} layer{}, {}\n", r.packages, r.files,
                     r.layers, r.layers == 1 ? "" : "s", FormatMiB(r.size));
  out += fmt::format("  user       {}\n", UserLine(r.config));
  out += fmt::format("\nscore {}/100 (grade {})\n", r.score, r.grade);

  out += "\nfindings (worst first, points taken off the score)\n";
  if (r.findings.empty()) out += "  none\n";
  for (const auto& f : r.findings) {
    out += fmt::format("  {:<6} {:>4}  {}\n", SeverityName(f.severity),
                       f.points > 0 ? fmt::format("-{}", f.points) : "", P(f.title));
    for (const auto& e : f.evidence) out += fmt::format("               {}\n", P(e));
  }

  out += "\nattack surface\n";
  for (ToolKind kind : ToolKinds()) {
    const auto& tools = r.surface[static_cast<size_t>(kind)];
    std::vector<std::string> items;
    for (const auto& t : tools) {
      items.push_back(t.package.empty() ? t.path : fmt::format("{} ({})", t.path, t.package));
    }
    std::string key(ToolKindKey(kind));
    std::replace(key.begin(), key.end(), '_', ' ');
    out += fmt::format("  {:<17} {:>3}  {}\n", key, tools.size(), Join(items));
  }
  out += fmt::format("  {:<17} {:>3}  {}\n", "setuid/setgid", r.setuid.size(), [&] {
    std::vector<std::string> items;
    for (const auto& f : r.setuid) items.push_back(FormatMode(f.mode) + " " + f.path);
    return Join(items);
  }());
  out += fmt::format("  {:<17} {:>3}  {}\n", "world-writable", r.world_writable.size(), [&] {
    std::vector<std::string> items;
    for (const auto& f : r.world_writable) items.push_back(FormatMode(f.mode) + " " + f.path);
    return Join(items);
  }());
  out += fmt::format("  {:<17} {:>3}\n", "secrets", r.secrets.size());
  if (r.file_lists) {
    out += fmt::format("  {:<17} {:>3}\n", "unowned files", r.unowned_count);
  } else {
    out += fmt::format("  {:<17} {:>3}  (no package file lists: unknown)\n", "unowned files", "?");
  }

  out += "\nCIS Docker Benchmark, section 4 (image checks)\n";
  for (const auto& c : r.cis) {
    out += fmt::format("  {:<5} {:<4}  {}\n", c.id, CisStatusName(c.status), c.title);
    out += fmt::format("              {}\n", P(c.evidence));
  }
  out += fmt::format("\nvulnerabilities  {}\n", VulnerabilityLine(r.vulnerabilities));
  if (r.vulnerabilities.database) {
    out += fmt::format("                 matched with {}\n", P(r.vulnerabilities.note));
  }
  out += fmt::format("provenance       {}\n", ProvenanceLine(r.provenance));
  return out;
}

std::string CompareText(const Report& a, const Report& b) {
  std::string out = "hardbase audit, before and after\n\n";
  auto row = [&out](std::string_view label, const std::string& before, const std::string& after) {
    out += fmt::format("  {:<20} {:<34} {}\n", label, before, after);
  };
  auto both = [&](std::string_view label, const auto& get) { row(label, get(a), get(b)); };
  row("", "before", "after");
  both("image", [](const Report& r) { return P(r.reference); });
  both("distro", [](const Report& r) { return r.distro.empty() ? "unknown" : P(r.distro); });
  both("score", [](const Report& r) { return fmt::format("{}/100 ({})", r.score, r.grade); });
  both("packages", [](const Report& r) { return std::to_string(r.packages); });
  both("size", [](const Report& r) { return FormatMiB(r.size); });
  both("files", [](const Report& r) { return std::to_string(r.files); });
  both("runs as root",
       [](const Report& r) { return std::string(r.config.runs_as_root ? "yes" : "no"); });
  for (ToolKind kind : ToolKinds()) {
    std::string key(ToolKindKey(kind));
    std::replace(key.begin(), key.end(), '_', ' ');
    both(key, [kind](const Report& r) { return std::to_string(SurfaceCount(r, kind)); });
  }
  both("setuid/setgid", [](const Report& r) { return std::to_string(r.setuid.size()); });
  both("world-writable", [](const Report& r) { return std::to_string(r.world_writable.size()); });
  both("secrets", [](const Report& r) { return std::to_string(r.secrets.size()); });
  both("env secrets", [](const Report& r) { return std::to_string(r.config.env_secrets.size()); });
  both("vulnerabilities", [](const Report& r) {
    const auto& v = r.vulnerabilities;
    if (!v.database) return std::string("not matched");
    int fixable = v.critical.fixable + v.high.fixable + v.medium.fixable + v.low.fixable +
                  v.negligible.fixable + v.unknown.fixable;
    return fmt::format("{} ({} fixable)", v.total, fixable);
  });
  both("critical/high", [](const Report& r) {
    const auto& v = r.vulnerabilities;
    return fmt::format("{}/{}", v.critical.fixable + v.critical.unfixed,
                       v.high.fixable + v.high.unfixed);
  });
  both("signature",
       [](const Report& r) { return std::string(SignatureName(r.provenance.signature)); });
  both("SBOM", [](const Report& r) { return std::string(r.provenance.sbom ? "yes" : "no"); });
  both("healthcheck",
       [](const Report& r) { return std::string(r.config.healthcheck ? "yes" : "no"); });

  out += "\nCIS Docker Benchmark, section 4\n";
  for (size_t i = 0; i < a.cis.size() && i < b.cis.size(); ++i) {
    out += fmt::format("  {:<5} {:<4} -> {:<4}  {}\n", a.cis[i].id, CisStatusName(a.cis[i].status),
                       CisStatusName(b.cis[i].status), a.cis[i].title);
  }
  auto ids = [](const Report& r) {
    std::set<std::string> out;
    for (const auto& f : r.findings) out.insert(f.id);
    return out;
  };
  std::set<std::string> before_ids = ids(a), after_ids = ids(b);
  auto list = [&out](std::string_view heading, const Report& r,
                     const std::set<std::string>& other) {
    std::string lines;
    for (const auto& f : r.findings) {
      if (other.count(f.id)) continue;
      lines += fmt::format("  {:<6} {}\n", SeverityName(f.severity), P(f.title));
    }
    out += fmt::format("\n{}\n{}", heading, lines.empty() ? "  none\n" : lines);
  };
  list("findings gone (before only)", a, after_ids);
  list("findings new (after only)", b, before_ids);
  list("findings in both, as after has them", b, [&] {
    std::set<std::string> only_after;
    for (const auto& id : after_ids) {
      if (!before_ids.count(id)) only_after.insert(id);
    }
    return only_after;
  }());
  return out;
}

}  // namespace hardbase::audit
