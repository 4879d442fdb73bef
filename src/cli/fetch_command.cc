// `hardbase fetch SPEC [--lock FILE]`: download and verify every .deb a lock names.
#include <nlohmann/json.hpp>

#include "apt/fetch_debs.h"
#include "base/log.h"
#include "base/strings.h"
#include "cache/blob_store.h"
#include "cli/command.h"
#include "spec/image_spec.h"
#include "spec/lock.h"

namespace hardbase::cli {

void AddFetchCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  struct Flags {
    std::string spec_path;
    std::string lock_path;
    std::string apt_root = "/";
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download a lock's .deb files into the cache, each checked against its sha256");
  cmd->add_option("SPEC", flags->spec_path, "The image spec (YAML)")->required();
  cmd->add_option("--lock", flags->lock_path, "Lock file (default: SPEC with .lock.json)");
  cmd->add_option("--apt-root", flags->apt_root,
                  "Read the default repositories from this root's etc/apt (default /)");
  cmd->add_flag("--json", flags->json, "Print the result as JSON on stdout");
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global]() -> Result<int> {
      std::string lock_path =
          flags->lock_path.empty() ? spec::DefaultLockPath(flags->spec_path) : flags->lock_path;
      HB_TRY(spec::ImageSpec image_spec, spec::LoadImageSpec(flags->spec_path));
      HB_TRY(spec::Lock lock, spec::LoadLock(lock_path));
      HB_TRY_VOID(spec::CheckLockMatchesSpec(lock, image_spec, lock_path));
      HB_TRY(auto sources, apt::SuiteSourcesFor(image_spec, flags->apt_root));
      HB_TRY(cache::BlobStore store, OpenCache(global));
      auto http = net::MakeCurlClient();
      HB_TRY(apt::FetchStats stats,
             WithContext(apt::FetchDebs(lock, sources, *http, store), "fetch " + lock_path));
      if (flags->json) {
        nlohmann::json j = {{"packages", stats.packages},
                            {"downloaded", stats.downloaded},
                            {"downloadedBytes", stats.downloaded_bytes}};
        std::printf("%s\n",
                    j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        LogInfo("{} packages verified in the cache ({} downloaded, {})", stats.packages,
                stats.downloaded, FormatMiB(stats.downloaded_bytes));
      }
      return 0;
    };
  });
}

}  // namespace hardbase::cli
