#include "deb/installed_package.h"

#include <fmt/format.h>

#include <cstdlib>

namespace hardbase::deb {

std::pair<std::string, std::string> SplitSource(std::string_view field) {
  std::string_view name = field.substr(0, field.find(' '));
  std::string version;
  if (auto open = field.find('('); open != std::string_view::npos) {
    auto close = field.find(')', open);
    version = std::string(field.substr(open + 1, close - open - 1));
  }
  return {std::string(name), version};
}

Result<InstalledPackage> InstalledPackageFromStanza(const Stanza& s) {
  InstalledPackage p;
  p.name = s.Get("Package");
  p.version = s.Get("Version");
  if (p.name.empty() || p.version.empty()) {
    return Fail(ErrorCode::kSpec,
                fmt::format("stanza at line {} has no Package or Version", s.line()));
  }
  p.architecture = s.Get("Architecture");
  // Source names the source package when it differs from the binary, with its version when
  // that differs too.
  auto [source, source_version] = SplitSource(s.Get("Source"));
  p.source = source.empty() ? p.name : source;
  p.source_version = source_version.empty() ? p.version : source_version;
  std::string_view size = s.Get("Installed-Size");
  p.installed_size = std::strtoll(std::string(size).c_str(), nullptr, 10);
  return p;
}

}  // namespace hardbase::deb
