// hardbase: build hardened container images from Debian packages and prove what is in them.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "base/log.h"
#include "base/printable.h"
#include "base/version.h"
#include "cli/command.h"
#include "net/http.h"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  internal error\n"
    "  2  usage: bad command line\n"
    "  3  spec: a spec, lock or other input document is malformed\n"
    "  4  io: a local file could not be read or written\n"
    "  5  network: a server could not be reached\n"
    "  6  not-found: a server or the cache lacks a file\n"
    "  7  integrity: a signature, hash or size did not match\n"
    "  8  resolve: dependencies cannot be satisfied\n"
    "  9  stale: a lock does not match its spec, or re-resolving would change it\n"
    " 10  verification: no valid signature or attestation covers the image\n"
    " 11  auth: a password or credential was refused\n"
    " 12  vulnerable: a scan found what --fail-on or --fail-on-fixable forbid, or an audit\n"
    "     scored below --fail-under\n"
    " 13  untranslatable: migrate met what it cannot carry onto a hardened image\n"
    " 14  not-reproducible: reproduce rebuilt the image and got other bytes\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace hardbase;
  CLI::App app{
      "hardbase: hardened container images from Debian packages, with proof of what is "
      "in them"};
  app.footer(kExitCodes);
  app.set_version_flag("--version", "hardbase " + std::string(HardbaseVersion()));
  app.require_subcommand(1);
  app.fallthrough();  // global flags also after the subcommand: hardbase lock --quiet x.yaml

  cli::GlobalOptions global;
  app.add_flag("-q,--quiet", global.quiet, "Print only warnings and errors (for scripts)");
  app.add_flag("-v,--verbose", global.verbose, "Print more detail");
  app.add_option("--cache-dir", global.cache_dir,
                 "Download cache (default $HARDBASE_CACHE_DIR, $XDG_CACHE_HOME/hardbase or "
                 "~/.cache/hardbase)");
  // Bounds on what a slow or hostile server can cost (see net::NetworkLimits).
  long timeout_seconds = 3600;
  long low_speed_limit = 1024;
  long low_speed_time = 30;
  app.add_option("--timeout", timeout_seconds,
                 "Give up on network exchanges once the command has run this many seconds "
                 "(0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--low-speed-limit", low_speed_limit,
                 "Abort (and retry) a transfer slower than this many bytes per second for "
                 "--low-speed-time seconds (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--low-speed-time", low_speed_time,
                 "Seconds a transfer may stay below --low-speed-limit")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  cli::CommandRunner runner;
  cli::AddInitCommand(app, runner);
  cli::AddLockCommand(app, global, runner);
  cli::AddFetchCommand(app, global, runner);
  cli::AddBuildCommand(app, global, runner);
  cli::AddCatalogCommand(app, global, runner);
  cli::AddCacheCommand(app, global, runner);
  cli::AddSbomCommand(app, runner);
  cli::AddKeygenCommand(app, runner);
  cli::AddSignCommand(app, runner);
  cli::AddAttestCommand(app, runner);
  cli::AddVerifyCommand(app, runner);
  cli::AddReproduceCommand(app, global, runner);
  cli::AddCopyCommands(app, runner);
  cli::AddPinCommand(app, runner);
  cli::AddInspectCommand(app, runner);
  cli::AddLoginCommands(app, runner);
  cli::AddVulnCommands(app, global, runner);
  cli::AddScanCommand(app, global, runner);
  cli::AddUpdateCommand(app, global, runner);
  cli::AddDiffCommand(app, global, runner);
  cli::AddAuditCommand(app, global, runner);
  cli::AddMigrateCommand(app, global, runner);
  cli::AddReportCommand(app, runner);
  cli::AddCiCommand(app, runner);
  cli::AddCompletionCommands(app, runner);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : ExitCode(ErrorCode::kUsage);
  }
  net::SetNetworkLimits(std::chrono::seconds(timeout_seconds), low_speed_limit, low_speed_time);
  SetVerbosity(global.quiet     ? Verbosity::kQuiet
               : global.verbose ? Verbosity::kVerbose
                                : Verbosity::kNormal);
  Result<int> result = Fail(ErrorCode::kInternal, "no command ran");
  try {
    result = runner();
  } catch (const std::exception& e) {
    // Library adapters catch what they know; anything else is a bug, reported in one line.
    result = Fail(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
  }
  if (!result) {
    // One line, whatever hostile text (registry errors, package fields, paths) the message quotes;
    // then one indented line for each detail (every mistake in a spec), escaped the same way.
    const Error& error = result.error();
    std::fprintf(stderr, "hardbase: error: %s\n", Printable(error.message).c_str());
    for (const std::string& line : error.details) {
      std::fprintf(stderr, "  %s\n", Printable(line).c_str());
    }
    return ExitCode(error.code);
  }
  return *result;
}
