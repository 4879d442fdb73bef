#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "base/printable.h"
#include "base/strings.h"
#include "base/version.h"
#include "report/line_diff.h"

namespace hardbase::report {
namespace {

// Shorthand for the escaping every document string goes through.
std::string E(std::string_view text) { return HtmlEscape(text); }

// A line of Dockerfile or spec text: escaped like any other string, except that its tabs stay
// tabs (a <pre> shows them), where Printable would write \x09.
std::string EscapeCodeLine(std::string_view line) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    out += HtmlEscape(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return out;
    out += '\t';
    start = tab + 1;
  }
}

// A text block (spec YAML) escaped line by line.
std::string EscapeCodeBlock(std::string_view text) {
  std::string out;
  for (const Line& line : Lines(text)) {
    out += EscapeCodeLine(line.text);
    out += '\n';
  }
  return out;
}

// "sha256:0123456789ab" of a digest, for cards where the whole one does not fit.
std::string ShortDigest(std::string_view digest) {
  return std::string(digest.substr(0, std::min<size_t>(digest.size(), 19)));
}

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1240px; padding: 16px 20px 40px; background: #ffffff;
  color: #1f2937; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
h3 { font-size: 15px; margin: 16px 0 6px; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
code { overflow-wrap: anywhere; }
.subtitle { color: #4b5563; margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 16px; }
.card { flex: 1 1 300px; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px;
  background: #f9fafb; }
.card h2 { border: 0; margin: 0 0 4px; padding: 0; font-size: 16px; }
.card .grade { float: right; font-size: 44px; font-weight: bold; line-height: 1; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; }
.card dt { color: #6b7280; }
.card dd { margin: 0; overflow-wrap: anywhere; }
.grade-A { color: #15803d; } .grade-B { color: #4d7c0f; } .grade-C { color: #a16207; }
.grade-D { color: #c2410c; } .grade-E { color: #be123c; } .grade-F { color: #7f1d1d; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; }
figcaption { font-weight: bold; margin: 0 0 4px 4px; }
svg text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #1f2937; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th.side { text-align: center; }
tr.section th { background: #e5e7eb; }
table.checklist { table-layout: fixed; }
table.checklist thead th:first-child { width: 30%; }
.mark { font-weight: bold; white-space: nowrap; }
td.pass { background: #f0fdf4; } td.pass .mark { color: #166534; }
td.fail { background: #fef2f2; } td.fail .mark { color: #991b1b; }
td.warn { background: #fffbeb; } td.warn .mark { color: #92400e; }
td.none .mark { color: #6b7280; }
.detail { display: block; color: #4b5563; font-size: 12.5px; overflow-wrap: anywhere; }
.note { color: #4b5563; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
  border: 1px solid #d1d5db; background: #f9fafb; }
.badge.added { background: #ecfdf5; border-color: #a7f3d0; }
.badge.removed { background: #fef2f2; border-color: #fecaca; }
.badge.changed { background: #eff6ff; border-color: #bfdbfe; }
table.diff { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
table.diff td { border: 0; padding: 0 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
table.diff td.ln { width: 3.5em; color: #a1a1aa; text-align: right; user-select: none; }
table.diff td.sign { width: 1.2em; }
table.diff tr.hunk td { background: #f3f4f6; color: #4b5563; padding: 2px 6px; }
table.diff tr.del td { background: #fee2e2; }
table.diff tr.ins td { background: #dcfce7; }
pre.spec { background: #f9fafb; border: 1px solid #e5e7eb; padding: 8px; white-space: pre-wrap; }
footer { margin-top: 32px; color: #6b7280; font-size: 12px; }
@page { margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure, tr, .card { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
)css";

// --- charts ------------------------------------------------------------------------------------

struct ChartBar {
  std::string label;  // what the bar is, for its tooltip
  int64_t value = 0;
  std::string_view colour;
  std::string text;  // the number shown above it
};

struct ChartGroup {
  std::string label;
  std::vector<ChartBar> bars;
  std::string note;  // shown instead of bars when there is no data
};

struct LegendEntry {
  std::string label;
  std::string_view colour;
};

// An SVG bar chart: groups side by side, each a row of bars from one baseline, heights to one
// scale, each bar's number above it; the legend on the right. Whole-pixel geometry, so that bars
// have crisp edges of exactly their colour.
std::string BarChart(std::string_view title, const std::vector<ChartGroup>& groups,
                     const std::vector<LegendEntry>& legend) {
  // 370 px wide: the three charts fit side by side in the page body (1200 px).
  constexpr int kWidth = 370, kHeight = 240;
  constexpr int kPlotLeft = 10, kPlotRight = 262, kBaseline = 196, kMaxBar = 160;
  constexpr int kLegendLeft = 274, kLegendTop = 40, kSwatch = 12, kLegendStep = 20;
  int64_t max = 0;
  for (const ChartGroup& g : groups) {
    for (const ChartBar& b : g.bars) max = std::max(max, b.value);
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\" shape-rendering=\"crispEdges\">\n",
      kWidth, kHeight, E(title));
  int group_width = (kPlotRight - kPlotLeft) / std::max<int>(1, static_cast<int>(groups.size()));
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const ChartGroup& g = groups[gi];
    int left = kPlotLeft + static_cast<int>(gi) * group_width;
    int centre = left + group_width / 2;
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" "
        "font-weight=\"bold\">{}</text>\n",
        centre, kBaseline + 22, E(g.label));
    if (g.bars.empty()) {
      out +=
          fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                      centre, kBaseline - 40, E(g.note));
      continue;
    }
    int slot = (group_width - 20) / static_cast<int>(g.bars.size());
    int bar_width = std::max(4, slot - 6);
    for (size_t bi = 0; bi < g.bars.size(); ++bi) {
      const ChartBar& b = g.bars[bi];
      int x = left + 10 + static_cast<int>(bi) * slot + (slot - bar_width) / 2;
      int height = 0;
      if (max > 0 && b.value > 0) {
        height = static_cast<int>(
            std::lround(static_cast<double>(b.value) * kMaxBar / static_cast<double>(max)));
        height = std::max(height, 1);  // a small non-zero value stays visible
      }
      if (height > 0) {
        out += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
            "<title>{}: {}</title></rect>\n",
            x, kBaseline - height, bar_width, height, b.colour, E(b.label), E(b.text));
      }
      out +=
          fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
                      x + bar_width / 2, kBaseline - height - 4, E(b.text));
    }
  }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"1\" fill=\"#d1d5db\"/>\n",
                     kPlotLeft, kBaseline, kPlotRight - kPlotLeft);
  for (size_t i = 0; i < legend.size(); ++i) {
    int y = kLegendTop + static_cast<int>(i) * kLegendStep;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>\n",
        kLegendLeft, y, kSwatch, kSwatch, legend[i].colour, kLegendLeft + kSwatch + 6,
        y + kSwatch - 1, E(legend[i].label));
  }
  out += "</svg>\n";
  return out;
}

std::string Figure(std::string_view caption, std::string_view id, std::string svg) {
  return fmt::format("<figure id=\"{}\"><figcaption>{}</figcaption>\n{}</figure>\n", id, E(caption),
                     svg);
}

// One side of the report: the audit and what to call it.
struct Side {
  std::string label;  // "Before", "After", or "Image" for a single audit
  const Audit* audit;
};

std::vector<LegendEntry> SideLegend(const std::vector<Side>& sides) {
  std::vector<LegendEntry> legend;
  for (const Side& side : sides) {
    legend.push_back(
        {side.label, sides.size() == 1 || &side == &sides.back() ? kAfterColour : kBeforeColour});
  }
  return legend;
}

std::string_view SideColour(const std::vector<Side>& sides, size_t i) {
  return i + 1 == sides.size() ? kAfterColour : kBeforeColour;
}

std::string Charts(const std::vector<Side>& sides) {
  std::vector<ChartGroup> size, packages, vulns;
  for (size_t i = 0; i < sides.size(); ++i) {
    const Audit& a = *sides[i].audit;
    ChartGroup s{sides[i].label, {}, "not reported"};
    if (a.size_bytes) {
      s.bars.push_back(
          {sides[i].label, *a.size_bytes, SideColour(sides, i), FormatMiB(*a.size_bytes)});
    }
    size.push_back(std::move(s));
    ChartGroup p{sides[i].label, {}, "not reported"};
    if (a.packages) {
      p.bars.push_back(
          {sides[i].label, *a.packages, SideColour(sides, i), fmt::format("{}", *a.packages)});
    }
    packages.push_back(std::move(p));
    ChartGroup v{sides[i].label, {}, ""};
    if (!a.vuln_database) {
      v.note = "not reported";
    } else if (!*a.vuln_database) {
      v.note = "no vulnerability database";
    } else {
      for (size_t k = 0; k < std::size(kSeverities); ++k) {
        const SeverityCount& c = a.by_severity.at(std::string(kSeverities[k]));
        int64_t total = c.fixable + c.unfixed;
        v.bars.push_back(
            {std::string(kSeverities[k]), total, kSeverityColours[k], fmt::format("{}", total)});
      }
    }
    vulns.push_back(std::move(v));
  }
  std::vector<LegendEntry> severities;
  for (size_t k = 0; k < std::size(kSeverities); ++k) {
    severities.push_back({std::string(kSeverities[k]), kSeverityColours[k]});
  }
  std::string out = "<section id=\"charts\">\n<h2>Size, packages and vulnerabilities</h2>\n";
  out += "<div class=\"charts\">\n";
  out += Figure("Image size (compressed layers)", "chart-size",
                BarChart("Image size", size, SideLegend(sides)));
  out += Figure("Installed packages", "chart-packages",
                BarChart("Installed packages", packages, SideLegend(sides)));
  out += Figure("Vulnerabilities by severity", "chart-vulnerabilities",
                BarChart("Vulnerabilities by severity", vulns, severities));
  out += "</div>\n</section>\n";
  return out;
}

// --- the summary cards -------------------------------------------------------------------------

std::string Cards(const std::vector<Side>& sides) {
  std::string out = "<div class=\"cards\">\n";
  for (const Side& side : sides) {
    const Audit& a = *side.audit;
    out += fmt::format(
        "<div class=\"card\" id=\"card-{}\">\n<span class=\"grade grade-{}\" "
        "title=\"grade\">{}</span>\n<h2>{}</h2>\n<code>{}</code>\n<dl>\n",
        E(AsciiLower(side.label)), E(a.grade), E(a.grade), E(side.label), E(a.reference));
    auto row = [&](std::string_view term, const std::string& value_html) {
      out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, value_html);
    };
    row("Score",
        fmt::format("<strong class=\"score\">{} / 100</strong> (grade {})", a.score, E(a.grade)));
    if (!a.digest.empty()) {
      row("Digest",
          fmt::format("<code title=\"{}\">{}</code>", E(a.digest), E(ShortDigest(a.digest))));
    }
    if (!a.distro.empty() || !a.architecture.empty()) {
      row("System", E(a.distro.empty()         ? a.architecture
                      : a.architecture.empty() ? a.distro
                                               : fmt::format("{}, {}", a.distro, a.architecture)));
    }
    if (a.size_bytes) row("Size", E(FormatMiB(*a.size_bytes)));
    if (a.packages) row("Packages", fmt::format("{}", *a.packages));
    if (a.files) row("Files", fmt::format("{}", *a.files));
    if (a.layers) row("Layers", fmt::format("{}", *a.layers));
    if (a.vuln_database) {
      row("Vulnerabilities", *a.vuln_database ? fmt::format("{}", a.vuln_total)
                                              : std::string("no vulnerability database"));
    }
    out += "</dl>\n</div>\n";
  }
  return out + "</div>\n";
}

// --- the attack-surface checklist --------------------------------------------------------------

enum class Mark { kPass, kFail, kWarn, kNone };

struct Cell {
  Mark mark = Mark::kNone;
  std::string detail;  // HTML, already escaped
  std::string none_text = "not reported";
};

std::string CellHtml(const Cell& cell) {
  std::string_view cls, mark;
  switch (cell.mark) {
    case Mark::kPass:
      cls = "pass", mark = "\u2713 pass";
      break;
    case Mark::kFail:
      cls = "fail", mark = "\u2717 fail";
      break;
    case Mark::kWarn:
      cls = "warn", mark = "! warn";
      break;
    case Mark::kNone:
      cls = "none";
      break;
  }
  std::string text = cell.mark == Mark::kNone ? E(cell.none_text) : std::string(mark);
  std::string out = fmt::format("<td class=\"{}\"><span class=\"mark\">{}</span>", cls, text);
  if (!cell.detail.empty()) out += fmt::format("<span class=\"detail\">{}</span>", cell.detail);
  return out + "</td>";
}

// Up to `max` items of a list, escaped and separated by <br>, then "and N more".
std::string ListDetail(const std::vector<std::string>& items, size_t max = 6) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i > 0) out += "<br>";
    out += E(items[i]);
  }
  if (items.size() > max) out += fmt::format("<br>and {} more", items.size() - max);
  return out;
}

// A list that passes when empty: N found, then the items.
Cell CountCell(const std::optional<std::vector<std::string>>& items, Mark when_found) {
  if (!items) return {};
  if (items->empty()) return {Mark::kPass, "none"};
  return {when_found, fmt::format("{} found:<br>{}", items->size(), ListDetail(*items))};
}

std::optional<std::vector<std::string>> FileItems(
    const std::optional<std::vector<AuditFile>>& files) {
  if (!files) return std::nullopt;
  std::vector<std::string> items;
  for (const AuditFile& f : *files) {
    std::string item = f.path;
    if (!f.mode.empty()) item += " " + f.mode;
    if (!f.package.empty()) item += " (" + f.package + ")";
    items.push_back(std::move(item));
  }
  return items;
}

std::string_view SurfaceTitle(std::string_view category) {
  if (category == "shells") return "Shells";
  if (category == "package_managers") return "Package managers";
  if (category == "compilers") return "Compilers";
  if (category == "debuggers") return "Debuggers";
  return "Network tools";
}

// Orders CIS ids by their numeric parts: 4.2 before 4.10.
bool CisIdLess(const std::string& a, const std::string& b) {
  auto parts = [](std::string_view id) {
    std::vector<std::pair<int64_t, std::string>> out;
    size_t start = 0;
    while (start <= id.size()) {
      size_t dot = id.find('.', start);
      std::string_view part = id.substr(start, dot == std::string_view::npos ? dot : dot - start);
      bool numeric =
          !part.empty() && part.size() < 18 &&
          std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      out.emplace_back(numeric ? std::stoll(std::string(part)) : -1, std::string(part));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return out;
  };
  auto pa = parts(a), pb = parts(b);
  if (pa != pb) return pa < pb;
  return a < b;
}

std::string Checklist(const std::vector<Side>& sides) {
  std::string out =
      "<section id=\"checklist\">\n<h2>Attack surface checklist</h2>\n<table class=\"checklist\">\n"
      "<thead><tr>"
      "<th>Check</th>";
  for (const Side& side : sides) out += fmt::format("<th>{}</th>", E(side.label));
  out += "</tr></thead>\n<tbody>\n";
  auto row = [&](std::string_view title, const std::function<Cell(const Audit&)>& cell) {
    out += fmt::format("<tr><th scope=\"row\">{}</th>", title);
    for (const Side& side : sides) out += CellHtml(cell(*side.audit));
    out += "</tr>\n";
  };
  for (std::string_view category : kSurfaceCategories) {
    row(SurfaceTitle(category), [&](const Audit& a) {
      auto it = a.surface.find(category);
      if (it == a.surface.end()) return Cell{};
      return CountCell(FileItems(it->second), Mark::kFail);
    });
  }
  row("Setuid and setgid files",
      [](const Audit& a) { return CountCell(FileItems(a.setuid), Mark::kFail); });
  row("World-writable files",
      [](const Audit& a) { return CountCell(FileItems(a.world_writable), Mark::kFail); });
  row("Secrets in files", [](const Audit& a) {
    if (!a.secrets) return Cell{};
    std::vector<std::string> items;
    for (const AuditSecret& s : *a.secrets) {
      std::string item = fmt::format("{}: {}", s.path, s.kind.empty() ? "secret" : s.kind);
      if (s.line > 0) item += fmt::format(", line {}", s.line);
      item += fmt::format(", layer {}", s.layer);
      if (s.removed) item += " (deleted by a later layer, still in the image)";
      items.push_back(std::move(item));
    }
    return CountCell(items, Mark::kFail);
  });
  row("Secrets in the environment",
      [](const Audit& a) { return CountCell(a.env_secrets, Mark::kFail); });
  row("Runs as a non-root user", [](const Audit& a) {
    if (!a.runs_as_root) return Cell{};
    std::string user = a.config_user.empty() ? a.user : a.config_user;
    std::string detail = "user " + E(user.empty() ? std::string("root (none set)") : user);
    return Cell{*a.runs_as_root ? Mark::kFail : Mark::kPass, detail};
  });
  row("Healthcheck", [](const Audit& a) {
    if (!a.healthcheck) return Cell{};
    return *a.healthcheck ? Cell{Mark::kPass, "HEALTHCHECK set"}
                          : Cell{Mark::kWarn, "no HEALTHCHECK in the image config"};
  });
  row("Signature", [](const Audit& a) {
    if (a.signature.empty()) return Cell{};
    if (a.signature == "verified") return Cell{Mark::kPass, "verified"};
    if (a.signature == "present") return Cell{Mark::kWarn, "present, not verified"};
    if (a.signature == "invalid") return Cell{Mark::kFail, "invalid"};
    return Cell{Mark::kFail, "none"};
  });
  row("SBOM", [](const Audit& a) {
    if (!a.sbom) return Cell{};
    std::string detail = *a.sbom ? "attached" : "none";
    if (a.attestations) detail += fmt::format(", {} attestation(s)", *a.attestations);
    return Cell{*a.sbom ? Mark::kPass : Mark::kFail, detail};
  });
  row("Files no package owns", [](const Audit& a) {
    if (!a.unowned_files) return Cell{};
    if (*a.unowned_files == 0) return Cell{Mark::kPass, "none"};
    return Cell{Mark::kWarn, fmt::format("{} files, e.g.<br>{}", *a.unowned_files,
                                         ListDetail(a.unowned_sample, 4))};
  });
  row("Packages without a copyright file",
      [](const Audit& a) { return CountCell(a.packages_without_copyright, Mark::kWarn); });

  // The CIS Docker Benchmark's image checks that either side reports, by id.
  std::vector<std::string> ids;
  for (const Side& side : sides) {
    for (const CisCheck& c : side.audit->cis) {
      if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) ids.push_back(c.id);
    }
  }
  std::stable_sort(ids.begin(), ids.end(), CisIdLess);
  if (!ids.empty()) {
    out += fmt::format(
        "<tr class=\"section\"><th colspan=\"{}\">CIS Docker Benchmark: image checks</th></tr>\n",
        sides.size() + 1);
  }
  for (const std::string& id : ids) {
    const CisCheck* titled = nullptr;
    for (auto it = sides.rbegin(); it != sides.rend() && titled == nullptr; ++it) {
      for (const CisCheck& c : it->audit->cis) {
        if (c.id == id && !c.title.empty()) {
          titled = &c;
          break;
        }
      }
    }
    std::string title = E(id);
    if (titled != nullptr) title += " " + E(titled->title);
    out += fmt::format("<tr><th scope=\"row\">{}</th>", title);
    for (const Side& side : sides) {
      Cell cell;
      cell.none_text = "not checked";
      for (const CisCheck& c : side.audit->cis) {
        if (c.id != id) continue;
        cell.mark = c.status == "pass"   ? Mark::kPass
                    : c.status == "fail" ? Mark::kFail
                                         : Mark::kNone;
        cell.none_text = "n/a";
        cell.detail = E(c.evidence);
        break;
      }
      out += CellHtml(cell);
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
  return out;
}

// --- vulnerabilities and findings --------------------------------------------------------------

std::string Vulnerabilities(const std::vector<Side>& sides) {
  std::string out =
      "<section id=\"vulnerabilities\">\n<h2>Vulnerabilities</h2>\n<table>\n<thead><tr>"
      "<th rowspan=\"2\">Severity</th>";
  for (const Side& side : sides) {
    out += fmt::format("<th colspan=\"3\" class=\"side\">{}</th>", E(side.label));
  }
  out += "</tr><tr>";
  for (size_t i = 0; i < sides.size(); ++i) {
    out +=
        "<th class=\"num\">fixable</th><th class=\"num\">unfixed</th><th class=\"num\">total</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  auto counts = [&](const Audit& a, const SeverityCount& c) {
    if (!a.vuln_database || !*a.vuln_database) {
      return std::string(
          "<td class=\"num\">\u2014</td><td class=\"num\">\u2014</td>"
          "<td class=\"num\">\u2014</td>");
    }
    return fmt::format(
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>", c.fixable,
        c.unfixed, c.fixable + c.unfixed);
  };
  for (std::string_view severity : kSeverities) {
    out += fmt::format("<tr class=\"severity-{0}\"><th scope=\"row\">{0}</th>", severity);
    for (const Side& side : sides) {
      auto it = side.audit->by_severity.find(severity);
      out +=
          counts(*side.audit, it == side.audit->by_severity.end() ? SeverityCount{} : it->second);
    }
    out += "</tr>\n";
  }
  out += "<tr><th scope=\"row\">all</th>";
  for (const Side& side : sides) {
    SeverityCount sum;
    for (const auto& [name, c] : side.audit->by_severity) {
      sum.fixable += c.fixable;
      sum.unfixed += c.unfixed;
    }
    out += counts(*side.audit, sum);
  }
  out += "</tr>\n</tbody>\n</table>\n";
  for (const Side& side : sides) {
    if (!side.audit->vuln_database) {
      out +=
          fmt::format("<p class=\"note\">{}: the audit reports no vulnerabilities section.</p>\n",
                      E(side.label));
    } else if (!*side.audit->vuln_database) {
      out += fmt::format(
          "<p class=\"note\">{}: audited without a vulnerability database{} (run <code>hardbase "
          "vuln update</code>), so its counts are unknown.</p>\n",
          E(side.label), side.audit->vuln_note.empty() ? "" : ": " + E(side.audit->vuln_note));
    }
  }
  return out + "</section>\n";
}

std::string Findings(const std::vector<Side>& sides) {
  bool any = false;
  for (const Side& side : sides) any = any || !side.audit->findings.empty();
  if (!any) return "";
  std::string out = "<section id=\"findings\">\n<h2>Findings</h2>\n";
  for (const Side& side : sides) {
    out += fmt::format("<h3>{}</h3>\n", E(side.label));
    if (side.audit->findings.empty()) {
      out += "<p class=\"note\">None.</p>\n";
      continue;
    }
    out +=
        "<table>\n<thead><tr><th>Severity</th><th>Finding</th><th>Evidence</th></tr></thead>\n"
        "<tbody>\n";
    for (const AuditFinding& f : side.audit->findings) {
      out += fmt::format(
          "<tr><td>{}</td><td>{}<span class=\"detail\">{}</span></td><td>{}</td></tr>\n",
          E(f.severity), E(f.title), E(f.id), ListDetail(f.evidence, 5));
    }
    out += "</tbody>\n</table>\n";
  }
  return out + "</section>\n";
}

// --- the package changes of `diff` -------------------------------------------------------------

std::string FindingList(const std::vector<DiffFinding>& findings, size_t max = 12) {
  std::string out;
  for (size_t i = 0; i < findings.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += E(findings[i].id);
    if (!findings[i].severity.empty()) out += fmt::format(" ({})", E(findings[i].severity));
  }
  if (findings.size() > max) out += fmt::format(", and {} more", findings.size() - max);
  return out;
}

std::string PackageChanges(const PackageDiff& d) {
  size_t added = 0, removed = 0, changed = 0;
  for (const DiffPackage& p : d.changes) {
    if (p.before.empty()) {
      ++added;
    } else if (p.after.empty()) {
      ++removed;
    } else {
      ++changed;
    }
  }
  std::string out = "<section id=\"packages\">\n<h2>Package changes</h2>\n";
  out += fmt::format(
      "<p><code>{}</code>: {} packages, {}<br><code>{}</code>: {} packages, {} ({})</p>\n",
      E(d.before.reference), d.before.packages, E(FormatMiB(d.before.bytes)), E(d.after.reference),
      d.after.packages, E(FormatMiB(d.after.bytes)), E(FormatMiB(d.size_change, /*sign=*/true)));
  out += fmt::format(
      "<p id=\"package-counts\"><strong>{}</strong> added, <strong>{}</strong> removed, "
      "<strong>{}</strong> changed, {} unchanged.",
      added, removed, changed, d.unchanged);
  if (d.matched.value_or(true)) {
    out += fmt::format(" Vulnerabilities closed: <strong>{}</strong>, opened: <strong>{}</strong>.",
                       d.closed, d.opened);
  } else {
    out += " No vulnerability database, so no CVE changes.";
  }
  out += "</p>\n";
  if (!d.changes.empty()) {
    out +=
        "<table>\n<thead><tr><th>Change</th><th>Package</th><th>Architecture</th><th>Before</th>"
        "<th>After</th><th>Vulnerabilities closed</th><th>Opened</th></tr></thead>\n<tbody>\n";
    for (const DiffPackage& p : d.changes) {
      std::string_view kind = p.before.empty() ? "added" : p.after.empty() ? "removed" : "changed";
      out += fmt::format(
          "<tr><td><span class=\"badge {0}\">{0}</span></td><td>{1}</td><td>{2}</td><td>{3}</td>"
          "<td>{4}</td><td>{5}</td><td>{6}</td></tr>\n",
          kind, E(p.name), E(p.architecture), E(p.before), E(p.after), FindingList(p.closed),
          FindingList(p.opened));
    }
    out += "</tbody>\n</table>\n";
  }
  if (!d.remaining_with_fix.empty()) {
    out +=
        "<h3>Still open, with a fixed version announced</h3>\n<table>\n<thead><tr>"
        "<th>Vulnerability</th><th>Package</th><th>Severity</th><th>Fixed in</th></tr></thead>\n"
        "<tbody>\n";
    for (const DiffFinding& f : d.remaining_with_fix) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", E(f.id),
                         E(f.package), E(f.severity), E(f.fixed_version));
    }
    out += "</tbody>\n</table>\n";
  }
  return out + "</section>\n";
}

// --- the migrated Dockerfile -------------------------------------------------------------------

std::string LineNumber(size_t n) { return n == 0 ? std::string() : fmt::format("{}", n); }

std::string DockerfileDiff(const Migration& m) {
  std::vector<DiffHunk> hunks = UnifiedLineDiff(m.before, m.after);
  if (hunks.empty()) return "<p class=\"note\">The Dockerfile is unchanged.</p>\n";
  std::string out = "<table class=\"diff\" id=\"dockerfile-diff\">\n<tbody>\n";
  for (const DiffHunk& h : hunks) {
    out += fmt::format("<tr class=\"hunk\"><td colspan=\"4\">@@ -{},{} +{},{} @@</td></tr>\n",
                       h.before_start, h.before_count, h.after_start, h.after_count);
    for (const DiffLine& line : h.lines) {
      std::string_view cls = line.kind == DiffLine::Kind::kAdded     ? "ins"
                             : line.kind == DiffLine::Kind::kRemoved ? "del"
                                                                     : "ctx";
      std::string_view sign = line.kind == DiffLine::Kind::kAdded     ? "+"
                              : line.kind == DiffLine::Kind::kRemoved ? "-"
                                                                      : " ";
      out += fmt::format(
          "<tr class=\"{}\"><td class=\"ln\">{}</td><td class=\"ln\">{}</td>"
          "<td class=\"sign\">{}</td><td>{}</td></tr>\n",
          cls, LineNumber(line.before_line), LineNumber(line.after_line), sign,
          EscapeCodeLine(line.text));
    }
  }
  return out + "</tbody>\n</table>\n";
}

std::string MigrationSection(const Migration& m) {
  std::string out = "<section id=\"migration\">\n<h2>Dockerfile migration</h2>\n";
  if (!m.source.empty()) out += fmt::format("<p><code>{}</code></p>\n", E(m.source));
  auto line_text = [](int64_t line) {
    return line == 0 ? std::string("whole file") : fmt::format("line {}", line);
  };
  if (!m.refused.empty()) {
    out += "<h3>Refused</h3>\n<table id=\"migration-refused\">\n<tbody>\n";
    for (const MigrationChange& r : m.refused) {
      out += fmt::format("<tr><td class=\"fail\">{}</td><td>{}</td></tr>\n", line_text(r.line),
                         E(r.message));
    }
    out += "</tbody>\n</table>\n";
  }
  if (!m.changes.empty()) {
    out +=
        "<h3>Changes</h3>\n<table id=\"migration-changes\">\n<thead><tr><th>Where</th>"
        "<th>Kind</th><th>What</th></tr></thead>\n<tbody>\n";
    for (const MigrationChange& c : m.changes) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", line_text(c.line),
                         E(c.kind), E(c.message));
    }
    out += "</tbody>\n</table>\n";
  }
  out += "<h3>Dockerfile</h3>\n";
  if (m.after.empty()) {
    out += "<p class=\"note\">The migration was refused: there is no new Dockerfile.</p>\n";
  } else {
    out += DockerfileDiff(m);
  }
  if (!m.spec.empty()) {
    out += fmt::format("<h3>Spec</h3>\n<pre class=\"spec\">{}</pre>\n", EscapeCodeBlock(m.spec));
  }
  return out + "</section>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string printable = Printable(text);
  std::string out;
  out.reserve(printable.size());
  for (char c : printable) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> RenderHtml(const ReportInputs& inputs) {
  HB_TRY(AuditComparison audits, ReadAuditDocument(inputs.audit));
  std::optional<PackageDiff> diff;
  if (inputs.diff) {
    HB_TRY(diff, ReadDiffDocument(*inputs.diff));
  }
  std::optional<Migration> migration;
  if (inputs.migration) {
    HB_TRY(migration, ReadMigrationDocument(*inputs.migration));
  }
  std::vector<Side> sides;
  if (audits.before) {
    sides.push_back({"Before", &*audits.before});
    sides.push_back({"After", &audits.after});
  } else {
    sides.push_back({"Image", &audits.after});
  }

  std::string title =
      audits.before ? fmt::format("{} \u2192 {}", audits.before->reference, audits.after.reference)
                    : audits.after.reference;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>hardbase report: {}</title>\n", E(title));
  out += "<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<header>\n<h1>Container image hardening report</h1>\n";
  out += fmt::format("<p class=\"subtitle\">{}</p>\n", E(title));
  out += Cards(sides);
  out += "</header>\n<main>\n";
  out += Charts(sides);
  out += Checklist(sides);
  out += Vulnerabilities(sides);
  out += Findings(sides);
  if (diff) out += PackageChanges(*diff);
  if (migration) out += MigrationSection(*migration);
  out += fmt::format(
      "</main>\n<footer>Written by hardbase {} from the JSON of <code>hardbase audit</code>",
      E(HardbaseVersion()));
  if (diff) out += ", <code>hardbase diff</code>";
  if (migration) out += ", <code>hardbase migrate</code>";
  out += ".</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace hardbase::report
