#include "registry/responses.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "oci/image.h"

namespace hardbase::registry {
namespace {

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string RegistryErrorText(std::string_view body) {
  auto json = ParseUntrustedJsonOrDiscarded(body);
  std::string text;
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) return text;
  for (const auto& e : json["errors"]) {
    if (!e.is_object()) continue;
    if (!text.empty()) text += "; ";
    if (e.contains("code") && e["code"].is_string()) text += e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      text += ": " + e["message"].get<std::string>();
    }
  }
  return text;
}

std::optional<uint64_t> UploadOffset(std::string_view range) {
  if (range.starts_with("bytes=")) range.remove_prefix(6);
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = ParseDecimal(range.substr(0, dash));
  auto end = ParseDecimal(range.substr(dash + 1));
  if (!start || !end || *start != 0 || *end == UINT64_MAX) return std::nullopt;
  return *end == 0 ? 0 : *end + 1;
}

std::optional<std::string> NextLink(std::string_view link) {
  // Several links may be listed, comma-separated; targets cannot hold '>'.
  while (!link.empty()) {
    size_t open = link.find('<');
    if (open == std::string_view::npos) return std::nullopt;
    size_t close = link.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    size_t next = link.find('<', close);
    std::string_view params = link.substr(
        close + 1, next == std::string_view::npos ? std::string_view::npos : next - close - 1);
    if (params.find("rel=\"next\"") != std::string_view::npos ||
        params.find("rel=next") != std::string_view::npos) {
      return std::string(link.substr(open + 1, close - open - 1));
    }
    if (next == std::string_view::npos) return std::nullopt;
    link.remove_prefix(next);
  }
  return std::nullopt;
}

std::string ManifestMediaType(std::string_view bytes, std::string_view content_type) {
  auto json = ParseUntrustedJsonOrDiscarded(bytes);
  if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string() &&
      !json["mediaType"].get<std::string>().empty()) {
    return json["mediaType"].get<std::string>();
  }
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!type.empty() && type != "application/json") return std::string(type);
  if (json.is_object() && json.contains("manifests")) return std::string(oci::kMediaTypeIndex);
  return std::string(oci::kMediaTypeManifest);
}

}  // namespace hardbase::registry
