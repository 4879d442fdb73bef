#include "pipeline/package_layers.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "base/sha256.h"
#include "deb/control.h"
#include "deb/deb_archive.h"

namespace hardbase::pipeline {
namespace {

using nlohmann::json;

// Bump when anything changes what a package's layer or record holds.
constexpr std::string_view kLayerFormat = "hardbase-package-layer-3";

char TypeChar(oci::LayerEntryType t) {
  switch (t) {
    case oci::LayerEntryType::kFile:
      return 'f';
    case oci::LayerEntryType::kDirectory:
      return 'd';
    case oci::LayerEntryType::kSymlink:
      return 'l';
    case oci::LayerEntryType::kHardlink:
      return 'h';
  }
  return 'f';
}

std::optional<oci::LayerEntryType> TypeFromChar(std::string_view c) {
  if (c == "f") return oci::LayerEntryType::kFile;
  if (c == "d") return oci::LayerEntryType::kDirectory;
  if (c == "l") return oci::LayerEntryType::kSymlink;
  if (c == "h") return oci::LayerEntryType::kHardlink;
  return std::nullopt;
}

json FactsToJson(const image::PackageFacts& f) {
  json j = json::object();
  json certs = json::array();
  for (const auto& c : f.ca_certificates) certs.push_back({c.name, c.pem});
  j["ca"] = certs;
  if (f.ca_certificates_conf) j["caConf"] = *f.ca_certificates_conf;
  if (f.passwd_master) j["passwd"] = *f.passwd_master;
  if (f.group_master) j["group"] = *f.group_master;
  json alts = json::array();
  for (const auto& a : f.alternatives) alts.push_back({a.link, a.name, a.target, a.priority});
  j["alternatives"] = alts;
  j["status"] = f.status;
  if (f.copyright) j["copyright"] = *f.copyright;
  if (f.os_release) j["osRelease"] = *f.os_release;
  return j;
}

image::PackageFacts FactsFromJson(const json& j) {
  image::PackageFacts f;
  for (const auto& c : j.at("ca")) f.ca_certificates.push_back({c.at(0), c.at(1)});
  if (j.contains("caConf")) f.ca_certificates_conf = j.at("caConf").get<std::string>();
  if (j.contains("passwd")) f.passwd_master = j.at("passwd").get<std::string>();
  if (j.contains("group")) f.group_master = j.at("group").get<std::string>();
  for (const auto& a : j.at("alternatives")) {
    f.alternatives.push_back({a.at(0), a.at(1), a.at(2), a.at(3).get<int64_t>()});
  }
  f.status = j.at("status").get<std::string>();
  if (j.contains("copyright")) f.copyright = j.at("copyright").get<std::string>();
  if (j.contains("osRelease")) f.os_release = j.at("osRelease").get<std::string>();
  return f;
}

std::string RecordJson(const PackageLayer& l) {
  json entries = json::array();
  for (const auto& [path, e] : l.entries) {
    entries.push_back({path, std::string(1, TypeChar(e.type)), e.mode, e.link_target, e.sha256});
  }
  json j = {{"format", kLayerFormat},
            {"digest", l.layer.digest},
            {"size", l.layer.size},
            {"diffId", l.layer.diff_id},
            {"entries", entries},
            {"facts", FactsToJson(l.facts)},
            {"includeHits", l.include_hits},
            {"excludeHits", l.exclude_hits},
            {"stripped", l.stripped},
            {"privilegesCleared", l.privileges_cleared}};
  return j.dump();
}

// nullopt for a record this version cannot use (another format, damaged): it is rebuilt.
std::optional<PackageLayer> ParseRecord(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kLayerFormat) {
    return std::nullopt;
  }
  try {
    PackageLayer l;
    l.layer = {j.at("digest"), j.at("size"), j.at("diffId")};
    for (const auto& e : j.at("entries")) {
      auto type = TypeFromChar(e.at(1).get<std::string>());
      if (!type) return std::nullopt;
      l.entries.push_back({e.at(0), image::ViewEntry{*type, e.at(2), e.at(3), e.at(4)}});
    }
    l.facts = FactsFromJson(j.at("facts"));
    l.include_hits = j.at("includeHits").get<std::vector<uint64_t>>();
    l.exclude_hits = j.at("excludeHits").get<std::vector<uint64_t>>();
    l.stripped = j.at("stripped");
    l.privileges_cleared = j.at("privilegesCleared");
    if (!IsSha256Hex(l.layer.digest) || !IsSha256Hex(l.layer.diff_id)) return std::nullopt;
    return l;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// A package's own control file must name what the lock names: the image's status.d record comes
// from the control file, the SBOM and the scan from the lock, and a .deb calling itself something
// else (or a lock pointing at another package's .deb) would make them describe another package
// than the one shipped, hiding its vulnerabilities.
Result<void> CheckControlMatchesLock(const deb::DebContents& deb,
                                     const spec::LockedPackage& package) {
  auto control = deb.control_files.find("control");
  if (control == deb.control_files.end()) return Fail(ErrorCode::kIntegrity, "no control file");
  auto stanzas = deb::ParseControl(control->second);
  if (!stanzas) {  // the package's fault, not the user's: an integrity error, not a spec error
    return Fail(ErrorCode::kIntegrity, "control file: " + stanzas.error().message);
  }
  if (stanzas->size() != 1) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("control file has {} stanzas, not one", stanzas->size()));
  }
  for (auto [field, locked] : {std::pair{"Package", std::string_view(package.name)},
                               std::pair{"Version", std::string_view(package.version)},
                               std::pair{"Architecture", std::string_view(package.architecture)}}) {
    std::string_view found = (*stanzas)[0].Get(field);
    if (found != locked) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("control file says {} '{}' where the lock says '{}'", field,
                              Printable(found), Printable(locked)));
    }
  }
  return {};
}

Result<LayerInfo> CompressAndStore(cache::BlobStore& store, const std::string& tar,
                                   oci::Compression compression) {
  LayerInfo info;
  info.diff_id = Sha256Hex(tar);
  HB_TRY(std::string compressed, oci::CompressLayer(tar, compression));
  info.size = compressed.size();
  HB_TRY(info.digest, store.Put(compressed));
  return info;
}

}  // namespace

std::string PackageLayerKey(const spec::LockedPackage& package,
                            const PackageLayerSettings& settings) {
  // The identity the control file was checked against is part of the key: a layer built (and
  // checked) for one name, version or architecture is never reused under another.
  return Sha256Hex(fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n", kLayerFormat, package.name,
                               package.version, package.architecture, package.sha256,
                               settings.policy->Digest(), settings.clamp_epoch,
                               oci::CompressionFingerprint(settings.compression)));
}

Result<std::optional<PackageLayer>> FindPackageLayer(cache::BlobStore& store,
                                                     const std::string& key) {
  HB_TRY(auto text, store.ReadMeta("layer-" + key));
  if (!text) return std::nullopt;
  auto record = ParseRecord(*text);
  if (!record) return std::nullopt;
  HB_TRY(auto blob, store.Find(record->layer.digest));
  if (!blob) return std::nullopt;
  return record;
}

Result<PackageLayer> BuildPackageLayer(cache::BlobStore& store, const spec::LockedPackage& package,
                                       const PackageLayerSettings& settings,
                                       const std::string& key) {
  std::string what = fmt::format("{} {} ({})", package.name, package.version, package.filename);
  HB_TRY(auto bytes, store.Read(package.sha256));
  if (!bytes) {
    return Fail(ErrorCode::kNotFound,
                "package " + what + " is not in the cache: run hardbase fetch");
  }
  HB_TRY(deb::DebContents deb, deb::ReadDeb(*bytes, package.filename));
  bytes.reset();
  HB_TRY_VOID(WithContext(CheckControlMatchesLock(deb, package), "package " + what));
  HB_TRY(image::PackageFiles files,
         image::PackageLayerFiles(deb, package.name, *settings.policy, settings.clamp_epoch));
  PackageLayer out;
  out.entries.reserve(files.entries.size());
  for (const auto& e : files.entries) {
    out.entries.push_back({e.path, image::ViewEntryOf(e)});
  }
  out.facts = std::move(files.facts);
  out.include_hits = std::move(files.include_hits);
  out.exclude_hits = std::move(files.exclude_hits);
  out.stripped = files.stripped;
  out.privileges_cleared = files.privileges_cleared;
  HB_TRY(std::string tar,
         WithContext(oci::WriteLayerTar(std::move(files.entries)), "package " + what));
  deb = {};
  HB_TRY(out.layer, CompressAndStore(store, tar, settings.compression));
  HB_TRY_VOID(store.WriteMeta("layer-" + key, RecordJson(out)));
  return out;
}

Result<LayerInfo> StoreGeneratedLayer(cache::BlobStore& store, const std::string& tar,
                                      oci::Compression compression) {
  std::string diff_id = Sha256Hex(tar);
  std::string key =
      fmt::format("compressed-{}-{}",
                  Sha256Hex(oci::CompressionFingerprint(compression)).substr(0, 16), diff_id);
  HB_TRY(auto record, store.ReadMeta(key));
  if (record) {
    json j = json::parse(*record, nullptr, false);
    if (j.is_object() && j.contains("digest") && j["digest"].is_string() &&
        IsSha256Hex(j["digest"].get<std::string>())) {
      HB_TRY(auto blob, store.Find(j["digest"].get<std::string>()));
      if (blob) return LayerInfo{j["digest"], std::filesystem::file_size(*blob), diff_id};
    }
  }
  HB_TRY(LayerInfo info, CompressAndStore(store, tar, compression));
  HB_TRY_VOID(store.WriteMeta(key, json({{"digest", info.digest}, {"size", info.size}}).dump()));
  return info;
}

}  // namespace hardbase::pipeline
