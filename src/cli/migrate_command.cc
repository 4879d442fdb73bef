// `hardbase migrate Dockerfile`: the Dockerfile moved onto hardened catalog images pinned by
// digest, with an explanation of every change; refused, line by line, where it cannot be.
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "net/http.h"
#include "pipeline/migrate.h"

namespace hardbase::cli {
namespace {

struct MigrateFlags {
  pipeline::MigrateOptions options;
  std::vector<std::string> maps;
  bool json = false;
  RegistryFlags registry;
};

Result<int> RunMigrate(MigrateFlags flags, const GlobalOptions& global) {
  pipeline::MigrateOptions& options = flags.options;
  for (const auto& m : flags.maps) {
    HB_TRY(auto o, dockerfile::ParseBaseImageOverride(m));
    options.overrides.push_back(std::move(o));
  }
  while (options.registry.ends_with('/')) options.registry.pop_back();
  if (options.registry.starts_with("docker://")) options.registry.erase(0, 9);
  HB_TRY(options.registry_options, RegistryOptionsFrom(flags.registry));
  ImageBuildFlags build_flags;
  ImageBuildResources none;
  HB_TRY(options.build, ImageBuildOptions(build_flags, none));
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  HB_TRY(pipeline::MigrateResult result,
         WithContext(pipeline::MigrateDockerfile(options, *http, store), "migrate"));
  const dockerfile::Migration& m = result.migration;
  if (flags.json) {
    std::printf("%s\n", dockerfile::MigrationJson(m, options.dockerfile, result.spec)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else if (m.refused.empty()) {
    if (options.output_dir.empty()) {
      std::fwrite(m.after.data(), 1, m.after.size(), stdout);
    } else {
      for (const auto& c : m.changes) {
        std::printf("line %d: %s: %s\n", c.line, c.kind.c_str(), Printable(c.message).c_str());
      }
      std::printf("wrote %s/{%s}\n", Printable(options.output_dir).c_str(),
                  fmt::format("{}", fmt::join(result.written, ",")).c_str());
    }
  }
  if (!m.refused.empty()) {
    std::vector<std::string> lines;
    for (const auto& r : m.refused) {
      lines.push_back(fmt::format("{}:{}: {}", options.dockerfile, r.line, Printable(r.message)));
    }
    return Fail(
        Error(ErrorCode::kUntranslatable,
              fmt::format("migrate: {}: {} line(s) cannot be carried onto a hardened image, "
                          "nothing written",
                          options.dockerfile, m.refused.size()),
              std::move(lines)));
  }
  return 0;
}

}  // namespace

void AddMigrateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<MigrateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "migrate",
      "Move a Dockerfile onto hardened images: build stages on the -dev images, the final stage "
      "on the runtime image pinned by digest, non-root, exec-form; every change explained");
  cmd->add_option("DOCKERFILE", flags->options.dockerfile, "The Dockerfile to migrate")->required();
  cmd->add_option("--registry", flags->options.registry,
                  "Where the catalog's images are: HOST[:PORT][/PREFIX] (NAME is "
                  "REGISTRY/NAME:TAG); digests are read from it");
  cmd->add_option("--tag", flags->options.tag, "The catalog images' tag (default: latest)");
  cmd->add_option("-o,--output", flags->options.output_dir,
                  "Directory for Dockerfile, MIGRATION.md, migration.json (and image.yaml); "
                  "without it the Dockerfile goes to stdout");
  cmd->add_option("--catalog", flags->options.catalog_dir,
                  "The catalog's specs: needed when the final stage installs packages, which go "
                  "into a spec of the runtime image that is built and pushed to --registry");
  cmd->add_option("--name", flags->options.name, "Name of that image (default: RUNTIME-app)");
  cmd->add_option("--map", flags->maps,
                  "IMAGE=RUNTIME[,DEV]: a base image's hardened images, before the built-in table");
  cmd->add_option("--platform", flags->options.platform,
                  "Whose config (user, entrypoint) counts in multi-platform images");
  cmd->add_flag("--json", flags->json,
                "Print the migration as JSON (schema hardbase.migration/v1)");
  AddRegistryFlags(cmd, flags->registry);
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunMigrate(*flags, global); };
  });
}

}  // namespace hardbase::cli
