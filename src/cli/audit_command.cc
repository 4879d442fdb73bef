// `hardbase audit IMAGE [--compare IMAGE_B]`: an image's attack surface and hygiene (shells,
// package managers, setuid files, secrets, the user it runs as, CVEs, signatures, the CIS Docker
// Benchmark's image checks) with a score, as text or JSON; two images side by side with
// --compare; a CI gate with --fail-under.
#include <fmt/format.h>

#include "audit/output.h"
#include "cli/command.h"
#include "pipeline/audit.h"
#include "pipeline/scan.h"

namespace hardbase::cli {
namespace {

struct AuditFlags {
  std::string image;
  std::string compare;
  bool json = false;
  std::string key;
  std::string dockerfile;
  std::string db;
  std::string platform;
  std::string output;
  int fail_under = -1;
  RegistryFlags registry;
};

Result<int> RunAudit(const AuditFlags& flags, const GlobalOptions& global) {
  pipeline::AuditOptions options;
  options.inventory.platform = flags.platform;
  HB_TRY(options.inventory.registry, RegistryOptionsFrom(flags.registry));
  options.db_path = flags.db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags.db;
  options.db_required = !flags.db.empty();
  std::optional<sign::PublicKey> key;
  if (!flags.key.empty()) {
    HB_TRY(key, LoadPublicKey(flags.key));
    options.key = &*key;
  }
  options.dockerfile = flags.dockerfile;
  HB_TRY(audit::Report report,
         WithContext(pipeline::AuditImage(flags.image, options), "audit " + flags.image));
  const audit::Report* gated = &report;
  std::optional<audit::Report> after;
  if (!flags.compare.empty()) {
    HB_TRY(after,
           WithContext(pipeline::AuditImage(flags.compare, options), "audit " + flags.compare));
    gated = &*after;
  }
  std::string text;
  if (after) {
    text = flags.json ? audit::CompareJson(report, *after) : audit::CompareText(report, *after);
  } else {
    text = flags.json ? audit::AuditJson(report) : audit::AuditText(report);
  }
  while (text.ends_with('\n')) text.pop_back();
  HB_TRY_VOID(WriteOutput(flags.output, std::move(text)));
  if (flags.fail_under >= 0 && gated->score < flags.fail_under) {
    return Fail(ErrorCode::kVulnerable,
                fmt::format("audit {}: score {} ({}) is below --fail-under {}", gated->reference,
                            gated->score, gated->grade, flags.fail_under));
  }
  return 0;
}

}  // namespace

void AddAuditCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "An image's attack surface and hygiene (shells, package managers, setuid files, secrets, "
      "root, CVEs, signatures, CIS Docker Benchmark image checks) with a score");
  cmd->add_option("IMAGE", flags->image,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE, "
                  "[docker://]HOST/REPO[:TAG|@DIGEST], or a root filesystem: dir:PATH")
      ->required();
  cmd->add_option("--compare", flags->compare,
                  "Audit this image too and show both side by side (IMAGE before, this after)");
  cmd->add_flag("--json", flags->json,
                "Print the hardbase.audit/v1 document (hardbase.audit-compare/v1 with --compare)");
  cmd->add_option("-o,--output", flags->output, "Write to FILE (atomically) instead of stdout");
  cmd->add_option("--key", flags->key,
                  "Public key (NAME.pub) to verify the image's signatures and attestations with");
  cmd->add_option("--dockerfile", flags->dockerfile,
                  "The Dockerfile the image was built from, for the CIS checks on it (ADD, "
                  "update alone, secrets in ENV/ARG, HEALTHCHECK)");
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--db", flags->db,
                  "Vulnerability database (default: <cache dir>/vuln/vulndb; when the default is "
                  "missing the audit says so, when --db is missing it is an error)");
  cmd->add_option("--platform", flags->platform,
                  "Which image of a multi-platform index: amd64, linux/arm64, ... (default: the "
                  "only one, else the host's)");
  cmd->add_option("--fail-under", flags->fail_under,
                  "Exit 12 when the score (with --compare: the second image's) is below this")
      ->check(CLI::Range(0, 100));
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunAudit(*flags, global); };
  });
}

}  // namespace hardbase::cli
