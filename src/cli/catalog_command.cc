// `hardbase catalog build DIR [--only NAMES] [--jobs N] [--output-dir OUT] [--db FILE] [--json]
//  [--fail-fast] [--shard I/N] [--cache-wait S]` and the options `build` takes for every image
// (--locked, --sign-key, --cache-repo, ...); `hardbase catalog plan DIR --shards N [--json]`.
#include <fmt/ranges.h>

#include <cstdio>

#include "base/fs.h"
#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "pipeline/catalog.h"
#include "pipeline/catalog_update.h"
#include "pipeline/scan.h"

namespace hardbase::cli {
namespace {

// The one error a catalog command ends with when entries failed (each was said on a line of its
// own), with the first failure's code.
Error EntriesFailed(ErrorCode code, const std::string& dir, const std::vector<std::string>& names,
                    size_t entries) {
  return Error{code, fmt::format("catalog {}: {} of {} entr{} failed: {}", dir, names.size(),
                                 entries, entries == 1 ? "y" : "ies", fmt::join(names, ", "))};
}

struct CatalogBuildFlags {
  pipeline::CatalogOptions catalog;
  ImageBuildFlags image;
  std::string db;
  std::string shard;
  int64_t cache_wait = 1800;
  bool json = false;
};

Result<int> RunCatalogBuild(const CatalogBuildFlags& flags, const GlobalOptions& global) {
  pipeline::CatalogOptions options = flags.catalog;
  ImageBuildResources resources;
  HB_TRY(options.build, ImageBuildOptions(flags.image, resources));
  if (!flags.shard.empty()) {
    HB_TRY(options.shard, pipeline::ParseShard(flags.shard));
  }
  options.remote_wait = std::chrono::seconds(flags.cache_wait);
  if (!flags.db.empty()) {
    if (!PathExists(flags.db)) {
      return Fail(
          ErrorCode::kNotFound,
          fmt::format("--db {} does not exist (hardbase vuln update --db {})", flags.db, flags.db));
    }
    options.vuln_db = flags.db;
  } else if (std::string db = pipeline::DefaultVulnDbPath(CacheDir(global)); PathExists(db)) {
    options.vuln_db = db;
  } else {
    LogInfo("no vulnerability database at {}: CVEs are not counted (hardbase vuln update)", db);
  }
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  HB_TRY(pipeline::CatalogReport report,
         WithContext(pipeline::BuildCatalog(options, *http, store), "catalog " + options.dir));

  for (const auto& w : report.warnings) LogWarn("{}", Printable(w));
  std::string summary =
      flags.json ? pipeline::RenderCatalogJson(report) : pipeline::RenderCatalogTable(report);
  std::fputs(summary.c_str(), stdout);
  if (flags.json) std::fputs("\n", stdout);
  std::fflush(stdout);

  // Every failure on a line of its own, naming its entry; the exit code is the first one's.
  std::optional<Error> first;
  std::vector<std::string> names;
  for (const auto& image : report.images) {
    if (image.status != pipeline::CatalogStatus::kFailed || !image.error) continue;
    LogLine(Verbosity::kQuiet, "error: " + Printable(image.error->message));
    for (const auto& d : image.error->details) LogLine(Verbosity::kQuiet, "  " + Printable(d));
    if (!first) first = *image.error;
    names.push_back(image.name);
  }
  if (!first) return 0;
  return Fail(EntriesFailed(first->code, options.dir, names, report.images.size()));
}

struct CatalogPlanFlags {
  pipeline::CatalogOptions catalog;
  size_t shards = 1;
  bool json = false;
};

Result<int> RunCatalogPlan(const CatalogPlanFlags& flags, const GlobalOptions& global) {
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  HB_TRY(pipeline::CatalogPlan plan,
         WithContext(pipeline::PlanCatalogBuild(flags.catalog, flags.shards, *http, store),
                     "catalog " + flags.catalog.dir));
  std::string text =
      flags.json ? pipeline::RenderPlanJson(plan) + "\n" : pipeline::RenderPlanTable(plan);
  std::fputs(text.c_str(), stdout);
  return 0;
}

// `hardbase catalog update DIR [--only NAMES] [--db FILE] [--write] [--json FILE|-]
//  [--markdown FILE|-] [--jobs N]`: `update` over every entry; exit 9 when a lock changed.
struct CatalogUpdateFlags {
  pipeline::CatalogUpdateOptions catalog;
  std::string db;
  std::string json;      // FILE, or "-" for stdout
  std::string markdown;  // FILE, or "-" for stdout
  bool offline = false;
  std::string apt_root = "/";
  std::string release;
};

Result<int> RunCatalogUpdate(const CatalogUpdateFlags& flags, const GlobalOptions& global) {
  if (flags.json == "-" && flags.markdown == "-") {
    return Fail(ErrorCode::kUsage, "--json - and --markdown - both want stdout: give one a file");
  }
  pipeline::CatalogUpdateOptions options = flags.catalog;
  options.update.lock.load.offline = flags.offline;
  options.update.lock.apt_root = flags.apt_root;
  options.update.release = flags.release;
  options.update.vuln_db =
      flags.db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags.db;
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  HB_TRY(pipeline::CatalogUpdateReport report,
         WithContext(pipeline::UpdateCatalog(options, *http, store), "catalog " + options.dir));

  for (const auto& w : report.warnings) LogWarn("{}", Printable(w));
  if (flags.json != "-" && flags.markdown != "-") {
    std::fputs(pipeline::RenderCatalogUpdateTable(report).c_str(), stdout);
    std::fflush(stdout);
  }
  if (!flags.json.empty()) {
    HB_TRY_VOID(WriteOutput(flags.json, pipeline::RenderCatalogUpdateJson(report)));
  }
  if (!flags.markdown.empty()) {
    HB_TRY_VOID(WriteOutput(flags.markdown, pipeline::RenderCatalogUpdateMarkdown(report)));
  }

  // Every failure on a line of its own, naming its entry; the exit code is the first one's.
  std::optional<Error> first;
  std::vector<std::string> failed;
  size_t changed = 0, written = 0;
  for (const auto& e : report.entries) {
    changed += e.status == pipeline::EntryUpdateStatus::kChanged;
    written += e.written;
    if (e.status != pipeline::EntryUpdateStatus::kFailed || !e.error) continue;
    LogLine(Verbosity::kQuiet, "error: " + Printable(e.error->message));
    for (const auto& d : e.error->details) LogLine(Verbosity::kQuiet, "  " + Printable(d));
    if (!first) first = *e.error;
    failed.push_back(Printable(e.name));
  }
  if (written > 0) {
    LogInfo("wrote {} lock{}: rebuild them (hardbase catalog build {} --changed-only)", written,
            written == 1 ? "" : "s", options.dir);
  } else if (changed > 0) {
    LogInfo("{} lock{} behind the repositories: rebuild needed; --write updates them", changed,
            changed == 1 ? " is" : "s are");
  }
  if (first) {
    return Fail(EntriesFailed(first->code, options.dir, failed, report.entries.size()));
  }
  return changed > 0 ? ExitCode(ErrorCode::kStale) : 0;
}

void AddCatalogUpdateCommand(CLI::App* catalog, const GlobalOptions& global,
                             CommandRunner& runner) {
  auto flags = std::make_shared<CatalogUpdateFlags>();
  CLI::App* update = catalog->add_subcommand(
      "update",
      "Re-resolve the lock of every entry DIR/<name>/image.yaml against today's repositories: "
      "per image the new package versions and the CVEs they close, as a table, JSON or Markdown "
      "for a pull request; exit 9 when a lock changed");
  pipeline::CatalogUpdateOptions& options = flags->catalog;
  update->add_option("DIR", options.dir, "The catalog: a directory of <name>/image.yaml")
      ->required();
  update->add_option("--only", options.only, "Update only these entries (NAME,NAME... repeatable)")
      ->delimiter(',');
  update
      ->add_option("-j,--jobs", options.jobs, "Entries re-resolved at once (default: one per core)")
      ->check(CLI::PositiveNumber);
  update->add_flag("--write", options.write,
                   "Write each changed lock beside its spec (atomically); the exit is still 9");
  update->add_option("--db", flags->db,
                     "Vulnerability database (default: <cache dir>/vuln/vulndb)");
  update->add_option("--json", flags->json, "Write the report as JSON to FILE (- for stdout)");
  update->add_option("--markdown", flags->markdown,
                     "Write the report as Markdown, a pull request body, to FILE (- for stdout)");
  update->add_flag("--offline", flags->offline,
                   "Use the release files and indexes already in the cache (still verified)");
  update->add_option("--apt-root", flags->apt_root,
                     "Read the default repositories from this root's etc/apt (default /)");
  update->add_option("--release", flags->release,
                     "Debian release to match against (default: the one each lock's "
                     "repositories name by their codename)");
  update->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunCatalogUpdate(*flags, global); };
  });
}
}  // namespace

void AddCatalogCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  CLI::App* catalog =
      app.add_subcommand("catalog", "Build a catalog of specs together, sharing one cache");
  catalog->require_subcommand(1);

  auto flags = std::make_shared<CatalogBuildFlags>();
  CLI::App* build = catalog->add_subcommand(
      "build",
      "Lock and build every entry DIR/<name>/image.yaml of a catalog into OUT/<name>, each "
      "package layer once for all of them, and print a summary (digest, packages, size, CVEs, "
      "layers built and reused)");
  pipeline::CatalogOptions& options = flags->catalog;
  build->add_option("DIR", options.dir, "The catalog: a directory of <name>/image.yaml")
      ->required();
  build->add_option("--only", options.only, "Build only these entries (NAME,NAME... repeatable)")
      ->delimiter(',');
  build
      ->add_option("-j,--jobs", options.jobs,
                   "Workers building layers and images (default: one per core)")
      ->check(CLI::PositiveNumber);
  build
      ->add_option("--output-dir", options.output_dir,
                   "Write each image as an OCI layout at OUT/<name>")
      ->capture_default_str();
  AddImageBuildFlags(build, flags->image);
  build->add_option("--db", flags->db,
                    "Count each image's CVEs with this vulnerability database (default: "
                    "<cache dir>/vuln/vulndb when it exists)");
  build->add_flag("--fail-fast", options.fail_fast,
                  "Stop at the first entry that fails (default: build the others, then fail)");
  build->add_flag("--json", flags->json, "Print the summary as JSON on stdout");
  build->add_flag("--changed-only", options.changed_only,
                  "Leave alone an image OUT/<name> built from exactly the spec, lock and files it "
                  "would be built from now (default: write every image anew)");
  build->add_option("--shard", flags->shard,
                    "Build only shard I of N (I/N, as `catalog plan` splits the catalog), from the "
                    "locks as they are; with --cache-repo, only the layers the shard owns");
  build
      ->add_option("--cache-wait", flags->cache_wait,
                   "With --shard and --cache-repo: seconds to wait for the layers other shards "
                   "build before building them here")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  build->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunCatalogBuild(*flags, global); };
  });
  AddCatalogUpdateCommand(catalog, global, runner);

  auto plan = std::make_shared<CatalogPlanFlags>();
  CLI::App* plan_cmd = catalog->add_subcommand(
      "plan",
      "Split a catalog into N shards balanced by package size, for a CI matrix of `catalog build "
      "--shard I/N` jobs: each entry and each package layer built by one shard");
  plan_cmd->add_option("DIR", plan->catalog.dir, "The catalog: a directory of <name>/image.yaml")
      ->required();
  plan_cmd->add_option("--shards", plan->shards, "How many shards")
      ->required()
      ->check(CLI::Range(size_t{1}, pipeline::kMaxShards));
  plan_cmd->add_option("--only", plan->catalog.only, "Plan only these entries (NAME,NAME...)")
      ->delimiter(',');
  plan_cmd->add_option("--apt-root", plan->catalog.build.apt_root,
                       "Read the default repositories from this root's etc/apt (default /)");
  plan_cmd->add_flag("--json", plan->json,
                     "Print the plan as JSON (its \"matrix\" is a CI job matrix)");
  plan_cmd->callback([&runner, plan, &global] {
    runner = [plan, &global] { return RunCatalogPlan(*plan, global); };
  });
}

}  // namespace hardbase::cli
