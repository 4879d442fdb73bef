#include "pipeline/migrate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/fs.h"
#include "base/log.h"
#include "base/strings.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "pipeline/transfer.h"
#include "registry/registry_source.h"
#include "spec/image_spec.h"

namespace hardbase::pipeline {
namespace {

// The image REGISTRY/NAME:TAG, pinned by the digest the registry gives for it, with the config
// of the platform the options select.
Result<dockerfile::ResolvedImage> ResolveInRegistry(const MigrateOptions& options,
                                                    const std::string& name) {
  std::string repository = options.registry + "/" + name;
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(repository + ":" + options.tag));
  HB_TRY(auto source, registry::OpenAnyImage(ref, options.registry_options));
  HB_TRY(oci::Descriptor root, source->Root());
  HB_TRY(oci::PlatformImage image, oci::SelectPlatform(*source, root, options.platform));
  return dockerfile::ResolvedImage{repository + "@" + root.digest, image.config.user,
                                   image.config.entrypoint};
}

// Builds the runtime image with the packages added from its spec, and pushes it next to the
// catalog's images.
Result<dockerfile::ResolvedImage> BuildWithPackages(const MigrateOptions& options,
                                                    const dockerfile::ImageRequest& request,
                                                    MigrateResult& result, net::HttpClient& http,
                                                    cache::BlobStore& store) {
  if (options.catalog_dir.empty()) {
    return Fail(ErrorCode::kUsage,
                fmt::format("the final stage installs {}: --catalog DIR is needed to write a spec "
                            "of {} with them",
                            fmt::join(request.packages, " "), request.catalog));
  }
  std::string catalog_spec = options.catalog_dir + "/" + request.catalog + "/image.yaml";
  HB_TRY(std::string text, ReadFile(catalog_spec));
  std::string name = options.name.empty() ? request.catalog + "-app" : options.name;
  HB_TRY(std::string spec,
         WithContext(SpecWithPackages(text, name, request.packages), catalog_spec));
  // `files:` sources are named relative to the catalog entry; the spec is written elsewhere.
  std::string entry_dir = options.catalog_dir + "/" + request.catalog;
  std::string rewritten;
  for (auto [line, number] : Lines(spec)) {
    std::string_view l = line;
    size_t src = l.find("src: ");
    if (src != std::string_view::npos &&
        Trim(l.substr(0, src)).find_first_not_of("- ") == std::string_view::npos) {
      std::string_view path = Trim(l.substr(src + 5));
      if (!path.starts_with("/")) {
        rewritten += std::string(l.substr(0, src + 5)) + entry_dir + "/" + std::string(path) + "\n";
        continue;
      }
    }
    rewritten += std::string(l) + "\n";
  }
  spec = std::move(rewritten);
  HB_TRY_VOID(WithContext(spec::ParseImageSpec(spec, "image.yaml").map([](auto&&) {}),
                          "the spec with the added packages"));
  const std::string spec_path = options.output_dir + "/image.yaml";
  HB_TRY_VOID(WriteFileAtomic(spec_path, spec));
  result.written.push_back("image.yaml");
  result.spec = spec;

  BuildOptions build = options.build;
  build.spec_path = spec_path;
  build.output = options.output_dir + "/image";
  build.tag = options.tag;
  build.allow_outside_files = true;  // the catalog entry's files, named above
  HB_TRY(BuildResult built, WithContext(BuildImage(build, http, store), "build " + spec_path));
  LogInfo("built {} ({} layers, {} from the cache)", name, built.layers_built + built.layers_cached,
          built.layers_cached);
  HB_TRY(oci::ImageRef from, oci::ParseImageRef("oci:" + build.output + ":" + options.tag));
  HB_TRY(oci::ImageRef to, oci::ParseImageRef(options.registry + "/" + name + ":" + options.tag));
  TransferOptions transfer;
  transfer.dest_registry = options.registry_options;
  HB_TRY_VOID(WithContext(CopyImage(from, to, transfer).map([](auto&&) {}), "push " + name));
  return ResolveInRegistry(options, name);
}

}  // namespace

Result<std::string> SpecWithPackages(std::string_view catalog_text, std::string_view name,
                                     const std::vector<std::string>& packages) {
  std::string out = fmt::format(
      "# {}: written by `hardbase migrate`: the catalog's spec below with the packages the "
      "Dockerfile's final stage installed ({}).\n",
      name, fmt::join(packages, ", "));
  bool named = false, added = false, in_packages = false;
  for (auto [line, number] : Lines(catalog_text)) {
    if (line.starts_with("name:")) {
      out += fmt::format("name: {}\n", name);
      named = true;
      continue;
    }
    if (in_packages && line.starts_with("  - ")) {
      // the list's first item: add ours before it, at the same indentation
      for (const auto& p : packages) out += "  - " + p + "  # migrate: apt-get install\n";
      added = true;
      in_packages = false;
    } else if (in_packages && !line.empty() && !line.starts_with(" ") && !line.starts_with("#")) {
      in_packages = false;
    }
    out += std::string(line) + "\n";
    if (Trim(line) == "packages:" && !line.starts_with(" ")) in_packages = true;
  }
  if (!named || !added) {
    return Fail(ErrorCode::kSpec, "no top-level name: and packages: list to add packages to");
  }
  return out;
}

Result<MigrateResult> MigrateDockerfile(const MigrateOptions& options, net::HttpClient& http,
                                        cache::BlobStore& store) {
  HB_TRY(std::string text, ReadFile(options.dockerfile));
  MigrateResult result;
  if (!options.output_dir.empty()) HB_TRY_VOID(MakeDirs(options.output_dir));
  dockerfile::MigrateOptions migrate{options.overrides};
  auto resolve = [&](const dockerfile::ImageRequest& request) -> Result<dockerfile::ResolvedImage> {
    if (options.registry.empty()) {
      return Fail(ErrorCode::kUsage,
                  "--registry HOST[/PREFIX] is needed: it holds the catalog's images (" +
                      request.catalog + ") whose digests the Dockerfile is pinned to");
    }
    if (!request.packages.empty()) return BuildWithPackages(options, request, result, http, store);
    return WithContext(ResolveInRegistry(options, request.catalog), request.catalog);
  };
  HB_TRY(result.migration,
         WithContext(dockerfile::Migrate(text, migrate, resolve), options.dockerfile));
  if (!result.migration.refused.empty() || options.output_dir.empty()) return result;
  const std::string& dir = options.output_dir;
  HB_TRY_VOID(WriteFileAtomic(dir + "/Dockerfile", result.migration.after));
  HB_TRY_VOID(WriteFileAtomic(dir + "/MIGRATION.md",
                              dockerfile::MigrationMarkdown(result.migration, options.dockerfile)));
  HB_TRY_VOID(
      WriteFileAtomic(dir + "/migration.json",
                      dockerfile::MigrationJson(result.migration, options.dockerfile, result.spec)
                              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                          "\n"));
  for (const char* f : {"Dockerfile", "MIGRATION.md", "migration.json"}) {
    result.written.push_back(f);
  }
  return result;
}

}  // namespace hardbase::pipeline
