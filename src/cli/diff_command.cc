// `hardbase diff IMAGE_A IMAGE_B`: packages added, removed and changed, the size change, and the
// vulnerabilities the change closes or opens.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/printable.h"
#include "base/strings.h"
#include "cli/command.h"
#include "pipeline/compare.h"
#include "pipeline/scan.h"

namespace hardbase::cli {
namespace {

struct DiffFlags {
  std::string before;
  std::string after;
  std::string db;
  std::string platform;
  bool json = false;
  RegistryFlags registry;
};

Result<int> RunDiff(const DiffFlags& flags, const GlobalOptions& global) {
  pipeline::InventoryOptions options;
  options.platform = flags.platform;
  options.directory_size = true;
  HB_TRY(options.registry, RegistryOptionsFrom(flags.registry));
  HB_TRY(pipeline::Inventory a,
         WithContext(pipeline::ReadInventory(flags.before, options), "diff"));
  HB_TRY(pipeline::Inventory b, WithContext(pipeline::ReadInventory(flags.after, options), "diff"));

  std::string db_path = flags.db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags.db;
  for (const pipeline::Inventory* i : {&a, &b}) {
    if (i->packages.empty()) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("diff: {}: no installed package in a dpkg database: nothing to "
                              "compare",
                              i->reference));
    }
  }
  std::optional<vuln::Database> db;
  auto release = pipeline::InventoryRelease(b.os_release.empty() ? a : b, "");
  if (!release) {
    LogWarn("{}: no CVE changes", release.error().message);
  } else {
    std::vector<vuln::InstalledPackage> both = a.packages;
    both.insert(both.end(), b.packages.begin(), b.packages.end());
    if (auto loaded = pipeline::LoadVulnDbFor(db_path, *release, both)) {
      db = std::move(*loaded);
    } else if (loaded.error().code == ErrorCode::kNotFound) {
      LogWarn("{}", loaded.error().message);
    } else {
      return Fail(loaded.error());
    }
  }
  pipeline::Comparison c =
      pipeline::ComparePackages(a.packages, b.packages, db ? &*db : nullptr, release.value_or(""));
  auto size = [](const pipeline::Inventory& i) {
    return nlohmann::ordered_json{{"reference", i.reference},
                                  {"digest", i.digest},
                                  {"packages", i.packages.size()},
                                  {"bytes", i.size}};
  };
  if (flags.json) {
    nlohmann::ordered_json j = {
        {"before", size(a)},
        {"after", size(b)},
        {"size_change", static_cast<int64_t>(b.size) - static_cast<int64_t>(a.size)},
        {"packages", pipeline::ComparisonJson(c)}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::string sizes = fmt::format(
      "{}: {} packages, {}\n{}: {} packages, {} ({})\n", Printable(a.reference), a.packages.size(),
      FormatMiB(a.size), Printable(b.reference), b.packages.size(), FormatMiB(b.size),
      FormatMiB(static_cast<int64_t>(b.size) - static_cast<int64_t>(a.size), /*sign=*/true));
  std::fputs(sizes.c_str(), stdout);
  std::string text = pipeline::ComparisonText(c);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

void AddDiffCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare two images: packages added, removed and changed, size, and CVE changes");
  cmd->add_option("IMAGE_A", flags->before, "The image before (any reference scan takes)")
      ->required();
  cmd->add_option("IMAGE_B", flags->after, "The image after")->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--db", flags->db, "Vulnerability database (default: <cache dir>/vuln/vulndb)");
  cmd->add_option("--platform", flags->platform, "Which image of multi-platform indexes");
  cmd->add_flag("--json", flags->json, "Print as JSON on stdout");
  cmd->callback(
      [&runner, flags, &global] { runner = [flags, &global] { return RunDiff(*flags, global); }; });
}

}  // namespace hardbase::cli
