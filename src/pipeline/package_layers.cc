#include "pipeline/package_layers.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/printable.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deb/control.h"
#include "deb/deb_archive.h"
#include "deb/decompress.h"
#include "oci/tar_writer.h"

namespace hardbase::pipeline {
namespace {

using nlohmann::json;

// Bump when anything changes what a package's layer or record holds.
constexpr std::string_view kLayerFormat = "hardbase-package-layer-9";

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

// JSON holds UTF-8 only: a text that is not (a maintainer script in Latin-1, a file name in
// another encoding) is kept as {"base64": ...}.
json TextToJson(std::string_view text) {
  for (std::string_view rest = text; !rest.empty();) {
    char32_t c;
    size_t n = DecodeUtf8(rest, &c);
    if (n == 0) return json{{"base64", Base64Encode(text)}};
    rest.remove_prefix(n);
  }
  return std::string(text);
}

// Throws json::exception for a damaged record, which is then rebuilt.
std::string TextFromJson(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  auto bytes = Base64Decode(j.at("base64").get<std::string>());
  if (!bytes) throw json::other_error::create(501, bytes.error().message, &j);
  return std::move(*bytes);
}

using SetupKind = image::SetupAction::Kind;
constexpr std::pair<SetupKind, std::string_view> kSetupKinds[] = {
    {SetupKind::kGroup, "group"},     {SetupKind::kUser, "user"},   {SetupKind::kMember, "member"},
    {SetupKind::kDir, "dir"},         {SetupKind::kChown, "chown"}, {SetupKind::kChmod, "chmod"},
    {SetupKind::kSymlink, "symlink"}, {SetupKind::kCopy, "copy"},   {SetupKind::kFile, "file"}};

using ConditionKind = image::SetupCondition::Kind;
constexpr std::pair<ConditionKind, std::string_view> kConditionKinds[] = {
    {ConditionKind::kPath, "path"},
    {ConditionKind::kUser, "user"},
    {ConditionKind::kGroup, "group"}};

template <class Kind, size_t N>
std::string_view KindName(const std::pair<Kind, std::string_view> (&names)[N], Kind kind) {
  for (auto [k, name] : names) {
    if (k == kind) return name;
  }
  return "";
}

// Throws json::exception for an unknown name: the record is then rebuilt.
template <class Kind, size_t N>
Kind KindFromJson(const std::pair<Kind, std::string_view> (&names)[N], const json& j) {
  std::string name = j.get<std::string>();
  for (auto [k, n] : names) {
    if (n == name) return k;
  }
  throw json::other_error::create(501, "unknown kind " + name, &j);
}

json ConditionsToJson(const std::vector<image::SetupCondition>& when) {
  json out = json::array();
  for (const auto& c : when) {
    out.push_back({KindName(kConditionKinds, c.kind), TextToJson(c.name), c.exists, c.test});
  }
  return out;
}

std::vector<image::SetupCondition> ConditionsFromJson(const json& j) {
  std::vector<image::SetupCondition> out;
  for (const auto& c : j) {
    out.push_back({KindFromJson(kConditionKinds, c.at(0)), TextFromJson(c.at(1)),
                   c.at(2).get<bool>(), c.at(3).get<uint32_t>()});
  }
  return out;
}

json SetupActionToJson(const image::SetupAction& a) {
  json j = {{"kind", KindName(kSetupKinds, a.kind)},
            {"name", TextToJson(a.name)},
            {"group", TextToJson(a.group)},
            {"system", a.system},
            {"home", TextToJson(a.home)},
            {"shell", TextToJson(a.shell)},
            {"gecos", TextToJson(a.gecos)},
            {"createHome", a.create_home},
            {"path", TextToJson(a.path)},
            {"target", TextToJson(a.target)},
            {"content", TextToJson(a.content)},
            {"symbolicMode", TextToJson(a.symbolic_mode)},
            {"user", TextToJson(a.user)},
            {"ownerGroup", TextToJson(a.owner_group)},
            {"recursive", a.recursive},
            {"when", ConditionsToJson(a.when)},
            {"origin", TextToJson(a.origin)}};
  if (a.id) j["id"] = *a.id;
  if (a.mode) j["mode"] = *a.mode;
  return j;
}

// Throws json::exception for a damaged record, which is then rebuilt.
image::SetupAction SetupActionFromJson(const json& j) {
  image::SetupAction a;
  a.kind = KindFromJson(kSetupKinds, j.at("kind"));
  a.name = TextFromJson(j.at("name"));
  a.group = TextFromJson(j.at("group"));
  a.system = j.at("system").get<bool>();
  a.home = TextFromJson(j.at("home"));
  a.shell = TextFromJson(j.at("shell"));
  a.gecos = TextFromJson(j.at("gecos"));
  a.create_home = j.at("createHome").get<bool>();
  a.path = TextFromJson(j.at("path"));
  a.target = TextFromJson(j.at("target"));
  a.content = TextFromJson(j.at("content"));
  a.symbolic_mode = TextFromJson(j.at("symbolicMode"));
  a.user = TextFromJson(j.at("user"));
  a.owner_group = TextFromJson(j.at("ownerGroup"));
  a.recursive = j.at("recursive").get<bool>();
  a.when = ConditionsFromJson(j.at("when"));
  a.origin = TextFromJson(j.at("origin"));
  if (j.contains("id")) a.id = j.at("id").get<uint32_t>();
  if (j.contains("mode")) a.mode = j.at("mode").get<uint32_t>();
  return a;
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
  json paths = json::array();
  for (const auto& p : f.dpkg_paths) paths.push_back(TextToJson(p));
  j["dpkgPaths"] = paths;
  j["md5sums"] = TextToJson(f.md5sums);
  json control = json::object();
  for (const auto& [name, text] : f.dpkg_control) control[name] = TextToJson(text);
  j["dpkgControl"] = control;
  json setup = json::array();
  for (const auto& a : f.setup) setup.push_back(SetupActionToJson(a));
  j["setup"] = setup;
  json not_applied = json::array();
  for (const auto& n : f.not_applied) {
    not_applied.push_back({TextToJson(n.origin), TextToJson(n.text), ConditionsToJson(n.when)});
  }
  j["notApplied"] = not_applied;
  json interpreters = json::array();
  for (const auto& [path, interpreter] : f.interpreters) {
    interpreters.push_back({TextToJson(path), TextToJson(interpreter)});
  }
  j["interpreters"] = interpreters;
  json setup_files = json::array();
  for (const auto& [path, text] : f.setup_files) {
    setup_files.push_back({TextToJson(path), TextToJson(text)});
  }
  j["setupFiles"] = setup_files;
  json elf = json::array();
  for (const auto& file : f.elf_files) {
    if (!file.identity) {
      elf.push_back(json::array({TextToJson(file.path)}));
      continue;
    }
    elf.push_back({TextToJson(file.path), file.identity->elf_class, file.identity->data,
                   file.identity->machine});
  }
  j["elf"] = elf;
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
  for (const auto& p : j.at("dpkgPaths")) f.dpkg_paths.push_back(TextFromJson(p));
  f.md5sums = TextFromJson(j.at("md5sums"));
  for (const auto& [name, text] : j.at("dpkgControl").items()) {
    f.dpkg_control.emplace(name, TextFromJson(text));
  }
  for (const auto& a : j.at("setup")) f.setup.push_back(SetupActionFromJson(a));
  for (const auto& n : j.at("notApplied")) {
    f.not_applied.push_back(
        {TextFromJson(n.at(0)), TextFromJson(n.at(1)), ConditionsFromJson(n.at(2))});
  }
  for (const auto& i : j.at("interpreters")) {
    f.interpreters.emplace_back(TextFromJson(i.at(0)), TextFromJson(i.at(1)));
  }
  for (const auto& s : j.at("setupFiles")) {
    f.setup_files.emplace(TextFromJson(s.at(0)), TextFromJson(s.at(1)));
  }
  for (const auto& e : j.at("elf")) {
    image::ElfFile file{TextFromJson(e.at(0)), std::nullopt};
    if (e.size() > 1) {
      file.identity = image::ElfIdentity{e.at(1).get<uint8_t>(), e.at(2).get<uint8_t>(),
                                         e.at(3).get<uint16_t>()};
    }
    f.elf_files.push_back(std::move(file));
  }
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

// The most a package layer's tar may hold: the biggest Debian packages unpack to a few GiB.
constexpr uint64_t kMaxLayerTar = uint64_t{64} << 30;

// The uncompressed tar of a cached layer, checked against its diff_id.
Result<std::string> ReadLayerTar(cache::BlobStore& store, const LayerInfo& layer) {
  HB_TRY(auto path, store.Find(layer.digest));
  if (!path) return Fail(ErrorCode::kIo, "layer " + layer.digest + " vanished from the cache");
  HB_TRY(std::string compressed, ReadFile(*path));
  HB_TRY(std::string tar,
         deb::Decompress(compressed, "cached layer " + layer.digest, kMaxLayerTar));
  if (Sha256Hex(tar) != layer.diff_id) {
    return Fail(ErrorCode::kIntegrity,
                "cached layer " + layer.digest + " does not hold the tar its record names");
  }
  return tar;
}

// Whether a cached layer decompresses to the tar its diff_id names, hashed as it is decompressed
// so that a layer of any size (or a decompression bomb from elsewhere) costs no memory.
Result<void> CheckDiffId(cache::BlobStore& store, const LayerInfo& layer) {
  HB_TRY(auto path, store.Find(layer.digest));
  if (!path) return Fail(ErrorCode::kIo, "layer " + layer.digest + " vanished from the cache");
  HB_TRY(std::string compressed, ReadFile(*path));
  const std::string what = "cached layer " + layer.digest;
  HB_TRY(auto decoder,
         WithContext(deb::OpenDecoder(deb::DetectCompression(compressed), compressed, kMaxLayerTar),
                     what));
  Sha256 tar;
  for (;;) {
    HB_TRY(std::string_view piece, WithContext(decoder->Next(), what));
    if (piece.empty()) break;
    tar.Update(piece);
  }
  if (tar.HexDigest() != layer.diff_id) {
    return Fail(ErrorCode::kIntegrity, what + " does not hold the tar its record names");
  }
  return {};
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

Result<std::optional<std::string>> PackageLayerRecord(cache::BlobStore& store,
                                                      const std::string& key) {
  return store.ReadMeta("layer-" + key);
}

Result<PackageLayer> AdoptPackageLayer(cache::BlobStore& store, const std::string& key,
                                       std::string_view record, const oci::Descriptor& blob) {
  auto layer = ParseRecord(record);
  if (!layer) return Fail(ErrorCode::kIntegrity, "layer record of another format or damaged");
  if ("sha256:" + layer->layer.digest != blob.digest ||
      layer->layer.size != static_cast<uint64_t>(blob.size)) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("layer record names blob sha256:{} of {} bytes, not {} of {}",
                            layer->layer.digest, layer->layer.size, blob.digest, blob.size));
  }
  HB_TRY_VOID(CheckDiffId(store, layer->layer));
  HB_TRY_VOID(store.WriteMeta("layer-" + key, record));
  return std::move(*layer);
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

Result<LayerInfo> MergePackageLayers(cache::BlobStore& store, const std::vector<LayerInfo>& layers,
                                     oci::Compression compression) {
  std::string members;
  for (const LayerInfo& l : layers) members += l.diff_id + "\n";
  const std::string key =
      fmt::format("merged-{}-{}", Sha256Hex(oci::CompressionFingerprint(compression)).substr(0, 16),
                  Sha256Hex(members));
  HB_TRY(auto record, store.ReadMeta(key));
  if (record) {
    json j = json::parse(*record, nullptr, false);
    if (j.is_object() && j["digest"].is_string() && j["diff_id"].is_string() &&
        IsSha256Hex(j["digest"].get<std::string>()) &&
        IsSha256Hex(j["diff_id"].get<std::string>())) {
      HB_TRY(auto blob, store.Find(j["digest"].get<std::string>()));
      if (blob) {
        return LayerInfo{j["digest"], std::filesystem::file_size(*blob), j["diff_id"]};
      }
    }
  }
  std::vector<std::string> tars;
  for (const LayerInfo& l : layers) {
    HB_TRY(std::string member, ReadLayerTar(store, l));
    tars.push_back(std::move(member));
  }
  HB_TRY(std::string tar, oci::MergeLayerTars(tars));
  HB_TRY(LayerInfo info, CompressAndStore(store, tar, compression));
  HB_TRY_VOID(store.WriteMeta(
      key, json({{"digest", info.digest}, {"size", info.size}, {"diff_id", info.diff_id}}).dump()));
  return info;
}

}  // namespace hardbase::pipeline
