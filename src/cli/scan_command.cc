// `hardbase scan IMAGE`: the vulnerabilities of an image's Debian packages, as a table, JSON,
// SARIF or CycloneDX, with gates for CI (--fail-on, --fail-on-fixable) and OpenVEX statements.
#include <algorithm>

#include "base/fs.h"
#include "base/log.h"
#include "cli/command.h"
#include "pipeline/scan.h"
#include "vuln/report.h"
#include "vuln/severity.h"

namespace hardbase::cli {
namespace {

struct ScanFlags {
  std::string image;
  std::string db;
  std::string format = "table";
  std::string output;
  std::string platform;
  std::string release;
  std::string fail_on;
  bool fail_on_fixable = false;
  std::vector<std::string> vex;
  RegistryFlags registry;
};

Result<int> RunScan(const ScanFlags& flags, const GlobalOptions& global) {
  HB_TRY(vuln::ReportFormat format, vuln::ParseReportFormat(flags.format));
  pipeline::ScanGate gate;
  gate.fixable_only = flags.fail_on_fixable;
  if (!flags.fail_on.empty()) {
    HB_TRY(gate.threshold, vuln::ParseSeverity(flags.fail_on));
  }
  std::vector<vuln::VexDocument> vex;
  for (const auto& path : flags.vex) {
    HB_TRY(std::string text, ReadFile(path));
    HB_TRY(vuln::VexDocument doc, vuln::ParseOpenVex(text, path));
    vex.push_back(std::move(doc));
  }
  pipeline::InventoryOptions options;
  options.platform = flags.platform;
  HB_TRY(options.registry, RegistryOptionsFrom(flags.registry));
  HB_TRY(pipeline::Inventory inventory,
         WithContext(pipeline::ReadInventory(flags.image, options), "scan"));
  HB_TRY(std::string release,
         WithContext(pipeline::InventoryRelease(inventory, flags.release), "scan"));
  std::string db_path = flags.db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags.db;
  HB_TRY(vuln::Database db, pipeline::LoadVulnDbFor(db_path, release, inventory.packages));
  HB_TRY(vuln::Report report,
         WithContext(pipeline::ScanInventory(inventory, db, release, vex), "scan"));

  HB_TRY_VOID(WriteOutput(flags.output, vuln::Render(report, format)));
  // The table shows warnings itself; machine formats carry them, and people see them here.
  if (format != vuln::ReportFormat::kTable || !flags.output.empty()) {
    for (const auto& w : report.warnings) LogWarn("{}", w);
  }
  HB_TRY_VOID(pipeline::CheckScanGate(report, gate));
  return 0;
}

}  // namespace

void AddScanCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<ScanFlags>();
  CLI::App* cmd = app.add_subcommand(
      "scan", "Match an image's Debian packages against the vulnerability database");
  cmd->add_option("IMAGE", flags->image,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE, "
                  "[docker://]HOST/REPO[:TAG|@DIGEST], or a root filesystem: dir:PATH")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--db", flags->db, "Database file (default: <cache dir>/vuln/vulndb)");
  cmd->add_option("--format", flags->format, "table, json, sarif (2.1.0) or cyclonedx (1.5 VEX)")
      ->check(CLI::IsMember(Choices(vuln::ReportFormatNames())))
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "Write to FILE (atomically) instead of stdout");
  cmd->add_option("--platform", flags->platform,
                  "Which image of a multi-platform index: amd64, linux/arm64, ... (default: the "
                  "only one, else the host's)");
  cmd->add_option("--release", flags->release,
                  "Debian release to match against (default: from the image's os-release)");
  std::vector<std::string> severities = Choices(vuln::SeverityNames());
  std::reverse(severities.begin(), severities.end());  // worst first, as the help lists them
  cmd->add_option("--fail-on", flags->fail_on,
                  "Exit 12 when a finding is this severe or worse: critical, high, medium, low, "
                  "negligible, unknown (VEX-suppressed and kernel-header findings do not count)")
      ->check(CLI::IsMember(severities, CLI::ignore_case));
  cmd->add_flag("--fail-on-fixable", flags->fail_on_fixable,
                "Exit 12 when a finding has a fix (with --fail-on: a fixable one that severe)");
  cmd->add_option("--vex", flags->vex,
                  "OpenVEX document whose not_affected and fixed statements suppress findings "
                  "(repeatable)");
  cmd->callback(
      [&runner, flags, &global] { runner = [flags, &global] { return RunScan(*flags, global); }; });
}

}  // namespace hardbase::cli
