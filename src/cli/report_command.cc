// `hardbase report --audit FILE [--diff FILE] [--migration FILE] [-o report.html]`: one
// self-contained HTML page (no script, no network) from the JSON of `audit`, `diff` and
// `migrate`.
#include "base/fs.h"
#include "cli/command.h"
#include "report/report.h"

namespace hardbase::cli {
namespace {

struct ReportFlags {
  std::string audit;
  std::string diff;
  std::string migration;
  std::string output;
};

// The JSON document at `path`: kNotFound when there is no such file, kSpec when it is not JSON.
Result<report::Document> ReadDocument(const std::string& path) {
  if (!PathExists(path)) return Fail(ErrorCode::kNotFound, path + ": no such file");
  HB_TRY(std::string text, ReadFile(path));
  return report::ParseDocument(text, path);
}

Result<int> RunReport(const ReportFlags& flags) {
  report::ReportInputs inputs;
  HB_TRY(inputs.audit, WithContext(ReadDocument(flags.audit), "report"));
  if (!flags.diff.empty()) {
    HB_TRY(inputs.diff, WithContext(ReadDocument(flags.diff), "report"));
  }
  if (!flags.migration.empty()) {
    HB_TRY(inputs.migration, WithContext(ReadDocument(flags.migration), "report"));
  }
  HB_TRY(std::string html, WithContext(report::RenderHtml(inputs), "report"));
  HB_TRY_VOID(WithContext(WriteOutput(flags.output, std::move(html)), "report"));
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page (inline SVG charts, no script, nothing loaded from the "
      "network) from the JSON of `audit --compare`, `diff` and `migrate`");
  cmd->add_option("--audit", flags->audit,
                  "`hardbase audit IMAGE --compare IMAGE --json` (or of one image) output")
      ->required();
  cmd->add_option("--diff", flags->diff, "`hardbase diff IMAGE_A IMAGE_B --json` output");
  cmd->add_option("--migration", flags->migration, "`hardbase migrate Dockerfile --json` output");
  cmd->add_option("-o,--output", flags->output,
                  "Write the page to FILE (atomically) instead of stdout");
  cmd->callback([&runner, flags] { runner = [flags] { return RunReport(*flags); }; });
}

}  // namespace hardbase::cli
