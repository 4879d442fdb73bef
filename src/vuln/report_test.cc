#include "vuln/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"
#include "vuln/vex.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::RunProcess;

const std::string kNpm = std::string(HARDBASE_SOURCE_DIR) + "/tests/npm/";
const std::string kDigest =
    "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

Entry ReportedEntry(std::string source, std::string id, std::string fixed, std::string urgency,
                    std::vector<std::string> advisories = {}) {
  return Entry{"12",
               std::move(source),
               std::move(id),
               "0",
               std::move(fixed),
               std::move(urgency),
               std::move(advisories)};
}

// A small image: glibc's two binaries share their CVEs, zlib has a CVSS-only critical one, the
// kernel headers one that does not apply, openssl one that VEX clears, one package whose
// version does not parse.
Report SampleReport() {
  Metadata metadata;
  metadata.format_version = kDatabaseFormatVersion;
  metadata.source = "osv:/data/osv-debian.zip";
  metadata.data_date = "2025-02-12T08:00:00Z";
  metadata.imported_at = "2025-02-13T09:00:00Z";
  metadata.records = 7;
  metadata.skipped = 1;
  std::vector<Entry> entries = {
      ReportedEntry("glibc", "CVE-2024-2961", "2.36-9+deb12u7", "high", {"DSA-5671-1"}),
      ReportedEntry("glibc", "CVE-2010-4756", "", "unimportant"),
      ReportedEntry("zlib", "CVE-2023-45853", "", "not yet assigned"),
      ReportedEntry("linux", "CVE-2024-1086", "6.1.76-1", "high"),
      ReportedEntry("openssl", "CVE-2024-0727", "3.0.13-1~deb12u1", "low"),
      ReportedEntry("openssl", "CVE-2023-5363", "3.0.11-1~deb12u2", "medium"),  // fixed already
      ReportedEntry("libxcrypt", "CVE-2099-0001", "", ""),
  };
  std::vector<Vulnerability> vulnerabilities = {
      {"CVE-2024-2961", "iconv ISO-2022-CN-EXT out-of-bounds write", "", -1, "", ""},
      {"CVE-2023-45853", "MiniZip integer overflow in zipOpenNewFileInZip4_64",
       "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "", ""},
      {"CVE-2024-0727", "PKCS12 NULL dereference", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
       7.5, "", ""},
  };
  Database db = Database::Make(metadata, entries, vulnerabilities);

  Report report;
  report.image = "registry.test/java17:1";
  report.image_digest = kDigest;
  report.image_name = "java17";
  report.distro = {"debian", "12", "bookworm"};
  report.release = "12";
  report.architecture = "amd64";
  report.database = db.metadata();
  report.packages = {
      {"base-files", "12.4+deb12u5", "amd64", "base-files", "12.4+deb12u5"},
      {"libc6", "2.36-9+deb12u4", "amd64", "glibc", "2.36-9+deb12u4"},
      {"libc-bin", "2.36-9+deb12u4", "amd64", "glibc", "2.36-9+deb12u4"},
      {"zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1"},
      {"linux-libc-dev", "6.1.69-1", "amd64", "linux", "6.1.69-1"},
      {"libssl3", "3.0.11-1~deb12u2", "amd64", "openssl", "3.0.11-1~deb12u2"},
      {"libcrypt1", "1:4.4.33-2", "amd64", "libxcrypt", "1:4.4.33-1"},
      {"broken", "x:1.0", "amd64", "broken", "x:1.0"},
  };
  report.match = Match(db, "12", report.packages);
  VexStatement statement;
  statement.vulnerability = "CVE-2024-0727";
  statement.products = {"pkg:oci/java17@sha256%3A" + kDigest.substr(7)};
  statement.status = "not_affected";
  statement.justification = "vulnerable_code_not_in_execute_path";
  ApplyVex({VexDocument{"vex/openssl.json", {statement}}}, {report.image, kDigest}, report.distro,
           report.match.findings);
  report.warnings = {"the vulnerability data is 30 days old"};
  report.scanned_at = "2025-03-14T12:00:00Z";
  report.tool_version = "0.1.0";
  return report;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("vuln-report-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }

  // Runs tests/npm/<script> on `content` written to a file.
  ProcessResult Validate(const std::string& script, const std::string& name,
                         const std::string& content) {
    std::string path = dir_->path() + "/" + name;
    auto written = WriteFileAtomic(path, content);
    EXPECT_TRUE(written.has_value()) << written.error().message;
    return RunProcess({"node", kNpm + script, path});
  }

  std::optional<TempDir> dir_;
};

const Finding* FindingFor(const Report& report, std::string_view id, std::string_view package) {
  for (const Finding& f : report.match.findings) {
    if (f.id == id && f.package == package) return &f;
  }
  return nullptr;
}

TEST(SummarizeTest, CountsUniquePairsAndKeepsKernelAndVexApart) {
  Report report = SampleReport();
  ASSERT_EQ(report.match.findings.size(), 8u);
  ASSERT_NE(FindingFor(report, "CVE-2024-0727", "libssl3"), nullptr);
  EXPECT_TRUE(FindingFor(report, "CVE-2024-0727", "libssl3")->suppressed);

  Summary s = Summarize(report);
  EXPECT_EQ(s.findings, 6);  // libc6 and libc-bin twice each, zlib1g, libcrypt1
  EXPECT_EQ(s.unique, 4);    // (CVE-2024-2961, glibc) counted once for both binaries
  EXPECT_EQ(s.fixable_unique, 1);
  EXPECT_EQ(s.kernel_headers, 1);
  EXPECT_EQ(s.suppressed, 1);
  EXPECT_EQ(s.by_severity[Severity::kCritical], 1);
  EXPECT_EQ(s.by_severity[Severity::kHigh], 2);
  EXPECT_EQ(s.by_severity[Severity::kMedium], 0);
  EXPECT_EQ(s.by_severity[Severity::kLow], 0);
  EXPECT_EQ(s.by_severity[Severity::kNegligible], 2);
  EXPECT_EQ(s.by_severity[Severity::kUnknown], 1);
  EXPECT_EQ(s.by_status[FixStatus::kFixable], 2);
  EXPECT_EQ(s.by_status[FixStatus::kUnfixed], 4);
  EXPECT_EQ(s.per_package, (std::map<std::string, int>{
                               {"libc-bin", 2}, {"libc6", 2}, {"libcrypt1", 1}, {"zlib1g", 1}}));
}

TEST(ReportFormatTest, ParsesTheFourNames) {
  EXPECT_EQ(ParseReportFormat("table"), ReportFormat::kTable);
  EXPECT_EQ(ParseReportFormat("json"), ReportFormat::kJson);
  EXPECT_EQ(ParseReportFormat("sarif"), ReportFormat::kSarif);
  EXPECT_EQ(ParseReportFormat("cyclonedx"), ReportFormat::kCycloneDx);
  auto bad = ParseReportFormat("xml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(bad.error().message, HasSubstr("'xml' (table, json, sarif, cyclonedx)"));
  // The CLI offers exactly these; each must parse, in the enum's order.
  EXPECT_THAT(ReportFormatNames(), ElementsAre("table", "json", "sarif", "cyclonedx"));
  for (size_t i = 0; i < ReportFormatNames().size(); ++i) {
    EXPECT_EQ(ParseReportFormat(ReportFormatNames()[i]), static_cast<ReportFormat>(i));
  }
  Report report = SampleReport();
  EXPECT_EQ(Render(report, ReportFormat::kSarif), RenderSarif(report));
  EXPECT_EQ(Render(report, ReportFormat::kTable), RenderTable(report));
}

TEST(RenderTableTest, WorstFirstWithSectionsAndDataDate) {
  Report report = SampleReport();
  std::string table = RenderTable(report);
  const std::string expected_head =
      "registry.test/java17:1 (" + kDigest +
      "): debian-12 amd64, 8 packages\n"
      "\n"
      "SEVERITY    ID              PACKAGE    INSTALLED        FIXED           STATUS\n"
      "critical    CVE-2023-45853  zlib1g     1:1.2.13.dfsg-1  -               unfixed\n"
      "high        CVE-2024-2961   libc-bin   2.36-9+deb12u4   2.36-9+deb12u7  fixable\n"
      "high        CVE-2024-2961   libc6      2.36-9+deb12u4   2.36-9+deb12u7  fixable\n"
      "negligible  CVE-2010-4756   libc-bin   2.36-9+deb12u4   -               unfixed\n"
      "negligible  CVE-2010-4756   libc6      2.36-9+deb12u4   -               unfixed\n"
      "unknown     CVE-2099-0001   libcrypt1  1:4.4.33-2       -               unfixed\n"
      "\n"
      "Kernel headers (1; kernel CVEs that do not apply to a container):\n"
      "  high  CVE-2024-1086  linux-libc-dev  6.1.69-1  6.1.76-1  fixable\n"
      "\n"
      "Suppressed by VEX (1):\n"
      "  CVE-2024-0727  libssl3  3.0.11-1~deb12u2  not_affected  "
      "vulnerable_code_not_in_execute_path  vex/openssl.json\n"
      "\n"
      "Summary: 6 findings in 4 packages: 1 critical, 2 high, 0 medium, 0 low, 2 negligible, 1 "
      "unknown\n"
      "         2 fixable, 4 unfixed; 4 unique (CVE, source) pairs, 1 fixable\n"
      "         1 on kernel headers, 1 suppressed by VEX (listed apart)\n"
      "Database: data as of 2025-02-12T08:00:00Z, from osv:/data/osv-debian.zip, imported "
      "2025-02-13T09:00:00Z, 1 entries skipped for bad versions\n"
      "Unmatched packages (1, not scanned):\n"
      "  broken x:1.0: ";
  EXPECT_EQ(table.substr(0, expected_head.size()), expected_head);
  EXPECT_THAT(table, HasSubstr("\nWarning: the vulnerability data is 30 days old\n"));
  EXPECT_THAT(table, Not(HasSubstr("\x1b")));
  EXPECT_THAT(table, Not(HasSubstr(" \n")));

  Report clean = SampleReport();
  clean.match.findings.clear();
  EXPECT_THAT(RenderTable(clean),
              HasSubstr("\n\nNo vulnerabilities found.\n\nSummary: 0 findings"));
}

// Every value in the table comes from an image, a database or a VEX document: a newline cannot
// start a row of its own and escape sequences reach the terminal escaped; the columns still align.
TEST(RenderTableTest, EscapesValuesFromImagesDatabasesAndVex) {
  Report report = SampleReport();
  for (Finding& f : report.match.findings) {
    if (f.package == "zlib1g") f.version = "1:1.2\nhigh  CVE-FAKE  fixed\x1b[32m";
    if (f.suppressed) f.vex_document = std::string("vex/\xc2\x9b") + "31m\xe2\x80\xae.json";
  }
  report.image = std::string("registry.test/\x1b]0;title\x07") + "app";
  report.database.source = "osv\r";
  report.match.unmatched.push_back("evil 1\x1b[2J");
  report.warnings.push_back("bad\x7f\nWarning: none");
  std::string table = RenderTable(report);
  for (char c : table) {
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << table;
    EXPECT_NE(c, '\x7f') << table;
  }
  EXPECT_THAT(table, Not(HasSubstr("\nhigh  CVE-FAKE")));
  EXPECT_THAT(table, HasSubstr("critical    CVE-2023-45853  zlib1g     "
                               "1:1.2\\x0ahigh  CVE-FAKE  fixed\\x1b[32m  -               "
                               "unfixed\n"));
  EXPECT_THAT(table, HasSubstr("vex/\\u009b31m\\u202e.json\n"));
  EXPECT_THAT(table, HasSubstr("registry.test/\\x1b]0;title\\x07app ("));
  EXPECT_THAT(table, HasSubstr(", from osv\\x0d, "));
  EXPECT_THAT(table, HasSubstr("\n  evil 1\\x1b[2J\n"));
  EXPECT_THAT(table, HasSubstr("\nWarning: bad\\x7f\\x0aWarning: none\n"));
}

TEST(RenderJsonTest, CarriesImageDatabaseSummaryAndFindings) {
  Report report = SampleReport();
  Json j = Json::parse(RenderJson(report));
  EXPECT_EQ(j["schema"], "hardbase-scan/v1");
  EXPECT_EQ(j["image"], (Json{{"reference", "registry.test/java17:1"},
                              {"digest", kDigest},
                              {"name", "java17"},
                              {"distro", "debian-12"},
                              {"release", "12"},
                              {"architecture", "amd64"},
                              {"packages", 8}}));
  EXPECT_EQ(j["database"]["data_date"], "2025-02-12T08:00:00Z");
  EXPECT_EQ(j["database"]["source"], "osv:/data/osv-debian.zip");
  EXPECT_EQ(j["database"]["skipped"], 1);
  EXPECT_EQ(j["database"]["format_version"], kDatabaseFormatVersion);
  const Json& summary = j["summary"];
  EXPECT_EQ(summary["by_severity"], (Json{{"critical", 1},
                                          {"high", 2},
                                          {"medium", 0},
                                          {"low", 0},
                                          {"negligible", 2},
                                          {"unknown", 1}}));
  EXPECT_EQ(summary["by_status"], (Json{{"fixable", 2}, {"unfixed", 4}}));
  EXPECT_EQ(summary["findings"], 6);
  EXPECT_EQ(summary["unique"], 4);
  EXPECT_EQ(summary["fixable_unique"], 1);
  EXPECT_EQ(summary["kernel_headers"], 1);
  EXPECT_EQ(summary["suppressed"], 1);
  EXPECT_EQ(summary["per_package"]["libc6"], 2);

  ASSERT_EQ(j["findings"].size(), 8u);
  std::map<std::string, Json> by_key;
  for (const Json& f : j["findings"]) {
    by_key[f["id"].get<std::string>() + " " + f["package"].get<std::string>()] = f;
  }
  const Json& zlib = by_key["CVE-2023-45853 zlib1g"];
  EXPECT_TRUE(zlib["fixed_version"].is_null());
  EXPECT_EQ(zlib["status"], "unfixed");
  EXPECT_EQ(zlib["severity"], "critical");
  EXPECT_EQ(zlib["severity_source"], "cvss");
  EXPECT_EQ(zlib["cvss_score"], 9.8);
  EXPECT_FALSE(zlib.contains("vex"));
  // The package's purl, as the SBOM writes it: the epoch's colon as it is.
  EXPECT_EQ(zlib["purl"],
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib");
  const Json& glibc = by_key["CVE-2024-2961 libc6"];
  EXPECT_EQ(glibc["fixed_version"], "2.36-9+deb12u7");
  EXPECT_EQ(glibc["advisories"], Json::array({"DSA-5671-1"}));
  EXPECT_EQ(glibc["source"], "glibc");
  EXPECT_EQ(glibc["urgency"], "high");
  EXPECT_TRUE(glibc["cvss_score"].is_null());
  EXPECT_EQ(by_key["CVE-2024-1086 linux-libc-dev"]["kernel_headers"], true);
  const Json& openssl = by_key["CVE-2024-0727 libssl3"];
  EXPECT_EQ(openssl["suppressed"], true);
  EXPECT_EQ(openssl["vex"], (Json{{"status", "not_affected"},
                                  {"justification", "vulnerable_code_not_in_execute_path"},
                                  {"document", "vex/openssl.json"}}));
  ASSERT_EQ(j["unmatched"].size(), 1u);
  EXPECT_THAT(j["unmatched"][0].get<std::string>(), HasSubstr("broken x:1.0"));
  EXPECT_EQ(j["warnings"], Json::array({"the vulnerability data is 30 days old"}));
  EXPECT_EQ(j["scanned_at"], "2025-03-14T12:00:00Z");
  EXPECT_EQ(j["tool"], (Json{{"name", "hardbase"}, {"version", "0.1.0"}}));
}

TEST_F(ReportTest, SarifPassesSchemaAndGitHubRules) {
  Report report = SampleReport();
  std::string sarif = RenderSarif(report);
  ProcessResult r = Validate("validate_sarif.mjs", "scan.sarif", sarif);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  Json j = Json::parse(sarif);
  EXPECT_EQ(j["version"], "2.1.0");
  const Json& run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "hardbase");
  EXPECT_FALSE(run["tool"]["driver"].contains("informationUri"));
  EXPECT_EQ(run["properties"]["databaseDataDate"], "2025-02-12T08:00:00Z");
  std::map<std::string, Json> rules;
  for (const Json& rule : run["tool"]["driver"]["rules"])
    rules[rule["id"].get<std::string>()] = rule;
  ASSERT_EQ(rules.size(), 6u);
  EXPECT_EQ(rules["CVE-2023-45853"]["properties"]["security-severity"], "9.8");
  EXPECT_EQ(rules["CVE-2023-45853"]["defaultConfiguration"]["level"], "error");
  // Debian's "low" urgency wins over the record's CVSS 7.5: the band's score, not 7.5.
  EXPECT_EQ(rules["CVE-2024-0727"]["properties"]["security-severity"], "2.0");
  EXPECT_EQ(rules["CVE-2024-2961"]["properties"]["security-severity"], "8.0");
  EXPECT_EQ(rules["CVE-2010-4756"]["defaultConfiguration"]["level"], "note");
  EXPECT_EQ(rules["CVE-2099-0001"]["properties"]["security-severity"], "0.0");
  EXPECT_THAT(rules["CVE-2024-2961"]["properties"]["tags"].dump(), HasSubstr("\"high\""));
  EXPECT_THAT(rules["CVE-2024-2961"]["help"]["markdown"].get<std::string>(),
              HasSubstr("| libc6 | 2.36-9+deb12u4 | glibc 2.36-9+deb12u4 | 2.36-9+deb12u7 |"));

  ASSERT_EQ(run["results"].size(), 8u);
  const Json& first = run["results"][0];
  EXPECT_EQ(first["ruleId"], "CVE-2023-45853");
  EXPECT_EQ(run["tool"]["driver"]["rules"][first["ruleIndex"].get<size_t>()]["id"],
            "CVE-2023-45853");
  EXPECT_EQ(first["message"]["text"],
            "zlib1g 1:1.2.13.dfsg-1 is affected by CVE-2023-45853; no fix available");
  EXPECT_EQ(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "var/lib/dpkg/status");
  EXPECT_EQ(first["properties"]["purl"],
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib");
  int suppressed = 0;
  for (const Json& result : run["results"]) {
    if (!result.contains("suppressions")) continue;
    ++suppressed;
    EXPECT_EQ(result["suppressions"][0]["kind"], "external");
    EXPECT_THAT(
        result["suppressions"][0]["justification"].get<std::string>(),
        HasSubstr(result["ruleId"] == "CVE-2024-0727" ? "vulnerable_code_not_in_execute_path"
                                                      : "kernel headers"));
  }
  EXPECT_EQ(suppressed, 2);

  report.package_database = "var/lib/dpkg/status.d";
  Json distroless = Json::parse(RenderSarif(report));
  EXPECT_EQ(distroless["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
                      ["artifactLocation"]["uri"],
            "var/lib/dpkg/status.d/zlib1g");
}

TEST_F(ReportTest, SarifValidatorRejectsWhatGitHubRefuses) {
  Json sarif = Json::parse(RenderSarif(SampleReport()));
  Json absolute = sarif;
  absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
      "file:///var/lib/dpkg/status";
  absolute["runs"][0]["tool"]["driver"]["rules"][1]["properties"]["security-severity"] = "high";
  ProcessResult r = Validate("validate_sarif.mjs", "bad.sarif", absolute.dump());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err, HasSubstr("results[0]: artifact URI \"file:///var/lib/dpkg/status\" is not relative"));
  EXPECT_THAT(r.err, HasSubstr("rules[1]: security-severity \"high\" is not a number in 0..10"));

  Json schema = sarif;
  schema["runs"][0]["results"][0]["level"] = "fatal";
  r = Validate("validate_sarif.mjs", "bad2.sarif", schema.dump());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("schema: /runs/0/results/0/level"));
}

TEST_F(ReportTest, CycloneDxPassesSchemaWithVexAnalysis) {
  Report report = SampleReport();
  std::string cdx = RenderCycloneDx(report);
  ProcessResult r = Validate("validate_cyclonedx.mjs", "scan.cdx.json", cdx);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  Json j = Json::parse(cdx);
  EXPECT_EQ(j["specVersion"], "1.5");
  EXPECT_EQ(j["metadata"]["timestamp"], "2025-03-14T12:00:00Z");
  EXPECT_EQ(j["metadata"]["component"]["version"], kDigest);
  std::set<std::string> refs;
  for (const Json& c : j["components"]) refs.insert(c["bom-ref"].get<std::string>());
  EXPECT_EQ(refs.size(), 8u);
  EXPECT_TRUE(
      refs.count("pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64&distro=debian-12&"
                 "upstream=libxcrypt%401:4.4.33-1"));
  for (const Json& c : j["components"]) EXPECT_EQ(c["purl"], c["bom-ref"]);

  std::map<std::string, Json> vulns;
  for (const Json& v : j["vulnerabilities"]) {
    vulns[v["id"].get<std::string>()] = v;
    for (const Json& a : v["affects"]) EXPECT_TRUE(refs.count(a["ref"].get<std::string>())) << a;
  }
  ASSERT_EQ(vulns.size(), 6u);
  const Json& glibc = vulns["CVE-2024-2961"];
  EXPECT_EQ(glibc["affects"].size(), 2u);
  EXPECT_EQ(glibc["recommendation"], "Upgrade glibc to 2.36-9+deb12u7");
  EXPECT_EQ(glibc["references"],
            Json::parse(R"([{"id": "DSA-5671-1", "source": {"name": "Debian"}}])"));
  EXPECT_EQ(glibc["ratings"], Json::parse(R"([{"source": {"name": "Debian"}, "severity": "high",
                                                "method": "other", "justification": "Debian urgency: high"}])"));
  EXPECT_FALSE(glibc.contains("analysis"));
  const Json& openssl = vulns["CVE-2024-0727"];
  EXPECT_EQ(openssl["analysis"]["state"], "not_affected");
  EXPECT_EQ(openssl["analysis"]["justification"], "code_not_reachable");
  EXPECT_EQ(openssl["affects"][0]["versions"][0]["status"], "unaffected");
  EXPECT_FALSE(openssl.contains("recommendation"));
  EXPECT_EQ(vulns["CVE-2024-1086"]["properties"][0]["name"], "hardbase:kernel-headers");
  EXPECT_EQ(vulns["CVE-2023-45853"]["ratings"][0]["method"], "CVSSv31");
  EXPECT_EQ(vulns["CVE-2023-45853"]["ratings"][0]["score"], 9.8);

  // The serial number follows the content: the same report gives the same one.
  EXPECT_EQ(Json::parse(RenderCycloneDx(report))["serialNumber"], j["serialNumber"]);
  report.match.findings.pop_back();
  EXPECT_NE(Json::parse(RenderCycloneDx(report))["serialNumber"], j["serialNumber"]);
}

}  // namespace
}  // namespace hardbase::vuln
