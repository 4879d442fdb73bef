#include "pipeline/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "base/printable.h"

namespace hardbase::pipeline {
namespace {

using Key = std::pair<std::string, std::string>;  // name, architecture

std::map<Key, const vuln::InstalledPackage*> ByKey(const std::vector<vuln::InstalledPackage>& ps) {
  std::map<Key, const vuln::InstalledPackage*> out;
  for (const auto& p : ps) out[{p.name, p.architecture}] = &p;
  return out;
}

// Findings per package, keyed by (package, architecture), each list sorted by id.
std::map<Key, std::vector<vuln::Finding>> FindingsByPackage(const vuln::MatchResult& match) {
  std::map<Key, std::vector<vuln::Finding>> out;
  for (const auto& f : match.findings) out[{f.package, f.architecture}].push_back(f);
  return out;
}

// The findings of `a` whose id is not among those of `b`.
std::vector<vuln::Finding> Minus(const std::vector<vuln::Finding>& a,
                                 const std::vector<vuln::Finding>& b) {
  std::set<std::string> ids;
  for (const auto& f : b) ids.insert(f.id);
  std::vector<vuln::Finding> out;
  for (const auto& f : a) {
    if (!ids.count(f.id)) out.push_back(f);
  }
  return out;
}

}  // namespace

Comparison ComparePackages(const std::vector<vuln::InstalledPackage>& before,
                           const std::vector<vuln::InstalledPackage>& after,
                           const vuln::Database* db, const std::string& release) {
  Comparison out;
  std::map<Key, std::vector<vuln::Finding>> found_before, found_after;
  if (db != nullptr) {
    out.matched = true;
    found_before = FindingsByPackage(vuln::Match(*db, release, before));
    vuln::MatchResult now = vuln::Match(*db, release, after);
    found_after = FindingsByPackage(now);
    for (const auto& f : now.findings) {
      if (f.status == vuln::FixStatus::kFixable && !f.kernel_headers) out.remaining.push_back(f);
    }
  }
  auto a = ByKey(before), b = ByKey(after);
  std::set<Key> keys;
  for (const auto& [k, p] : a) keys.insert(k);
  for (const auto& [k, p] : b) keys.insert(k);
  for (const auto& key : keys) {
    auto ia = a.find(key), ib = b.find(key);
    const vuln::InstalledPackage* pa = ia == a.end() ? nullptr : ia->second;
    const vuln::InstalledPackage* pb = ib == b.end() ? nullptr : ib->second;
    if (pa && pb && pa->version == pb->version) {
      ++out.unchanged;
      continue;
    }
    PackageChange c;
    c.name = key.first;
    c.architecture = key.second;
    if (pa) c.before = pa->version, c.size_before = pa->installed_size;
    if (pb) c.after = pb->version, c.size_after = pb->installed_size;
    c.closed = Minus(found_before[key], found_after[key]);
    c.opened = Minus(found_after[key], found_before[key]);
    out.changes.push_back(std::move(c));
  }
  return out;
}

namespace {

std::string Ids(const std::vector<vuln::Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", Printable(f.id),
                       vuln::SeverityName(f.severity));
  }
  return out;
}

nlohmann::ordered_json FindingsJson(const std::vector<vuln::Finding>& findings) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    out.push_back({{"id", f.id},
                   {"package", f.package},
                   {"severity", vuln::SeverityName(f.severity)},
                   {"fixed_version", f.fixed_version}});
  }
  return out;
}

}  // namespace

std::string ComparisonText(const Comparison& comparison) {
  std::string out;
  size_t closed = 0, opened = 0;
  for (const auto& c : comparison.changes) {
    // Names and versions come from images' package databases and repositories' indexes: escaped,
    // one change per line.
    std::string name = Printable(c.name), before = Printable(c.before), after = Printable(c.after);
    std::string what = c.before.empty()  ? fmt::format("+ {} {}", name, after)
                       : c.after.empty() ? fmt::format("- {} {}", name, before)
                                         : fmt::format("{} {} -> {}", name, before, after);
    out += fmt::format("{:<7} {}", Printable(c.architecture), what);
    if (!c.closed.empty()) out += fmt::format("  closes {}", Ids(c.closed));
    if (!c.opened.empty()) out += fmt::format("  opens {}", Ids(c.opened));
    out += '\n';
    closed += c.closed.size();
    opened += c.opened.size();
  }
  out += fmt::format("{} package{} changed, {} unchanged", comparison.changes.size(),
                     comparison.changes.size() == 1 ? "" : "s", comparison.unchanged);
  if (comparison.matched) {
    out += fmt::format("; {} finding{} closed, {} opened", closed, closed == 1 ? "" : "s", opened);
    if (!comparison.remaining.empty()) {
      out += fmt::format(
          "; {} still open with a fixed version announced that the packages do "
          "not have yet",
          comparison.remaining.size());
    }
  } else {
    out += "; no vulnerability database, so no CVE changes (run `hardbase vuln update`)";
  }
  return out + "\n";
}

nlohmann::ordered_json ComparisonJson(const Comparison& comparison) {
  auto changes = nlohmann::ordered_json::array();
  size_t closed = 0, opened = 0;
  for (const auto& c : comparison.changes) {
    changes.push_back(
        {{"name", c.name},
         {"architecture", c.architecture},
         {"before", c.before.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(c.before)},
         {"after", c.after.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(c.after)},
         {"size_before_kib", c.size_before},
         {"size_after_kib", c.size_after},
         {"closed", FindingsJson(c.closed)},
         {"opened", FindingsJson(c.opened)}});
    closed += c.closed.size();
    opened += c.opened.size();
  }
  return {{"changes", changes},
          {"unchanged", comparison.unchanged},
          {"matched", comparison.matched},
          {"closed", closed},
          {"opened", opened},
          {"remaining_with_fix", FindingsJson(comparison.remaining)}};
}

}  // namespace hardbase::pipeline
