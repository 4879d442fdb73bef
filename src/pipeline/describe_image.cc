#include "pipeline/describe_image.h"

#include <fmt/format.h>

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "base/json_limits.h"
#include "base/purl.h"
#include "base/sha256.h"
#include "base/version.h"
#include "deb/control.h"
#include "deb/distro.h"
#include "deb/installed_package.h"
#include "deb/purl.h"
#include "deb/relation.h"
#include "image/installed_packages.h"
#include "sbom/copyright.h"

namespace hardbase::pipeline {
namespace {

constexpr std::string_view kDocDir = "usr/share/doc/";

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
    return Fail(ErrorCode::kSpec,
                fmt::format("a package's status record holds {} stanzas, not 1", stanzas.size()));
  }
  const deb::Stanza& s = stanzas[0];
  Record r;
  sbom::Package& p = r.package;
  p.name = s.Get("Package");
  p.version = s.Get("Version");
  if (p.name.empty() || p.version.empty()) {
    return Fail(ErrorCode::kSpec,
                fmt::format("status record at line {}: no Package or Version", s.line()));
  }
  p.architecture = s.Get("Architecture");
  auto [source, source_version] = deb::SplitSource(s.Get("Source"));
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

Result<sbom::Document> DescribeImage(oci::ImageSource& source, const oci::PlatformImage& image,
                                     std::string name, const spec::ArchLock* lock) {
  auto wanted = [](std::string_view path) {
    if (image::IsPackageDatabasePath(path) || path == "etc/os-release" ||
        path == "usr/lib/os-release") {
      return true;
    }
    return path.starts_with(kDocDir) && path.ends_with("/copyright") &&
           path.find('/', kDocDir.size()) == path.size() - std::string_view("/copyright").size();
  };
  HB_TRY(auto files, oci::ReadImageFiles(source, image.manifest, wanted));

  HB_TRY(auto stanzas, image::InstalledStanzas(files));
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
  if (os_release != files.end()) doc.distro = deb::ParseOsRelease(os_release->second);
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

namespace {

constexpr std::string_view kBuildType = "https://hardbase.dev/build/v1";

}  // namespace

std::string SlsaProvenancePredicate(const BuildInputs& in) {
  using json = nlohmann::ordered_json;
  json deps = json::array();
  if (in.packages) {
    for (const auto& p : in.packages->packages) {
      std::string purl =
          deb::PackagePurl(in.distro, p.name, p.version, p.architecture, p.source, p.source_version)
              .ToString();
      deps.push_back({{"uri", purl}, {"digest", {{"sha256", p.sha256}}}, {"name", p.filename}});
    }
  }
  json builder = {{"id", "https://hardbase.dev/builder/cli"},
                  {"version", {{"hardbase", std::string(HardbaseVersion())}}}};
  json predicate = {
      {"buildDefinition",
       {{"buildType", kBuildType},
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

Result<SlsaProvenance> ParseSlsaProvenance(std::string_view predicate_json) {
  using json = nlohmann::json;
  HB_TRY(json j, ParseUntrustedJson(predicate_json, "SLSA provenance"));
  if (!j.is_object()) return Fail(ErrorCode::kSpec, "SLSA provenance: not a JSON object");
  // The value at `pointer` of type `type`, or kSpec naming it.
  auto member = [&](const std::string& pointer, json::value_t type) -> Result<const json*> {
    const json::json_pointer at_pointer(pointer);
    if (!j.contains(at_pointer)) return Fail(ErrorCode::kSpec, "SLSA provenance: no " + pointer);
    const json* at = &j.at(at_pointer);
    bool number = type == json::value_t::number_integer &&
                  (at->is_number_integer() || at->is_number_unsigned());
    if (at->type() != type && !number) {
      return Fail(ErrorCode::kSpec, "SLSA provenance: " + pointer + " has the wrong type");
    }
    return at;
  };
  auto text = [&](const std::string& pointer) -> Result<std::string> {
    HB_TRY(const json* at, member(pointer, json::value_t::string));
    return at->get<std::string>();
  };
  auto sha256 = [&](const std::string& pointer) -> Result<std::string> {
    HB_TRY(std::string hex, text(pointer));
    if (!IsSha256Hex(hex)) {
      return Fail(ErrorCode::kSpec, "SLSA provenance: " + pointer + " is not a SHA-256 digest");
    }
    return hex;
  };
  HB_TRY(std::string build_type, text("/buildDefinition/buildType"));
  if (build_type != kBuildType) {
    return Fail(ErrorCode::kSpec, fmt::format("SLSA provenance: build type '{}' is not hardbase's "
                                              "({}): hardbase cannot rebuild it",
                                              build_type, kBuildType));
  }
  const std::string params = "/buildDefinition/externalParameters";
  SlsaProvenance out;
  HB_TRY(out.spec_path, text(params + "/spec/path"));
  HB_TRY(out.spec_sha256, sha256(params + "/spec/digest/sha256"));
  HB_TRY(out.lock_path, text(params + "/lock/path"));
  HB_TRY(out.lock_sha256, sha256(params + "/lock/digest/sha256"));
  HB_TRY(out.arch, text(params + "/architecture"));
  HB_TRY(out.compression, text(params + "/compression"));
  HB_TRY(const json* epoch, member(params + "/sourceDateEpoch", json::value_t::number_integer));
  if (epoch->is_number_unsigned()
          ? epoch->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
          : epoch->get<int64_t>() < 0) {
    return Fail(ErrorCode::kSpec,
                "SLSA provenance: " + params + "/sourceDateEpoch is out of range");
  }
  out.source_date_epoch = epoch->get<int64_t>();
  HB_TRY(out.hardbase_version, text("/runDetails/builder/version/hardbase"));
  HB_TRY(const json* deps, member("/buildDefinition/resolvedDependencies", json::value_t::array));
  for (size_t i = 0; i < deps->size(); ++i) {
    const std::string at = fmt::format("/buildDefinition/resolvedDependencies/{}", i);
    HB_TRY(std::string uri, text(at + "/uri"));
    HB_TRY(Purl purl, WithContext(Purl::Parse(uri), "SLSA provenance: " + at + "/uri"));
    auto arch = purl.qualifiers.find("arch");
    if (purl.type != "deb" || purl.version.empty() || arch == purl.qualifiers.end()) {
      return Fail(ErrorCode::kSpec, fmt::format("SLSA provenance: {}/uri '{}' is not a Debian "
                                                "package's purl with a version and an arch",
                                                at, uri));
    }
    SlsaProvenance::Deb deb{purl.name, purl.version, arch->second, "", ""};
    HB_TRY(deb.filename, text(at + "/name"));
    HB_TRY(deb.sha256, sha256(at + "/digest/sha256"));
    out.debs.push_back(std::move(deb));
  }
  return out;
}

}  // namespace hardbase::pipeline
