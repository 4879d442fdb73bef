// One installed binary package, as the dpkg database of an image records it: the plain record
// that scanning (vuln), comparing (`diff`) and updating read from an image. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.h"
#include "deb/control.h"

namespace hardbase::deb {

struct InstalledPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::string source;          // "Source:" name, else the package name
  std::string source_version;  // "Source: name (version)", else the package version
  int64_t installed_size = 0;  // KiB, its Installed-Size (for `diff`; not used in matching)
};

// A status stanza's "Source: name (version)" field split; either part may be absent.
std::pair<std::string, std::string> SplitSource(std::string_view field);

// The record of one status stanza (Package, Version, Architecture, Source, Installed-Size).
// kSpec naming the stanza's line when it has no Package or Version.
Result<InstalledPackage> InstalledPackageFromStanza(const Stanza& stanza);

}  // namespace hardbase::deb
