// What changes between two package sets -- an image and its rebuild, a lock and its update --
// and which vulnerabilities that closes or opens. For `hardbase diff` and `hardbase update`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vuln/database.h"
#include "vuln/match.h"

namespace hardbase::pipeline {

struct PackageChange {
  std::string name;
  std::string architecture;
  std::string before;       // version; "" when added
  std::string after;        // version; "" when removed
  int64_t size_before = 0;  // KiB installed
  int64_t size_after = 0;
  std::vector<vuln::Finding> closed;  // findings of `before` that `after` no longer has
  std::vector<vuln::Finding> opened;  // findings of `after` that `before` did not have
};

struct Comparison {
  std::vector<PackageChange> changes;  // added, removed or changed packages, sorted by name
  int unchanged = 0;
  // Findings of `after` that stay open although a fixed version is known: with `after` resolved
  // from the repositories, their fix is not in the repositories yet.
  std::vector<vuln::Finding> remaining;
  bool matched = false;  // false when there was no database to match with
};

// Compares by (name, architecture). With `db`, each change carries the findings it closes and
// opens (by vulnerability id and binary package) for `release`.
Comparison ComparePackages(const std::vector<vuln::InstalledPackage>& before,
                           const std::vector<vuln::InstalledPackage>& after,
                           const vuln::Database* db, const std::string& release);

// One line per change, "amd64  openssl  3.0.15-1 -> 3.0.16-1  closes CVE-2024-1 (high)"
// ("+ name version" added, "- name version" removed), then a summary line. Names, versions and
// ids are escaped for a terminal (base/printable.h): each change stays one line.
std::string ComparisonText(const Comparison& comparison);
// {"changes": [{name, architecture, before, after, size_before_kib, size_after_kib, closed[],
// opened[]}], "unchanged", "closed", "opened", "remaining_with_fix": [...]} (finding lists as
// {id, package, severity, fixed_version}).
nlohmann::ordered_json ComparisonJson(const Comparison& comparison);

}  // namespace hardbase::pipeline
