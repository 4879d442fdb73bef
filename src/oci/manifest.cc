#include "oci/manifest.h"

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "oci/image_ref.h"

namespace hardbase::oci {
namespace {

using Json = nlohmann::json;

// Thrown inside this file only, for a malformed field; the entry points turn it into kSpec.
struct BadField {
  std::string message;
};

[[noreturn]] void Bad(std::string_view where, std::string_view what) {
  throw BadField{std::string(where) + ": " + std::string(what)};
}

// obj[key] when present and not null.
const Json* Field(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string String(const Json& obj, std::string_view key, std::string_view where,
                   bool required = false) {
  const Json* v = Field(obj, key);
  if (!v) {
    if (required) Bad(where, "missing \"" + std::string(key) + "\"");
    return "";
  }
  if (!v->is_string()) Bad(where, "\"" + std::string(key) + "\" is not a string");
  return v->get<std::string>();
}

const Json& Object(const Json& obj, std::string_view key, std::string_view where) {
  const Json* v = Field(obj, key);
  if (!v || !v->is_object()) Bad(where, "\"" + std::string(key) + "\" is not an object");
  return *v;
}

std::vector<std::string> Strings(const Json& obj, std::string_view key, std::string_view where) {
  std::vector<std::string> out;
  const Json* v = Field(obj, key);
  if (!v) return out;
  if (!v->is_array()) Bad(where, "\"" + std::string(key) + "\" is not an array");
  for (const auto& s : *v) {
    if (!s.is_string()) Bad(where, "\"" + std::string(key) + "\" holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> StringMap(const Json& obj, std::string_view key,
                                             std::string_view where) {
  std::map<std::string, std::string> out;
  const Json* v = Field(obj, key);
  if (!v) return out;
  if (!v->is_object()) Bad(where, "\"" + std::string(key) + "\" is not an object");
  for (const auto& [k, s] : v->items()) {
    if (!s.is_string()) Bad(where, "\"" + std::string(key) + "." + k + "\" is not a string");
    out.emplace(k, s.get<std::string>());
  }
  return out;
}

Descriptor ParseDescriptor(const Json& json, const std::string& where) {
  if (!json.is_object()) Bad(where, "not an object");
  Descriptor d;
  d.media_type = String(json, "mediaType", where, true);
  d.digest = String(json, "digest", where, true);
  if (!IsSha256Digest(d.digest)) {
    Bad(where, d.digest.find(':') == std::string::npos || d.digest.starts_with("sha256:")
                   ? "'" + d.digest + "' is not a digest"
                   : "unsupported digest algorithm in '" + d.digest + "'");
  }
  const Json* size = Field(json, "size");
  if (!size || !size->is_number_integer() ||
      (size->is_number_unsigned() && size->get<uint64_t>() > INT64_MAX) ||
      size->get<int64_t>() < 0) {
    Bad(where, "\"size\" is not a non-negative integer");
  }
  d.size = size->get<int64_t>();
  d.artifact_type = String(json, "artifactType", where);
  d.annotations = StringMap(json, "annotations", where);
  if (Field(json, "platform")) {
    const Json& p = Object(json, "platform", where);
    std::string at = where + ".platform";
    d.platform = Platform{String(p, "architecture", at, true), String(p, "os", at, true),
                          String(p, "variant", at)};
  }
  return d;
}

std::vector<Descriptor> Descriptors(const Json& obj, std::string_view key) {
  const Json* v = Field(obj, key);
  if (!v || !v->is_array()) Bad("", "\"" + std::string(key) + "\" is not an array");
  std::vector<Descriptor> out;
  for (size_t i = 0; i < v->size(); ++i) {
    out.push_back(ParseDescriptor((*v)[i], std::string(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

// Parses `text` as a JSON object and hands it to `parse`, turning every failure into kSpec.
template <class T, class F>
Result<T> ParseDocument(std::string_view text, std::string_view kind, F parse) {
  std::string context = "malformed " + std::string(kind);
  Json json = ParseUntrustedJsonOrDiscarded(text);
  if (json.is_discarded()) return Fail(ErrorCode::kSpec, context + ": not valid JSON");
  if (!json.is_object()) return Fail(ErrorCode::kSpec, context + ": not a JSON object");
  try {
    return parse(json);
  } catch (const BadField& e) {
    std::string_view m = e.message;
    if (m.starts_with(": ")) m.remove_prefix(2);
    return Fail(ErrorCode::kSpec, context + ": " + std::string(m));
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kSpec, context + ": " + e.what());
  }
}

void CheckSchemaVersion(const Json& json) {
  const Json* v = Field(json, "schemaVersion");
  if (!v || !v->is_number_integer() || v->get<int64_t>() != 2) {
    Bad("", "\"schemaVersion\" is not 2");
  }
}

}  // namespace

bool IsManifestMediaType(std::string_view media_type) {
  return media_type == kMediaTypeManifest || media_type == kMediaTypeDockerManifest;
}

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == kMediaTypeIndex || media_type == kMediaTypeDockerManifestList;
}

bool IsLayerMediaType(std::string_view media_type) {
  for (std::string_view prefix : {"application/vnd.oci.image.layer.v1.tar",
                                  "application/vnd.oci.image.layer.nondistributable.v1.tar"}) {
    if (media_type.starts_with(prefix)) {
      std::string_view rest = media_type.substr(prefix.size());
      if (rest.empty() || rest == "+gzip" || rest == "+zstd") return true;
    }
  }
  return media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

Result<Manifest> ParseManifest(std::string_view text) {
  return ParseDocument<Manifest>(text, "image manifest", [](const Json& json) {
    CheckSchemaVersion(json);
    Manifest m;
    m.media_type = String(json, "mediaType", "");
    if (m.media_type.empty()) m.media_type = kMediaTypeManifest;
    if (!IsManifestMediaType(m.media_type)) Bad("", "mediaType '" + m.media_type + "'");
    m.config = ParseDescriptor(Object(json, "config", ""), "config");
    m.layers = Descriptors(json, "layers");
    if (Field(json, "subject")) m.subject = ParseDescriptor(json.at("subject"), "subject");
    m.artifact_type = String(json, "artifactType", "");
    m.annotations = StringMap(json, "annotations", "");
    return m;
  });
}

Result<Index> ParseIndex(std::string_view text) {
  return ParseDocument<Index>(text, "image index", [](const Json& json) {
    CheckSchemaVersion(json);
    Index index;
    index.media_type = String(json, "mediaType", "");
    if (index.media_type.empty()) index.media_type = kMediaTypeIndex;
    if (!IsIndexMediaType(index.media_type)) Bad("", "mediaType '" + index.media_type + "'");
    index.manifests = Descriptors(json, "manifests");
    index.annotations = StringMap(json, "annotations", "");
    return index;
  });
}

Result<ImageConfig> ParseConfig(std::string_view text) {
  return ParseDocument<ImageConfig>(text, "image config", [](const Json& json) {
    ImageConfig c;
    c.platform = Platform{String(json, "architecture", "", true), String(json, "os", "", true),
                          String(json, "variant", "")};
    c.created = String(json, "created", "");
    if (Field(json, "config")) {
      const Json& run = Object(json, "config", "");
      c.user = String(run, "User", "config");
      c.env = Strings(run, "Env", "config");
      c.entrypoint = Strings(run, "Entrypoint", "config");
      c.cmd = Strings(run, "Cmd", "config");
      c.working_dir = String(run, "WorkingDir", "config");
      c.labels = StringMap(run, "Labels", "config");
      if (const Json* ports = Field(run, "ExposedPorts")) {
        if (!ports->is_object()) Bad("config", "\"ExposedPorts\" is not an object");
        for (const auto& [port, _] : ports->items()) c.exposed_ports.push_back(port);
      }
      if (Field(run, "Healthcheck")) {
        c.healthcheck = Strings(Object(run, "Healthcheck", "config"), "Test", "config.Healthcheck");
      }
    }
    if (Field(json, "rootfs"))
      c.diff_ids = Strings(Object(json, "rootfs", ""), "diff_ids", "rootfs");
    for (const auto& id : c.diff_ids) {
      if (!IsSha256Digest(id)) Bad("rootfs.diff_ids", "'" + id + "' is not a sha256 digest");
    }
    if (const Json* history = Field(json, "history")) {
      if (!history->is_array()) Bad("", "\"history\" is not an array");
      for (const auto& h : *history) {
        if (!h.is_object()) Bad("history", "not an object");
        HistoryEntry e{String(h, "created", "history"), String(h, "created_by", "history"),
                       String(h, "comment", "history"), false};
        if (const Json* empty = Field(h, "empty_layer")) {
          if (!empty->is_boolean()) Bad("history", "\"empty_layer\" is not a boolean");
          e.empty_layer = empty->get<bool>();
        }
        c.history.push_back(std::move(e));
      }
    }
    return c;
  });
}

}  // namespace hardbase::oci
