// `hardbase vuln update [--source osv|tracker | --from FILE|DIR|URL]` and `hardbase vuln status`:
// the local vulnerability database that `scan`, `diff` and `update` match against.
#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "net/http.h"
#include "pipeline/scan.h"
#include "vuln/import.h"

namespace hardbase::cli {
namespace {

// The excerpt of osv.dev's Debian data that ships in hardbase's source tree, for offline demos.
constexpr std::string_view kShippedExcerpt = "data/vuln/osv-debian-excerpt-2025-02-12.zip";

// What `vuln update` imports: --from as given, else the URL of the --source. For the tests alone,
// HARDBASE_VULN_URL replaces that URL (a loopback server, or a closed port to be unreachable).
std::string UpdateSource(const std::string& from, const std::string& source) {
  if (!from.empty()) return from;
  if (const char* url = std::getenv("HARDBASE_VULN_URL"); url && *url) return url;
  return std::string(source == "tracker" ? vuln::kTrackerJsonUrl : vuln::kOsvDebianExportUrl);
}

// An unreachable URL says what to do without the network: import a copy from a file.
Error WithOfflineHint(Error error) {
  if (error.code != ErrorCode::kNetwork) return error;
  error.message += fmt::format(
      "; without a network to it, import a copy: `hardbase vuln update --from FILE` (a file "
      "downloaded elsewhere, or {} of hardbase's source tree: data of 2025-02-12, for offline "
      "demos)",
      kShippedExcerpt);
  return error;
}

Result<int> RunStatus(const std::string& db_path, bool json) {
  HB_TRY(vuln::Database db, vuln::Database::Load(db_path));
  const vuln::Metadata& m = db.metadata();
  auto warnings = pipeline::DatabaseWarnings(m, static_cast<int64_t>(std::time(nullptr)));
  if (json) {
    nlohmann::ordered_json releases = nlohmann::ordered_json::object();
    for (const auto& r : db.Releases()) {
      releases[r] = {{"sources", db.SourceCount(r)}, {"vulnerabilities", db.IdCount(r)}};
    }
    nlohmann::ordered_json j = {{"database", db_path},
                                {"format_version", m.format_version},
                                {"source", m.source},
                                {"data_date", m.data_date},
                                {"imported_at", m.imported_at},
                                {"records", m.records},
                                {"entries", db.entries().size()},
                                {"vulnerabilities", db.vulnerability_count()},
                                {"skipped", m.skipped},
                                {"skipped_examples", m.skipped_examples},
                                {"releases", releases},
                                {"warnings", warnings}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    // The metadata comes from the imported data: escaped, one value per line.
    std::printf("database:   %s (format %d)\n", db_path.c_str(), m.format_version);
    std::printf("source:     %s\n", Printable(m.source).c_str());
    std::printf("data date:  %s\n", Printable(m.data_date).c_str());
    std::printf("imported:   %s\n", Printable(m.imported_at).c_str());
    std::printf("records:    %lld read, %zu entries, %zu vulnerabilities, %lld entries skipped\n",
                static_cast<long long>(m.records), db.entries().size(), db.vulnerability_count(),
                static_cast<long long>(m.skipped));
    for (const auto& r : db.Releases()) {
      std::printf("  Debian %-5s %6zu source packages, %6zu vulnerabilities\n",
                  Printable(r).c_str(), db.SourceCount(r), db.IdCount(r));
    }
  }
  for (const auto& w : warnings) LogWarn("{}", w);
  return 0;
}

}  // namespace

void AddVulnCommands(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  CLI::App* vuln = app.add_subcommand("vuln", "Manage the local vulnerability database");
  vuln->require_subcommand(1);

  struct Flags {
    std::string from;
    std::string source = "osv";
    std::string db;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto db_path = [flags, &global] {
    return flags->db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags->db;
  };

  CLI::App* update = vuln->add_subcommand(
      "update",
      fmt::format(
          "Import vulnerability data into the local database, replacing it only when the "
          "import succeeds. Without --from, downloads Debian's data as published today: "
          "osv.dev's Debian export ({}, the default) or with --source tracker the Debian "
          "security tracker's JSON ({}). --from imports a file, directory or URL instead: an "
          "all.zip or a directory of OSV JSON records, or tracker JSON (e.g. a copy downloaded "
          "elsewhere, or {} of the source tree, an excerpt of 2025-02-12 for offline demos). "
          "Downloads larger than {} MiB are refused.",
          vuln::kOsvDebianExportUrl, vuln::kTrackerJsonUrl, kShippedExcerpt,
          vuln::ImportLimits{}.max_input_bytes >> 20));
  auto* from = update->add_option("--from", flags->from, "FILE, DIR or http(s) URL to import");
  update
      ->add_option("--source", flags->source,
                   "What to download without --from: osv (osv.dev's Debian all.zip, default) "
                   "or tracker (the security tracker's JSON)")
      ->check(CLI::IsMember({"osv", "tracker"}))
      ->excludes(from);
  update->add_option("--db", flags->db, "Database file (default: <cache dir>/vuln/vulndb)");
  update->callback([&runner, flags, db_path] {
    runner = [flags, db_path]() -> Result<int> {
      auto http = net::MakeCurlClient();
      std::string path = db_path();
      std::string source = UpdateSource(flags->from, flags->source);
      Result<vuln::Database> updated = pipeline::UpdateVulnDb(source, path, *http);
      if (!updated) return Fail(WithOfflineHint(std::move(updated.error())));
      vuln::Database& db = *updated;
      const vuln::Metadata& m = db.metadata();
      LogInfo("imported {} records ({} entries, {} vulnerabilities; data of {}) into {}", m.records,
              db.entries().size(), db.vulnerability_count(), m.data_date, path);
      if (m.skipped > 0) {
        LogWarn("{} entries skipped for an unparseable version, e.g. {}", m.skipped,
                m.skipped_examples.empty() ? "?" : m.skipped_examples.front());
      }
      return 0;
    };
  });

  CLI::App* status = vuln->add_subcommand(
      "status", "Print the database's data date, source and counts; warn when it is stale");
  status->add_option("--db", flags->db, "Database file (default: <cache dir>/vuln/vulndb)");
  status->add_flag("--json", flags->json, "Print as JSON on stdout");
  status->callback([&runner, flags, db_path] {
    runner = [flags, db_path] { return RunStatus(db_path(), flags->json); };
  });
}

}  // namespace hardbase::cli
