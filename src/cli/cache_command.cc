// `hardbase cache prune [--max-age DAYS | --all]` and `hardbase cache dir`.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "cache/blob_store.h"
#include "cli/command.h"

namespace hardbase::cli {

void AddCacheCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  CLI::App* cache = app.add_subcommand("cache", "Inspect and clean the download cache");
  cache->require_subcommand(1);

  struct PruneFlags {
    int max_age_days = 30;
    bool all = false;
    bool json = false;
  };
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* prune = cache->add_subcommand(
      "prune", "Remove cached files unused for a while; waits for running hardbase processes");
  prune->add_option("--max-age", flags->max_age_days, "Keep files used within this many days")
      ->check(CLI::NonNegativeNumber);
  prune->add_flag("--all", flags->all, "Remove every cached file");
  prune->add_flag("--json", flags->json, "Print the result as JSON on stdout");
  prune->callback([&runner, flags, &global] {
    runner = [flags, &global]() -> Result<int> {
      std::string root = CacheDir(global);
      int64_t max_age = flags->all ? 0 : static_cast<int64_t>(flags->max_age_days) * 86400;
      if (!flags->all && max_age == 0) max_age = 1;
      HB_TRY(cache::PruneStats stats, cache::BlobStore::Prune(root, max_age));
      if (flags->json) {
        nlohmann::json j = {
            {"cacheDir", root},
            {"removed", {{"files", stats.blobs_removed}, {"bytes", stats.bytes_removed}}},
            {"kept", {{"files", stats.blobs_kept}, {"bytes", stats.bytes_kept}}}};
        std::printf("%s\n",
                    j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        LogInfo("removed {} files ({}), kept {} ({}) in {}", stats.blobs_removed,
                FormatMiB(stats.bytes_removed), stats.blobs_kept, FormatMiB(stats.bytes_kept),
                root);
      }
      return 0;
    };
  });

  CLI::App* dir = cache->add_subcommand("dir", "Print the cache directory");
  dir->callback([&runner, &global] {
    runner = [&global]() -> Result<int> {
      std::printf("%s\n", CacheDir(global).c_str());
      return 0;
    };
  });
}

}  // namespace hardbase::cli
