// `hardbase catalog build DIR [--only NAMES] [--jobs N] [--output-dir OUT] [--db FILE] [--json]
//  [--fail-fast]` and the options `build` takes for every image (--locked, --sign-key, ...).
#include <cstdio>

#include "base/fs.h"
#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "pipeline/catalog.h"
#include "pipeline/scan.h"

namespace hardbase::cli {
namespace {

struct CatalogBuildFlags {
  pipeline::CatalogOptions catalog;
  ImageBuildFlags image;
  std::string db;
  bool json = false;
};

Result<int> RunCatalogBuild(const CatalogBuildFlags& flags, const GlobalOptions& global) {
  pipeline::CatalogOptions options = flags.catalog;
  std::optional<sign::PrivateKey> key;
  HB_TRY(options.build, ImageBuildOptions(flags.image, key));
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
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return Fail(first->code,
              fmt::format("catalog {}: {} of {} entr{} failed: {}", options.dir, names.size(),
                          report.images.size(), report.images.size() == 1 ? "y" : "ies", list));
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
  build->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunCatalogBuild(*flags, global); };
  });
}

}  // namespace hardbase::cli
