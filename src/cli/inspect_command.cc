// `hardbase inspect REF [--json|--raw|--config]`: what an image is, read from wherever it is:
// digest, media type, platforms, and per platform its config (user, entrypoint, env, ...),
// layers, and the signatures and SBOMs attached to it.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "base/printable.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "oci/manifest.h"
#include "pipeline/inspect.h"
#include "registry/registry_source.h"

namespace hardbase::cli {
namespace {

struct InspectFlags {
  std::string image;
  RegistryFlags registry;
  bool json = false;
  bool raw = false;
  bool config = false;
  std::string platform;
};

// The artifacts attached to `digest`, as --json lists them.
Result<nlohmann::json> Attached(oci::ImageSource& source, const std::string& digest) {
  HB_TRY(auto attached, pipeline::AttachedArtifacts(source, digest));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : attached) {
    if (!a.tag.empty()) {
      out.push_back({{"tag", a.tag}, {"digest", a.digest}});
    } else {
      out.push_back({{"artifactType", a.artifact_type}, {"digest", a.digest}});
    }
  }
  return out;
}

Result<int> RunInspect(const InspectFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  HB_TRY(auto source, registry::OpenAnyImage(ref, options));
  HB_TRY(oci::Descriptor root, source->Root());
  HB_TRY(std::string root_bytes, source->ReadBlob(root));
  if (flags.raw) {
    std::fwrite(root_bytes.data(), 1, root_bytes.size(), stdout);
    return 0;
  }
  HB_TRY(auto all_platforms, oci::ResolvePlatforms(*source, root));
  HB_TRY(auto platforms,
         WithContext(oci::MatchingPlatforms(std::move(all_platforms), flags.platform),
                     "inspect " + flags.image));
  if (flags.config) {
    if (platforms.size() != 1) {
      return Fail(ErrorCode::kUsage,
                  "inspect --config: the image has several platforms; pick "
                  "one with --platform");
    }
    HB_TRY(std::string config, source->ReadBlob(platforms[0].manifest.config));
    std::fwrite(config.data(), 1, config.size(), stdout);
    return 0;
  }

  nlohmann::json out;
  out["name"] = ref.ToString();
  out["digest"] = root.digest;
  out["mediaType"] = root.media_type;
  out["size"] = root.size;
  out["manifest"] = ParseUntrustedJsonOrDiscarded(root_bytes);
  HB_TRY(out["attached"], Attached(*source, root.digest));
  out["platforms"] = nlohmann::json::array();
  for (const auto& p : platforms) {
    const oci::ImageConfig& c = p.config;
    int64_t layer_bytes = 0;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : p.manifest.layers) {
      layer_bytes += l.size;
      layers.push_back({{"digest", l.digest}, {"mediaType", l.media_type}, {"size", l.size}});
    }
    nlohmann::json entry = {{"platform", oci::PlatformName(c.platform)},
                            {"digest", p.descriptor.digest},
                            {"created", c.created},
                            {"user", c.user},
                            {"entrypoint", c.entrypoint},
                            {"cmd", c.cmd},
                            {"env", c.env},
                            {"workingDir", c.working_dir},
                            {"labels", c.labels},
                            {"layers", layers},
                            {"layerBytes", layer_bytes}};
    if (p.descriptor.digest != root.digest) {
      HB_TRY(entry["attached"], Attached(*source, p.descriptor.digest));
    }
    out["platforms"].push_back(std::move(entry));
  }
  // Config values and annotations need not be UTF-8: replaced, never an exception.
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  if (flags.json) {
    std::printf("%s\n", out.dump(2, ' ', false, kReplace).c_str());
    return 0;
  }
  // Every value comes from the image's author or its registry: escaped, so that none can start a
  // line of its own or send escape sequences.
  auto text = [](const nlohmann::json& value) { return Printable(value.get<std::string>()); };
  auto list = [&](const nlohmann::json& value) {
    return Printable(value.dump(-1, ' ', false, kReplace));
  };
  std::printf("Name:       %s\nDigest:     %s\nMediaType:  %s\n", Printable(ref.ToString()).c_str(),
              Printable(root.digest).c_str(), Printable(root.media_type).c_str());
  auto print_attached = [&](const nlohmann::json& attached) {
    for (const auto& a : attached) {
      std::printf("Attached:   %s %s\n",
                  text(a.contains("tag") ? a["tag"] : a["artifactType"]).c_str(),
                  text(a["digest"]).c_str());
    }
  };
  print_attached(out["attached"]);
  for (const auto& p : out["platforms"]) {
    std::printf("\nPlatform:   %s (%s)\n", text(p["platform"]).c_str(), text(p["digest"]).c_str());
    std::printf("Created:    %s\nUser:       %s\n", text(p["created"]).c_str(),
                text(p["user"]).c_str());
    std::printf("Entrypoint: %s\nCmd:        %s\n", list(p["entrypoint"]).c_str(),
                list(p["cmd"]).c_str());
    for (const auto& e : p["env"]) std::printf("Env:        %s\n", text(e).c_str());
    std::printf("Layers:     %zu (%s bytes)\n", p["layers"].size(),
                std::to_string(p["layerBytes"].get<int64_t>()).c_str());
    if (p.contains("attached")) print_attached(p["attached"]);
  }
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show an image's digest, platforms, config, layers and attached artifacts");
  cmd->add_option("IMAGE", flags->image, "[docker://]HOST/REPO[:TAG|@DIGEST], oci:DIR[:TAG], ...")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_flag("--json", flags->json, "Print JSON");
  cmd->add_flag("--raw", flags->raw, "Print the manifest (or index) exactly as stored");
  cmd->add_flag("--config", flags->config, "Print the image config exactly as stored");
  cmd->add_option("--platform", flags->platform, "Only this platform: amd64, linux/arm64, ...");
  cmd->callback([&runner, flags] { runner = [flags] { return RunInspect(*flags); }; });
}

}  // namespace hardbase::cli
