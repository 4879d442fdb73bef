// ResolveClosure: the exact set of binary packages an image holds, from the names a spec gives.
//
// The closure is what `apt-get install --no-install-recommends` would install on a system with an
// empty dpkg status: Debian's Essential set is not implied, Recommends and Suggests are not
// followed. Choices are apt's (apt 2.6, pkgDepCache::MarkInstall): the candidate of a package is
// its highest version for the architecture (or "all") across every repository of the index; an
// or-group already satisfied by a selected package needs nothing more, otherwise its alternatives
// are tried in order, each alternative's installable candidates (the real package and the
// providers of a virtual name) ranked as apt's CompareProviders ranks them, and a candidate whose
// own Depends cannot be met by any candidate is skipped. Packages apt marked for an alternative
// it then gave up are dropped, as apt's own garbage sweep drops them, with one deliberate
// difference: apt keeps such leftovers when they are Essential or Protected or a kept package
// Recommends them; the closure holds only packages the requested ones reach through Depends and
// Pre-Depends.
//
// With one architecture, Multi-Arch matters only for `:any` relations, which only a
// "Multi-Arch: allowed" package (or a Provides of one) satisfies, as dpkg requires.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "deb/package_index.h"

namespace hardbase::deb {

struct ResolveRequest {
  std::string arch;                   // the Debian architecture ("amd64")
  std::vector<std::string> packages;  // "name", or "name=version" to require that exact version
  // Packages to leave out even where something depends on them. An excluded package satisfies
  // every relation naming it (or a name it provides), whatever the version asked for, and its own
  // dependencies are not followed: what only it would have pulled in stays out as well.
  std::vector<std::string> exclude;
  // Packages the image policy leaves out (shells, package managers: image::HardeningExclusions),
  // apart from `exclude` so that the result tells the two apart. They are left out as `exclude`
  // leaves packages out, except that a name the index does not know is no error, a requested one
  // is left out rather than refused (wanted by "(spec)"), and a name in both lists counts as
  // excluded.
  std::vector<std::string> leave_out;
};

struct SelectedPackage {
  const PackageRecord* record = nullptr;  // owned by the PackageIndex, which must outlive this
  // Names of the selected packages whose Depends or Pre-Depends this package satisfies, and
  // "(spec)" when the request names it; sorted.
  std::vector<std::string> required_by;
};

struct Exclusion {
  std::string name;
  std::vector<std::string> wanted_by;  // selected packages whose dependency it satisfied; sorted
};

struct Resolution {
  std::vector<SelectedPackage> packages;  // sorted by name
  std::vector<Exclusion> exclusions;      // one per distinct requested exclusion, sorted by name
  // The `leave_out` packages that something depended on (or the request named), sorted by name;
  // the others are not listed.
  std::vector<Exclusion> left_out;
};

// Resolves the request against the index. Fails with kResolve when a requested name is unknown
// (with the nearest known names), when a dependency cannot be satisfied (with the chain from the
// requested package and what versions exist: "openjdk-17-jre-headless -> libfoo (>= 2.0): no
// version satisfies; available: 1.9 (bookworm)"), or when two selected packages conflict (naming
// both and the Conflicts or Breaks relation).
Result<Resolution> ResolveClosure(const PackageIndex& index, const ResolveRequest& request);

}  // namespace hardbase::deb
