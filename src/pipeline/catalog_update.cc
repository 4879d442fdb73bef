#include "pipeline/catalog_update.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/markdown.h"
#include "base/parallel.h"
#include "base/printable.h"
#include "base/strings.h"
#include "pipeline/catalog.h"
#include "spec/lock.h"
#include "vuln/severity.h"

namespace hardbase::pipeline {
namespace {

using Json = nlohmann::ordered_json;

std::string_view StatusName(EntryUpdateStatus s) {
  switch (s) {
    case EntryUpdateStatus::kUnchanged:
      return "unchanged";
    case EntryUpdateStatus::kChanged:
      return "changed";
    case EntryUpdateStatus::kFailed:
      return "failed";
  }
  return "failed";
}

// The distinct vulnerability ids an update closes, each with the worst severity it was given.
using ClosedIds = std::map<std::string, vuln::Severity>;

void AddClosed(const SpecUpdate& update, ClosedIds& out) {
  for (const auto& [arch, comparison] : update.archs) {
    for (const auto& change : comparison.changes) {
      for (const auto& f : change.closed) {
        auto [it, added] = out.emplace(f.id, f.severity);
        if (!added) it->second = std::max(it->second, f.severity);
      }
    }
  }
}

size_t PackagesChanged(const SpecUpdate& update) {
  size_t n = 0;
  for (const auto& [arch, comparison] : update.archs) n += comparison.changes.size();
  return n;
}

// Whether any entry's comparison had a database to match with.
bool Matched(const CatalogUpdateReport& report) {
  for (const auto& e : report.entries) {
    if (!e.update) continue;
    for (const auto& [arch, comparison] : e.update->archs) {
      if (comparison.matched) return true;
    }
  }
  return false;
}

struct UpdateTotals {
  size_t changed = 0, unchanged = 0, failed = 0, packages = 0;
  ClosedIds closed;
};

UpdateTotals Totals(const CatalogUpdateReport& report) {
  UpdateTotals t;
  for (const auto& e : report.entries) {
    switch (e.status) {
      case EntryUpdateStatus::kChanged:
        ++t.changed;
        break;
      case EntryUpdateStatus::kUnchanged:
        ++t.unchanged;
        break;
      case EntryUpdateStatus::kFailed:
        ++t.failed;
        break;
    }
    if (e.update) {
      t.packages += PackagesChanged(*e.update);
      AddClosed(*e.update, t.closed);
    }
  }
  return t;
}

// "3 CVEs closed (1 critical, 2 high)": the counts by severity, worst first.
std::string ClosedSummary(const ClosedIds& closed) {
  std::string out = Plural(closed.size(), "CVE", "CVEs") + " closed";
  if (closed.empty()) return out;
  std::map<vuln::Severity, size_t, std::greater<>> by_severity;
  for (const auto& [id, severity] : closed) ++by_severity[severity];
  std::vector<std::string> parts;
  for (const auto& [severity, n] : by_severity) {
    parts.push_back(fmt::format("{} {}", n, vuln::SeverityName(severity)));
  }
  return out + fmt::format(" ({})", fmt::join(parts, ", "));
}

}  // namespace

Result<CatalogUpdateReport> UpdateCatalog(const CatalogUpdateOptions& options,
                                          net::HttpClient& http, cache::BlobStore& store) {
  HB_TRY(std::vector<CatalogEntry> entries, CatalogEntries(options.dir, options.only));
  CatalogUpdateReport report;
  for (const auto& e : entries) {
    CatalogEntryUpdate& u = report.entries.emplace_back();
    u.name = e.name;
    u.spec_path = e.spec_path;
    u.lock_path = spec::DefaultLockPath(e.spec_path);
  }
  // Each task fills its own entry; none fails the loop, so every entry is tried.
  (void)ParallelFor(report.entries.size(), options.jobs, [&](size_t i) -> Result<void> {
    CatalogEntryUpdate& u = report.entries[i];
    auto update = UpdateSpec(u.spec_path, u.lock_path, options.update, http, store);
    if (!update) {
      u.error = update.error().Wrap(u.name);
      return {};
    }
    u.update = std::move(*update);
    if (u.update->changes.empty()) {
      u.status = EntryUpdateStatus::kUnchanged;
      return {};
    }
    if (options.write) {
      if (auto written = WriteLock(u.update->after, u.lock_path); !written) {
        u.error = written.error().Wrap(u.name);
        return {};
      }
      u.written = true;
    }
    u.status = EntryUpdateStatus::kChanged;
    LogInfo("{}: {}", Printable(u.name), Plural(u.update->changes.size(), "change", "changes"));
    return {};
  });
  for (const auto& u : report.entries) {
    if (!u.update) continue;
    for (const auto& w : u.update->warnings) {
      if (std::find(report.warnings.begin(), report.warnings.end(), w) == report.warnings.end()) {
        report.warnings.push_back(w);
      }
    }
  }
  return report;
}

std::string RenderCatalogUpdateTable(const CatalogUpdateReport& report) {
  std::string out;
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "PACKAGES", "CVES CLOSED"}};
  for (const auto& e : report.entries) {
    std::vector<std::string> row = {Printable(e.name), std::string(StatusName(e.status))};
    if (e.update) {
      if (e.status == EntryUpdateStatus::kChanged) {
        out += Printable(e.name) + "\n";
        for (const auto& [arch, comparison] : e.update->archs) {
          std::string text = ComparisonText(comparison);
          for (size_t from = 0, nl; (nl = text.find('\n', from)) != std::string::npos;
               from = nl + 1) {
            out += "  " + text.substr(from, nl - from + 1);
          }
        }
      }
      ClosedIds closed;
      AddClosed(*e.update, closed);
      row.push_back(std::to_string(PackagesChanged(*e.update)));
      row.push_back(std::to_string(closed.size()));
    } else {
      row.insert(row.end(), {"-", "-"});
    }
    rows.push_back(std::move(row));
  }
  out += AlignColumns(rows, 2);  // names to the left, numbers to the right
  UpdateTotals t = Totals(report);
  out += fmt::format("{}: {} changed, {} unchanged",
                     Plural(report.entries.size(), "image", "images"), t.changed, t.unchanged);
  if (t.failed) out += fmt::format(", {} failed", t.failed);
  out += fmt::format("; {} changed", Plural(t.packages, "package", "packages"));
  out += Matched(report) ? "; " + ClosedSummary(t.closed) : "; no CVEs matched (no database)";
  return out + "\n";
}

std::string RenderCatalogUpdateJson(const CatalogUpdateReport& report) {
  Json images = Json::array();
  for (const auto& e : report.entries) {
    Json j = {{"name", e.name},
              {"spec", e.spec_path},
              {"lock", e.lock_path},
              {"status", StatusName(e.status)},
              {"written", e.written}};
    if (e.update) {
      Json archs = Json::object();
      for (const auto& [arch, comparison] : e.update->archs) {
        archs[arch] = ComparisonJson(comparison);
      }
      ClosedIds closed;
      AddClosed(*e.update, closed);
      j["release"] = e.update->release;
      j["changes"] = e.update->changes;
      j["archs"] = std::move(archs);
      j["cvesClosed"] = closed.size();
    } else {
      j["release"] = nullptr;
      j["changes"] = nullptr;
      j["archs"] = nullptr;
      j["cvesClosed"] = nullptr;
    }
    if (e.error) {
      j["error"] = {{"code", ErrorCodeName(e.error->code)},
                    {"message", e.error->message},
                    {"details", e.error->details}};
    }
    images.push_back(std::move(j));
  }
  UpdateTotals t = Totals(report);
  Json totals = {{"images", report.entries.size()}, {"changed", t.changed},
                 {"unchanged", t.unchanged},        {"failed", t.failed},
                 {"packagesChanged", t.packages},   {"cvesClosed", t.closed.size()}};
  Json doc = {{"images", images}, {"totals", totals}, {"warnings", report.warnings}};
  // Names, versions and messages are others' bytes: invalid UTF-8 is replaced, not a throw.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string RenderCatalogUpdateMarkdown(const CatalogUpdateReport& report) {
  UpdateTotals t = Totals(report);
  const bool matched = Matched(report);
  std::string out = "## hardbase catalog update\n\n";
  out +=
      fmt::format("{} of {} image{} changed: {} changed", t.changed, report.entries.size(),
                  report.entries.size() == 1 ? "" : "s", Plural(t.packages, "package", "packages"));
  out +=
      matched ? ", " + ClosedSummary(t.closed) : "; CVEs not matched (no vulnerability database)";
  if (t.failed) out += fmt::format("; {} failed", t.failed);
  out += ".\n";

  auto ids = [](const std::vector<vuln::Finding>& findings) {
    std::vector<std::string> parts;
    for (const auto& f : findings) {
      parts.push_back(
          fmt::format("{} ({})", MarkdownTableCode(f.id), vuln::SeverityName(f.severity)));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  };
  std::vector<std::string> unchanged;
  for (const auto& e : report.entries) {
    if (e.status == EntryUpdateStatus::kUnchanged) unchanged.push_back(MarkdownCode(e.name));
    if (e.status != EntryUpdateStatus::kChanged || !e.update) continue;
    ClosedIds closed;
    AddClosed(*e.update, closed);
    out += fmt::format("\n### {}\n\n", MarkdownCode(e.name));
    out +=
        fmt::format("{} changed{}.\n\n", Plural(PackagesChanged(*e.update), "package", "packages"),
                    matched ? ", " + ClosedSummary(closed) : "");
    const bool several_archs = e.update->archs.size() > 1;
    bool any = false;
    for (const auto& [arch, comparison] : e.update->archs) {
      for (const auto& c : comparison.changes) {
        if (!any) out += "| package | old → new | CVEs closed |\n|---|---|---|\n";
        any = true;
        std::string package = MarkdownTableCode(c.name);
        if (several_archs) package += fmt::format(" ({})", MarkdownTableCode(c.architecture));
        std::string before = c.before.empty() ? "(new)" : MarkdownTableCode(c.before);
        std::string after = c.after.empty() ? "(removed)" : MarkdownTableCode(c.after);
        std::string cves = ids(c.closed);
        if (!c.opened.empty())
          cves += fmt::format("{}opens {}", cves.empty() ? "" : "; ", ids(c.opened));
        out += fmt::format("| {} | {} → {} | {} |\n", package, before, after, cves);
      }
    }
    // A lock can change without a package version changing (an exclusion, a new architecture).
    if (!any) {
      for (const auto& line : e.update->changes) out += fmt::format("- {}\n", MarkdownCode(line));
    }
  }
  if (!unchanged.empty()) {
    out += fmt::format("\nUnchanged: {}.\n", fmt::join(unchanged, ", "));
  }
  if (t.failed) {
    out += "\nFailed:\n\n";
    for (const auto& e : report.entries) {
      if (e.status != EntryUpdateStatus::kFailed) continue;
      out += fmt::format("- {}: {}\n", MarkdownCode(e.name),
                         MarkdownCode(e.error ? e.error->message : "failed"));
    }
  }
  return out;
}

}  // namespace hardbase::pipeline
