#include "pipeline/provenance.h"

#include <fmt/format.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "base/version.h"
#include "deb/control.h"
#include "deb/relation.h"
#include "pipeline/inventory.h"
#include "sbom/copyright.h"

namespace hardbase::pipeline {
namespace {

constexpr std::string_view kDocDir = "usr/share/doc/";

// The names ParseSbomFormat accepts (the full ones, then their short aliases), and the format
// each one names.
constexpr std::array<std::string_view, 4> kSbomFormatNames = {"spdx-json", "cyclonedx-json",
                                                              "spdx", "cyclonedx"};
constexpr std::array<SbomFormat, kSbomFormatNames.size()> kSbomFormatOf = {
    SbomFormat::kSpdx, SbomFormat::kCycloneDx, SbomFormat::kSpdx, SbomFormat::kCycloneDx};

// One stanza, read.
struct Record {
  sbom::Package package;
  std::string depends;  // Pre-Depends and Depends, joined
  std::string provides;
  const std::optional<std::string>* copyright = nullptr;
};

Result<Record> ReadRecord(const InstalledPackage& installed) {
  HB_TRY(auto stanzas, deb::ParseControl(installed.status));
  if (stanzas.size() != 1) {
    return Fail(ErrorCode::kSpec, fmt::format("a package's status record holds {} stanzas, not 1",
                                              stanzas.size()));
  }
  const deb::Stanza& s = stanzas[0];
  Record r;
  sbom::Package& p = r.package;
  p.name = s.Get("Package");
  p.version = s.Get("Version");
  if (p.name.empty() || p.version.empty()) {
    return Fail(ErrorCode::kSpec, fmt::format("status record at line {}: no Package or Version",
                                              s.line()));
  }
  p.architecture = s.Get("Architecture");
  auto [source, source_version] = SplitSource(s.Get("Source"));
  if (source != p.name) p.source = source;
  if (!source_version.empty() && source_version != p.version) p.source_version = source_version;
  p.maintainer = s.Get("Maintainer");
  p.homepage = s.Get("Homepage");
  for (std::string_view field : {"Pre-Depends", "Depends"}) {
    if (s.Get(field).empty()) continue;
    if (!r.depends.empty()) r.depends += ", ";
    r.depends += s.Get(field);
  }
  r.provides = s.Get("Provides");
  r.copyright = &installed.copyright;
  return r;
}

}  // namespace

Result<void> DescribePackages(const std::vector<InstalledPackage>& installed,
                              const spec::ArchLock* lock, sbom::Document& doc) {
  std::vector<Record> records;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& i : installed) {
    HB_TRY(Record r, ReadRecord(i));
    // A package in both var/lib/dpkg/status and status.d is one package.
    const sbom::Package& p = r.package;
    if (!seen.emplace(p.name, p.architecture, p.version).second) continue;
    records.push_back(std::move(r));
  }
  // Which installed package answers to a name: its own, or one it Provides.
  std::map<std::string, std::string, std::less<>> answers;
  for (const auto& r : records) answers.emplace(r.package.name, r.package.name);
  for (const auto& r : records) {
    auto provided = deb::ParseRelations(r.provides, deb::RelationKind::kProvides);
    if (!provided) continue;  // a damaged Provides names nothing; the package is still listed
    for (const auto& group : *provided) answers.emplace(std::string(group[0].name), r.package.name);
  }
  // The licences of each source package, for packages whose doc directory is another's.
  std::map<std::string, std::string> license_of_source;
  for (auto& r : records) {
    if (*r.copyright) {
      r.package.license = sbom::LicenseExpression(**r.copyright);
      doc.license_texts.merge(sbom::LicenseRefTexts(**r.copyright));
    }
    std::string source = r.package.source.empty() ? r.package.name : r.package.source;
    if (!r.package.license.empty()) license_of_source.emplace(source, r.package.license);
  }
  std::map<std::string, const spec::LockedPackage*> locked;
  if (lock) {
    for (const auto& p : lock->packages) locked.emplace(p.name, &p);
  }

  std::vector<sbom::Package>& out = doc.packages;
  out.clear();
  for (auto& r : records) {
    sbom::Package& p = r.package;
    if (p.license.empty()) {
      auto it = license_of_source.find(p.source.empty() ? p.name : p.source);
      if (it != license_of_source.end()) p.license = it->second;
    }
    auto depends = deb::ParseRelations(r.depends);
    if (!depends) {
      return Fail(depends.error().Wrap(fmt::format("package {}: Depends", p.name)));
    }
    std::set<std::string> names;
    for (const auto& group : *depends) {
      for (const auto& atom : group) {
        auto it = answers.find(atom.name);
        if (it == answers.end() || it->second == p.name) continue;
        names.insert(it->second);
        break;
      }
    }
    p.depends.assign(names.begin(), names.end());
    if (auto it = locked.find(p.name); it != locked.end() && it->second->version == p.version) {
      p.sha256 = it->second->sha256;
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const sbom::Package& a, const sbom::Package& b) {
    return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
  });
  return {};
}

std::pair<std::string, std::string> SplitSource(std::string_view field) {
  std::string_view name = field.substr(0, field.find(' '));
  std::string version;
  if (auto open = field.find('('); open != std::string_view::npos) {
    auto close = field.find(')', open);
    version = std::string(field.substr(open + 1, close - open - 1));
  }
  return {std::string(name), version};
}

std::map<std::string, std::string> ParseOsRelease(std::string_view os_release) {
  std::map<std::string, std::string> fields;
  while (!os_release.empty()) {
    std::string_view line = os_release.substr(0, os_release.find('\n'));
    os_release.remove_prefix(std::min(os_release.size(), line.size() + 1));
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    fields[std::string(line.substr(0, eq))] = value;
  }
  return fields;
}

std::string DistroFromOsRelease(std::string_view os_release) {
  auto fields = ParseOsRelease(os_release);
  std::string id = fields.count("ID") ? fields["ID"] : "debian";
  std::string version = fields.count("VERSION_ID") ? fields["VERSION_ID"] : "unknown";
  return id + "-" + version;
}

Result<sbom::Document> DescribeImage(oci::ImageSource& source, const oci::PlatformImage& image,
                                     std::string name, const spec::ArchLock* lock) {
  auto wanted = [](std::string_view path) {
    if (IsPackageDatabasePath(path) || path == "etc/os-release" || path == "usr/lib/os-release") {
      return true;
    }
    return path.starts_with(kDocDir) && path.ends_with("/copyright") &&
           path.find('/', kDocDir.size()) == path.size() - std::string_view("/copyright").size();
  };
  HB_TRY(auto files, oci::ReadImageFiles(source, image.manifest, wanted));

  HB_TRY(auto stanzas, InstalledStanzas(files));
  std::vector<InstalledPackage> installed;
  for (auto& text : stanzas) installed.push_back({std::move(text), std::nullopt});
  for (auto& i : installed) {
    auto stanzas = deb::ParseControl(i.status);
    if (!stanzas || stanzas->empty()) continue;
    auto it = files.find(fmt::format("{}{}/copyright", kDocDir, (*stanzas)[0].Get("Package")));
    if (it != files.end()) i.copyright = it->second;
  }

  sbom::Document doc;
  doc.name = std::move(name);
  doc.image_digest = image.descriptor.digest;
  HB_TRY_VOID(WithContext(DescribePackages(installed, lock, doc), "dpkg database"));
  auto os_release = files.find("etc/os-release");
  if (os_release == files.end()) os_release = files.find("usr/lib/os-release");
  if (os_release != files.end()) doc.distro = DistroFromOsRelease(os_release->second);
  doc.architecture = image.config.platform.architecture;
  // The image's Debian architecture is that of its architecture-specific packages.
  for (const auto& p : doc.packages) {
    if (p.architecture != "all" && !p.architecture.empty()) {
      doc.architecture = p.architecture;
      break;
    }
  }
  doc.created = image.config.created;
  doc.tool_version = std::string(HardbaseVersion());
  return doc;
}

std::span<const std::string_view> SbomFormatNames() { return kSbomFormatNames; }

Result<SbomFormat> ParseSbomFormat(std::string_view name) {
  for (size_t i = 0; i < kSbomFormatNames.size(); ++i) {
    if (kSbomFormatNames[i] == name) return kSbomFormatOf[i];
  }
  return Fail(ErrorCode::kUsage,
              fmt::format("unknown SBOM format '{}': use spdx-json or cyclonedx-json", name));
}

std::string_view SbomMediaType(SbomFormat format) {
  return format == SbomFormat::kSpdx ? kSpdxMediaType : kCycloneDxMediaType;
}

std::string SbomJson(const sbom::Document& document, SbomFormat format) {
  return format == SbomFormat::kSpdx ? sbom::SpdxJson(document) : sbom::CycloneDxJson(document);
}

std::string SlsaProvenancePredicate(const BuildInputs& in) {
  using json = nlohmann::ordered_json;
  json deps = json::array();
  if (in.packages) {
    for (const auto& p : in.packages->packages) {
      sbom::Package sp;
      sp.name = p.name;
      sp.version = p.version;
      sp.architecture = p.architecture;
      sp.source = p.source == p.name ? "" : p.source;
      sp.source_version = p.source_version == p.version ? "" : p.source_version;
      deps.push_back({{"uri", sbom::PackageUrl(sp, in.distro)},
                      {"digest", {{"sha256", p.sha256}}},
                      {"name", p.filename}});
    }
  }
  json builder = {{"id", "https://hardbase.dev/builder/cli"},
                  {"version", {{"hardbase", std::string(HardbaseVersion())}}}};
  json predicate = {
      {"buildDefinition",
       {{"buildType", "https://hardbase.dev/build/v1"},
        {"externalParameters",
         {{"spec", {{"path", in.spec_path}, {"digest", {{"sha256", in.spec_sha256}}}}},
          {"lock", {{"path", in.lock_path}, {"digest", {{"sha256", in.lock_sha256}}}}},
          {"architecture", in.arch},
          {"compression", in.compression},
          {"sourceDateEpoch", in.source_date_epoch}}},
        {"resolvedDependencies", deps}}},
      {"runDetails", {{"builder", builder}}}};
  return predicate.dump();
}

}  // namespace hardbase::pipeline
