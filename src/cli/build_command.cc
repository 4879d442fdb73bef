// `hardbase build SPEC -o OUT [--lock FILE | --locked] [--format F] [--tag T] [--compression C]
//  [--sign-key K] [--allow-outside-files]`
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "cli/command.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "pipeline/build_pipeline.h"

namespace hardbase::cli {
namespace {

struct BuildFlags {
  ImageBuildFlags image;
  std::string format = "oci";
  bool no_layer_cache = false;
  bool json = false;
};

// SOURCE_DATE_EPOCH, when set, overrides the lock's timestamp (reproducible-builds.org).
Result<std::optional<int64_t>> SourceDateEpoch() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n < 0) {
    return Fail(ErrorCode::kUsage,
                fmt::format("SOURCE_DATE_EPOCH='{}' is not a number of seconds", v));
  }
  return n;
}

}  // namespace

void AddImageBuildFlags(CLI::App* cmd, ImageBuildFlags& flags) {
  cmd->add_flag("--locked", flags.options.locked,
                "Build exactly the lock; fail if it is missing or stale (never re-resolve)");
  cmd->add_option("--tag", flags.options.tag, "Tag of the image in the output")
      ->capture_default_str();
  cmd->add_option("--compression", flags.compression, "Layer compression: gzip or zstd")
      ->check(CLI::IsMember(Choices(oci::CompressionNames())))
      ->capture_default_str();
  cmd->add_flag("--strict", flags.options.strict,
                "Fail when a `paths:` glob matches nothing, or an ELF file is for other "
                "processors where Debian ships such files (multilib, cross, firmware) "
                "(default: warn)");
  cmd->add_flag("--allow-outside-files", flags.options.allow_outside_files,
                "Let the spec's `files:` copy sources from outside its own directory tree "
                "(default: refused, symbolic links leading out included)");
  cmd->add_flag("--offline", flags.options.offline,
                "When the lock must be made: use the release files already in the cache");
  cmd->add_option("--apt-root", flags.options.apt_root,
                  "Read the default repositories from this root's etc/apt (default /)");
  cmd->add_option("--sign-key", flags.sign_key,
                  "Sign the image with this cosign key and attest its SPDX SBOM and SLSA "
                  "provenance (password from $COSIGN_PASSWORD or the terminal)");
  cmd->add_option("--cache-repo", flags.cache_repo,
                  "Share package layers through this registry repository (HOST/REPO): look "
                  "there for layers missing here, publish the ones it lacks");
  AddRegistryFlags(cmd, flags.registry);
}

Result<pipeline::BuildOptions> ImageBuildOptions(const ImageBuildFlags& flags,
                                                 ImageBuildResources& resources) {
  pipeline::BuildOptions options = flags.options;
  HB_TRY(options.compression, oci::ParseCompression(flags.compression));
  HB_TRY(options.source_date_epoch, SourceDateEpoch());
  if (!flags.sign_key.empty()) {
    HB_TRY(resources.key, LoadPrivateKey(flags.sign_key));
    options.sign_key = &*resources.key;
  }
  if (!flags.cache_repo.empty()) {
    HB_TRY(auto registry, RegistryOptionsFrom(flags.registry));
    HB_TRY(resources.remote_cache,
           pipeline::RemoteLayerCache::Open(flags.cache_repo, std::move(registry)));
    options.remote_cache = resources.remote_cache.get();
  }
  return options;
}

namespace {

Result<int> RunBuild(const BuildFlags& flags, const GlobalOptions& global) {
  ImageBuildResources resources;
  HB_TRY(pipeline::BuildOptions options, ImageBuildOptions(flags.image, resources));
  HB_TRY(options.format, oci::ParseOutputFormat(flags.format));
  options.layer_cache = !flags.no_layer_cache;
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  HB_TRY(pipeline::BuildResult result,
         WithContext(pipeline::BuildImage(options, *http, store), "build " + options.spec_path));
  for (const auto& w : result.warnings) LogWarn("{}", w);
  if (flags.json) {
    nlohmann::json archs = nlohmann::json::array();
    for (const auto& a : result.archs) {
      archs.push_back({{"arch", a.arch},
                       {"manifest", a.manifest_digest},
                       {"packages", a.packages},
                       {"layers", a.layers},
                       {"compressedBytes", a.compressed_bytes},
                       {"elfFiles", a.elf_files},
                       {"elfMachines", a.elf_machines}});
    }
    nlohmann::json j = {{"output", options.output},
                        {"digest", result.digest},
                        {"archs", archs},
                        {"layersBuilt", result.layers_built},
                        {"layersCached", result.layers_cached},
                        {"layersFetched", result.layers_fetched},
                        {"artifacts", result.artifacts},
                        {"leftOut", result.left_out},
                        {"warnings", result.warnings}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  for (const auto& a : result.archs) {
    LogInfo("{}: {} packages, {} layers, {} compressed, {} ELF files checked, manifest {}", a.arch,
            a.packages, a.layers, FormatMiB(a.compressed_bytes), a.elf_files, a.manifest_digest);
  }
  LogInfo("wrote {} ({} layers built, {} from the cache{})", options.output, result.layers_built,
          result.layers_cached,
          result.layers_fetched ? fmt::format(", {} of them fetched from {}", result.layers_fetched,
                                              options.remote_cache->Name())
                                : "");
  std::printf("%s\n", result.digest.c_str());
  return 0;
}

}  // namespace

void AddBuildCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<BuildFlags>();
  CLI::App* cmd = app.add_subcommand(
      "build", "Build a hardened OCI image from a spec and its lock; prints the image digest");
  pipeline::BuildOptions& options = flags->image.options;
  cmd->add_option("SPEC", options.spec_path, "The image spec (YAML)")->required();
  cmd->add_option("-o,--output", options.output, "Where to write the image")->required();
  cmd->add_option("--lock", options.lock_path, "Lock file (default: SPEC with .lock.json)");
  cmd->add_option("--format", flags->format,
                  "oci (a layout directory), oci-archive or docker-archive")
      ->check(CLI::IsMember(Choices(oci::OutputFormatNames())))
      ->capture_default_str();
  AddImageBuildFlags(cmd, flags->image);
  cmd->add_flag("--no-layer-cache", flags->no_layer_cache,
                "Rebuild every package layer instead of reusing cached ones");
  cmd->add_option("--reference", options.docker_reference,
                  "Repository the signatures name (default: the spec's name)");
  cmd->add_flag("--json", flags->json, "Print the result as JSON on stdout");
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunBuild(*flags, global); };
  });
}

}  // namespace hardbase::cli
