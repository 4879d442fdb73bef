#include "deb/purl.h"

#include <string>

namespace hardbase::deb {

Purl PackagePurl(const Distro& distro, std::string_view name, std::string_view version,
                 std::string_view architecture, std::string_view source,
                 std::string_view source_version) {
  Purl purl;
  purl.type = "deb";
  purl.namespace_ = distro.id.empty() ? "debian" : distro.id;
  purl.name = name;
  purl.version = version;
  if (!architecture.empty()) purl.qualifiers["arch"] = architecture;
  if (std::string qualifier = distro.PurlQualifier(); !qualifier.empty()) {
    purl.qualifiers["distro"] = std::move(qualifier);
  }
  std::string upstream(source.empty() ? name : source);
  if (!source_version.empty() && source_version != version) {
    purl.qualifiers["upstream"] = upstream + "@" + std::string(source_version);
  } else if (upstream != name) {
    purl.qualifiers["upstream"] = std::move(upstream);
  }
  return purl;
}

}  // namespace hardbase::deb
