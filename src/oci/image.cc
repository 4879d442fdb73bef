#include "oci/image.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/sha256.h"

namespace hardbase::oci {
namespace {

using Json = nlohmann::ordered_json;

// Compact, and never throwing: a string that is not UTF-8 gets U+FFFD where it breaks.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json StringMap(const std::map<std::string, std::string>& map) {
  Json json = Json::object();
  for (const auto& [key, value] : map) json[key] = value;
  return json;
}

Json PlatformJson(const Platform& platform) {
  Json json = {{"architecture", platform.architecture}, {"os", platform.os}};
  if (!platform.variant.empty()) json["variant"] = platform.variant;
  return json;
}

Json DescriptorJson(const Descriptor& d) {
  Json json = {{"mediaType", d.media_type}};
  if (!d.artifact_type.empty()) json["artifactType"] = d.artifact_type;
  json["digest"] = d.digest;
  json["size"] = d.size;
  if (d.platform) json["platform"] = PlatformJson(*d.platform);
  if (!d.annotations.empty()) json["annotations"] = StringMap(d.annotations);
  return json;
}

}  // namespace

std::string PlatformName(const Platform& p) {
  return p.os + "/" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
}

Result<Platform> PlatformForDebianArch(std::string_view debian_arch) {
  struct Mapping {
    std::string_view debian, architecture, variant;
  };
  static constexpr Mapping kMappings[] = {
      {"amd64", "amd64", ""}, {"arm64", "arm64", "v8"},   {"armhf", "arm", "v7"},
      {"armel", "arm", "v5"}, {"i386", "386", ""},        {"ppc64el", "ppc64le", ""},
      {"s390x", "s390x", ""}, {"riscv64", "riscv64", ""}, {"mips64el", "mips64le", ""},
  };
  for (const auto& m : kMappings) {
    if (m.debian == debian_arch) {
      return Platform{std::string(m.architecture), "linux", std::string(m.variant)};
    }
  }
  return Fail(ErrorCode::kSpec,
              "Debian architecture '" + std::string(debian_arch) + "' has no OCI platform");
}

std::string_view DigestHex(std::string_view digest) {
  return digest.substr(std::min(digest.size(), std::string_view("sha256:").size()));
}

std::string RefName(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kAnnotationRefName));
  return it == d.annotations.end() ? "" : it->second;
}

Blob MakeBlob(std::string media_type, std::string bytes) {
  Blob blob;
  blob.descriptor.media_type = std::move(media_type);
  blob.descriptor.digest = "sha256:" + Sha256Hex(bytes);
  blob.descriptor.size = static_cast<int64_t>(bytes.size());
  blob.bytes = std::move(bytes);
  return blob;
}

std::string ConfigJson(const ImageConfig& config) {
  Json json = Json::object();
  if (!config.created.empty()) json["created"] = config.created;
  json["architecture"] = config.platform.architecture;
  if (!config.platform.variant.empty()) json["variant"] = config.platform.variant;
  json["os"] = config.platform.os;

  Json run = Json::object();
  if (!config.user.empty()) run["User"] = config.user;
  if (!config.env.empty()) run["Env"] = config.env;
  if (!config.entrypoint.empty()) run["Entrypoint"] = config.entrypoint;
  if (!config.cmd.empty()) run["Cmd"] = config.cmd;
  if (!config.working_dir.empty()) run["WorkingDir"] = config.working_dir;
  if (!config.labels.empty()) run["Labels"] = StringMap(config.labels);
  if (!config.exposed_ports.empty()) {
    run["ExposedPorts"] = Json::object();
    for (const auto& port : config.exposed_ports) run["ExposedPorts"][port] = Json::object();
  }
  if (!config.healthcheck.empty()) run["Healthcheck"] = {{"Test", config.healthcheck}};
  json["config"] = std::move(run);

  json["rootfs"] = {{"type", "layers"}, {"diff_ids", config.diff_ids}};
  if (!config.history.empty()) {
    Json history = Json::array();
    for (const auto& h : config.history) {
      Json entry = Json::object();
      if (!h.created.empty()) entry["created"] = h.created;
      entry["created_by"] = h.created_by;
      if (!h.comment.empty()) entry["comment"] = h.comment;
      if (h.empty_layer) entry["empty_layer"] = true;
      history.push_back(std::move(entry));
    }
    json["history"] = std::move(history);
  }
  return Dump(json);
}

std::string ManifestJson(const Descriptor& config, const std::vector<Descriptor>& layers,
                         const std::map<std::string, std::string>& annotations,
                         const std::optional<Descriptor>& subject, std::string_view artifact_type) {
  Json json = {{"schemaVersion", 2}, {"mediaType", kMediaTypeManifest}};
  if (!artifact_type.empty()) json["artifactType"] = artifact_type;
  json["config"] = DescriptorJson(config);
  json["layers"] = Json::array();
  for (const auto& layer : layers) json["layers"].push_back(DescriptorJson(layer));
  if (subject) json["subject"] = DescriptorJson(*subject);
  if (!annotations.empty()) json["annotations"] = StringMap(annotations);
  return Dump(json);
}

std::string IndexJson(const std::vector<Descriptor>& manifests,
                      const std::map<std::string, std::string>& annotations) {
  Json json = {{"schemaVersion", 2}, {"mediaType", kMediaTypeIndex}};
  json["manifests"] = Json::array();
  for (const auto& manifest : manifests) json["manifests"].push_back(DescriptorJson(manifest));
  if (!annotations.empty()) json["annotations"] = StringMap(annotations);
  return Dump(json);
}

}  // namespace hardbase::oci
