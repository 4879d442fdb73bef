// `hardbase lock SPEC [-o FILE] [--check] [--offline] [--json]`
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/log.h"
#include "base/strings.h"
#include "cache/blob_store.h"
#include "cli/command.h"
#include "pipeline/lock_pipeline.h"
#include "spec/image_spec.h"
#include "spec/lock.h"

namespace hardbase::cli {
namespace {

struct LockFlags {
  std::string spec_path;
  std::string output;
  bool check = false;
  bool offline = false;
  bool json = false;
  std::string apt_root = "/";
};

nlohmann::json Summary(const spec::Lock& lock, const std::string& path) {
  nlohmann::json archs = nlohmann::json::object();
  for (const auto& a : lock.archs) {
    uint64_t bytes = 0;
    for (const auto& p : a.packages) bytes += p.size;
    archs[a.arch] = {{"packages", a.packages.size()},
                     {"bytes", bytes},
                     {"excluded", a.excluded.size()},
                     {"leftOut", a.left_out.size()}};
  }
  return {{"lock", path}, {"specDigest", lock.spec_digest}, {"archs", archs}};
}

std::string HumanSummary(const spec::Lock& lock) {
  std::string out;
  for (const auto& a : lock.archs) {
    uint64_t bytes = 0;
    for (const auto& p : a.packages) bytes += p.size;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} packages for {} ({} of .debs)", a.packages.size(), a.arch,
                       FormatMiB(bytes));
  }
  return out;
}

Result<int> RunLock(const LockFlags& flags, const GlobalOptions& global) {
  std::string out_path =
      flags.output.empty() ? spec::DefaultLockPath(flags.spec_path) : flags.output;
  HB_TRY(spec::ImageSpec image_spec, spec::LoadImageSpec(flags.spec_path));
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  pipeline::LockOptions options;
  options.load.offline = flags.offline;
  options.apt_root = flags.apt_root;
  HB_TRY(spec::Lock lock, WithContext(pipeline::LockSpec(image_spec, *http, store, options),
                                      "lock " + flags.spec_path));

  // What differs from the lock already there. Releases re-signed without any package change (the
  // security suite is re-signed daily) are no change: the existing lock, with its timestamps,
  // stays as it is, so nothing downstream rebuilds for nothing.
  std::vector<std::string> changes;
  if (!PathExists(out_path)) {
    changes.push_back(out_path + " does not exist");
  } else {
    auto existing = spec::LoadLock(out_path);
    if (!existing) {
      changes.push_back(existing.error().message);
    } else {
      changes = pipeline::DiffLocks(*existing, lock);
    }
  }
  if (flags.json) {
    nlohmann::json j = Summary(lock, out_path);
    j["upToDate"] = changes.empty();
    j["changes"] = changes;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  if (changes.empty()) {
    LogInfo("{} is up to date: {}", out_path, HumanSummary(lock));
    return 0;
  }
  if (flags.check) {
    for (const auto& c : changes) LogInfo("  {}", c);
    return Fail(ErrorCode::kStale,
                fmt::format("{} would change ({} difference{}): run hardbase lock {}", out_path,
                            changes.size(), changes.size() == 1 ? "" : "s", flags.spec_path));
  }
  HB_TRY_VOID(pipeline::WriteLock(lock, out_path));
  LogInfo("locked {} into {}", HumanSummary(lock), out_path);
  return 0;
}

}  // namespace

void AddLockCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<LockFlags>();
  CLI::App* cmd = app.add_subcommand(
      "lock", "Resolve a spec's packages against verified repositories into a lockfile");
  cmd->add_option("SPEC", flags->spec_path, "The image spec (YAML)")->required();
  cmd->add_option("-o,--output", flags->output, "Lock file (default: SPEC with .lock.json)");
  cmd->add_flag("--check", flags->check,
                "Write nothing; exit 9 when re-resolving today would change the lock (for CI)");
  cmd->add_flag("--offline", flags->offline,
                "Use the release files and indexes already in the cache (still verified)");
  cmd->add_flag("--json", flags->json, "Print the result as JSON on stdout");
  cmd->add_option("--apt-root", flags->apt_root,
                  "Read the default repositories from this root's etc/apt (default /)");
  cmd->callback(
      [&runner, flags, &global] { runner = [flags, &global] { return RunLock(*flags, global); }; });
}

}  // namespace hardbase::cli
