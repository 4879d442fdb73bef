#include "pipeline/build_record.h"

#include <nlohmann/json.hpp>

#include "apt/repositories.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/version.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "oci/layer.h"

namespace hardbase::pipeline {

Result<std::string> BuildInputsDigest(const BuildOptions& options, const PreparedBuild& prepared) {
  using json = nlohmann::ordered_json;
  HB_TRY(std::string spec_bytes, ReadFile(options.spec_path));
  json files = json::array();
  for (const auto& f : prepared.local_files) {
    files.push_back({{"path", f.path},
                     {"type", static_cast<int>(f.type)},
                     {"mode", f.mode ? json(*f.mode) : json(nullptr)},
                     {"executable", f.executable},
                     {"link", f.link_target},
                     {"sha256", f.content ? json(Sha256Hex(*f.content)) : json(nullptr)},
                     {"user", f.user},
                     {"group", f.group}});
  }
  json inputs = {{"hardbase", std::string(HardbaseVersion())},
                 {"spec", Sha256Hex(spec_bytes)},
                 {"lock", Sha256Hex(spec::LockToJson(prepared.lock))},
                 {"files", files},
                 {"epoch", prepared.epoch},
                 {"compression", std::string(oci::CompressionName(options.compression))},
                 {"format", static_cast<int>(options.format)},
                 {"tag", options.tag}};
  if (options.sign_key) {
    // The provenance names the spec and lock by path, and signatures name the reference.
    inputs["signer"] = Sha256Hex(options.sign_key->Public().Der());
    inputs["reference"] = options.docker_reference;
    inputs["spec_path"] = options.spec_path;
    inputs["lock_path"] = prepared.lock_path;
  }
  if (prepared.spec.variant == spec::Variant::kDev) {
    // A dev image ships the apt sources it was built from, keyrings included.
    HB_TRY(auto sources, apt::SuiteSourcesFor(prepared.spec, options.apt_root));
    json apt = json::array();
    for (const auto& s : sources) {
      json keyrings = json::array();
      for (const auto& path : s.keyring_paths) {
        HB_TRY(std::string key, ReadFile(path));
        keyrings.push_back({{"path", path}, {"sha256", Sha256Hex(key)}});
      }
      apt.push_back({{"uri", s.uri},
                     {"suite", s.suite},
                     {"components", s.components},
                     {"architectures", s.architectures},
                     {"inline_key", s.inline_key},
                     {"signers", s.allowed_signers},
                     {"keyrings", keyrings}});
    }
    inputs["apt"] = apt;
  }
  // Paths and names are the user's bytes: invalid UTF-8 is replaced, not a throw (the spec's own
  // bytes, hashed whole, still tell such specs apart).
  return "sha256:" + Sha256Hex(inputs.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::optional<std::string> BuiltFromInputs(const BuildOptions& options, std::string_view inputs) {
  if (options.format != oci::OutputFormat::kOciLayout || !PathExists(options.output)) {
    return std::nullopt;
  }
  oci::ImageRef ref;
  ref.path = options.output;
  auto source = oci::OpenImage(ref);
  if (!source) return std::nullopt;
  auto root = (*source)->ResolveTag(options.tag);
  if (!root) return std::nullopt;
  auto recorded = root->annotations.find(std::string(kAnnotationBuildInputs));
  if (recorded == root->annotations.end() || recorded->second != inputs) return std::nullopt;
  std::optional<std::string> blob = (*source)->BlobFile(*root);
  if (!blob || !PathExists(*blob)) return std::nullopt;
  return root->digest;
}

}  // namespace hardbase::pipeline
