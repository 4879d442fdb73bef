// `hardbase vuln update --from FILE|DIR|URL` and `hardbase vuln status`: the local vulnerability
// database that `scan`, `diff` and `update` match against.
#include <ctime>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "net/http.h"
#include "pipeline/scan.h"

namespace hardbase::cli {
namespace {

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
                static_cast<long long>(m.records), db.entries().size(),
                db.vulnerability_count(), static_cast<long long>(m.skipped));
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
    std::string db;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto db_path = [flags, &global] {
    return flags->db.empty() ? pipeline::DefaultVulnDbPath(CacheDir(global)) : flags->db;
  };

  CLI::App* update = vuln->add_subcommand(
      "update", "Import vulnerability data: osv.dev's Debian export (all.zip or a directory of "
                "OSV JSON records) or Debian's security tracker JSON, from a file or URL");
  update->add_option("--from", flags->from, "FILE, DIR or http(s) URL")->required();
  update->add_option("--db", flags->db, "Database file (default: <cache dir>/vuln/vulndb)");
  update->callback([&runner, flags, db_path] {
    runner = [flags, db_path]() -> Result<int> {
      auto http = net::MakeCurlClient();
      std::string path = db_path();
      HB_TRY(vuln::Database db, pipeline::UpdateVulnDb(flags->from, path, *http));
      const vuln::Metadata& m = db.metadata();
      LogInfo("imported {} records ({} entries, {} vulnerabilities; data of {}) into {}",
              m.records, db.entries().size(), db.vulnerability_count(), m.data_date, path);
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
