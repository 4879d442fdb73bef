// `hardbase update SPEC [--write]`: the nightly job of a team that keeps its images patched.
// Re-resolves the spec against today's repositories and prints, per package, the version change
// and the vulnerabilities it closes or opens; exit 9 says a rebuild is needed.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "cli/command.h"
#include "pipeline/compare.h"
#include "pipeline/lock_pipeline.h"
#include "pipeline/scan.h"
#include "pipeline/update.h"
#include "spec/lock.h"

namespace hardbase::cli {
namespace {

struct UpdateFlags {
  std::string spec_path;
  std::string lock_path;
  std::string db;
  bool write = false;
  bool offline = false;
  bool json = false;
  std::string apt_root = "/";
  std::string release;
};

Result<int> RunUpdate(const UpdateFlags& flags, const GlobalOptions& global) {
  std::string lock_path =
      flags.lock_path.empty() ? spec::DefaultLockPath(flags.spec_path) : flags.lock_path;
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  pipeline::UpdateOptions options;
  options.lock.load.offline = flags.offline;
  options.lock.apt_root = flags.apt_root;
  options.release = flags.release;
  options.vuln_db = flags.db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags.db;
  HB_TRY(pipeline::SpecUpdate update,
         pipeline::UpdateSpec(flags.spec_path, lock_path, options, *http, store));
  for (const auto& w : update.warnings) LogWarn("{}", w);

  std::string text;
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const auto& [arch, comparison] : update.archs) {
    text += pipeline::ComparisonText(comparison);
    json[arch] = pipeline::ComparisonJson(comparison);
  }
  if (flags.json) {
    std::printf("%s\n", json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (update.changes.empty()) {
    LogInfo("{} is up to date: no rebuild needed", lock_path);
    return 0;
  }
  if (flags.write) {
    HB_TRY_VOID(pipeline::WriteLock(update.after, lock_path));
    LogInfo("updated {}: rebuild the image (hardbase build {})", lock_path, flags.spec_path);
  } else {
    LogInfo("{} is behind the repositories ({} change{}): rebuild needed; --write updates it",
            lock_path, update.changes.size(), update.changes.size() == 1 ? "" : "s");
  }
  return ExitCode(ErrorCode::kStale);
}

}  // namespace

void AddUpdateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<UpdateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "update",
      "Re-resolve a spec against today's repositories: per package the new version "
      "and the CVEs it closes or opens; exit 9 when a rebuild is needed");
  cmd->add_option("SPEC", flags->spec_path, "The image spec (YAML)")->required();
  cmd->add_option("--lock", flags->lock_path, "Lock file (default: SPEC with .lock.json)");
  cmd->add_flag("--write", flags->write, "Write the new lock (atomically)");
  cmd->add_option("--db", flags->db, "Vulnerability database (default: <cache dir>/vuln/vulndb)");
  cmd->add_flag("--offline", flags->offline,
                "Use the release files and indexes already in the cache (still verified)");
  cmd->add_flag("--json", flags->json, "Print the changes per architecture as JSON on stdout");
  cmd->add_option("--apt-root", flags->apt_root,
                  "Read the default repositories from this root's etc/apt (default /)");
  cmd->add_option("--release", flags->release,
                  "Debian release to match against (default: the one the lock's repositories "
                  "name by their codename)");
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunUpdate(*flags, global); };
  });
}

}  // namespace hardbase::cli
