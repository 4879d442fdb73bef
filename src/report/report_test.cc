#include "report/report.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace hardbase::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

json Files(const std::vector<std::pair<std::string, std::string>>& files) {
  json out = json::array();
  for (const auto& [path, package] : files) out.push_back({{"path", path}, {"package", package}});
  return out;
}

json Severities(int critical, int high, int medium, int low, int unknown) {
  auto count = [](int total) {
    return json{{"fixable", total / 2}, {"unfixed", total - total / 2}};
  };
  return {{"critical", count(critical)},
          {"high", count(high)},
          {"medium", count(medium)},
          {"low", count(low)},
          {"unknown", count(unknown)}};
}

// A fat image: shells, a package manager, compilers, root, setuid files, a secret, 40 CVEs.
json FatAudit() {
  return {{"schema", "hardbase.audit/v1"},
          {"image",
           {{"reference", "docker.io/library/python:3.11"},
            {"name", "python"},
            {"digest", "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
            {"created", "2024-05-01T00:00:00Z"},
            {"architecture", "amd64"},
            {"distro", "Debian GNU/Linux 12 (bookworm)"},
            {"user", ""},
            {"packages", 150},
            {"size_bytes", 400 * 1048576},
            {"files", 25000},
            {"layers", 7}}},
          {"score", 31},
          {"grade", "E"},
          {"surface",
           {{"shells", Files({{"/usr/bin/bash", "bash"}, {"/usr/bin/dash", "dash"}})},
            {"package_managers", Files({{"/usr/bin/apt-get", "apt"}, {"/usr/bin/dpkg", "dpkg"}})},
            {"compilers", Files({{"/usr/bin/gcc-12", "gcc-12"}})},
            {"debuggers", json::array()},
            {"network_tools", Files({{"/usr/bin/curl", "curl"}})}}},
          {"setuid", {{{"path", "/usr/bin/su"}, {"mode", "4755"}, {"package", "util-linux"}}}},
          {"world_writable", json::array()},
          {"secrets",
           {{{"path", "/root/.ssh/id_rsa"},
             {"kind", "private-key"},
             {"line", 1},
             {"layer", 3},
             {"removed", true}}}},
          {"unowned_files", {{"count", 12}, {"sample", {"/app/main.py"}}}},
          {"packages_without_copyright", json::array()},
          {"config",
           {{"user", ""},
            {"runs_as_root", true},
            {"healthcheck", false},
            {"exposed_ports", {"8080/tcp"}},
            {"env_secrets", {"AWS_SECRET_ACCESS_KEY"}},
            {"entrypoint", json::array()},
            {"cmd", {"python3"}}}},
          {"vulnerabilities",
           {{"database", true}, {"total", 40}, {"by_severity", Severities(5, 12, 15, 6, 2)}}},
          {"provenance", {{"signature", "absent"}, {"sbom", false}, {"attestations", 0}}},
          {"cis",
           {{{"id", "4.1"},
             {"title", "Create a user"},
             {"status", "fail"},
             {"evidence", "runs as root"}},
            {{"id", "4.10"}, {"title", "No secrets"}, {"status", "fail"}, {"evidence", "id_rsa"}},
            {{"id", "4.6"}, {"title", "Add HEALTHCHECK"}, {"status", "fail"}, {"evidence", ""}}}},
          {"findings",
           {{{"id", "shell"},
             {"severity", "medium"},
             {"title", "The image has shells"},
             {"evidence", {"/usr/bin/bash"}}}}}};
}

json HardenedAudit() {
  json a = FatAudit();
  a["image"]["reference"] = "registry.example/python:3.11-hardened";
  a["image"]["packages"] = 22;
  a["image"]["size_bytes"] = 48 * 1048576;
  a["score"] = 94;
  a["grade"] = "A";
  for (auto& [category, files] : a["surface"].items()) files = json::array();
  a["setuid"] = json::array();
  a["secrets"] = json::array();
  a["config"]["user"] = "65532";
  a["config"]["runs_as_root"] = false;
  a["config"]["env_secrets"] = json::array();
  a["vulnerabilities"] = {
      {"database", true}, {"total", 3}, {"by_severity", Severities(0, 0, 1, 2, 0)}};
  a["provenance"] = {{"signature", "verified"}, {"sbom", true}, {"attestations", 2}};
  a["cis"][0]["status"] = "pass";
  a["cis"][1]["status"] = "pass";
  a["cis"][2]["status"] = "n/a";
  a["findings"] = json::array();
  return a;
}

json CompareJson() {
  json before = FatAudit(), after = HardenedAudit();
  before.erase("schema");
  after.erase("schema");
  return {{"schema", "hardbase.audit-compare/v1"}, {"before", before}, {"after", after}};
}

json DiffJson() {
  return {{"before",
           {{"reference", "docker.io/library/python:3.11"},
            {"digest", "sha256:11"},
            {"packages", 150},
            {"bytes", 400 * 1048576}}},
          {"after",
           {{"reference", "registry.example/python:3.11-hardened"},
            {"digest", "sha256:22"},
            {"packages", 22},
            {"bytes", 48 * 1048576}}},
          {"size_change", -352 * 1048576},
          {"packages",
           {{"changes",
             {{{"name", "bash"},
               {"architecture", "amd64"},
               {"before", "5.2.15-2+b2"},
               {"after", nullptr},
               {"size_before_kib", 7000},
               {"size_after_kib", 0},
               {"closed",
                {{{"id", "CVE-2022-3715"},
                  {"package", "bash"},
                  {"severity", "high"},
                  {"fixed_version", ""}}}},
               {"opened", json::array()}},
              {{"name", "libssl3"},
               {"architecture", "amd64"},
               {"before", "3.0.11-1~deb12u1"},
               {"after", "3.0.13-1~deb12u1"},
               {"size_before_kib", 6000},
               {"size_after_kib", 6100},
               {"closed",
                {{{"id", "CVE-2023-5678"},
                  {"package", "libssl3"},
                  {"severity", "medium"},
                  {"fixed_version", "3.0.13-1~deb12u1"}}}},
               {"opened", json::array()}},
              {{"name", "tini"},
               {"architecture", "amd64"},
               {"before", nullptr},
               {"after", "0.19.0-1"},
               {"size_before_kib", 0},
               {"size_after_kib", 30},
               {"closed", json::array()},
               {"opened", json::array()}}}},
            {"unchanged", 20},
            {"matched", true},
            {"closed", 2},
            {"opened", 0},
            {"remaining_with_fix", json::array()}}}};
}

json MigrationJson() {
  return {{"schema", "hardbase.migration/v1"},
          {"source", "app/Dockerfile"},
          {"before",
           "FROM python:3.11\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\n"
           "CMD [\"python3\", \"/app/main.py\"]\n"},
          {"after",
           "FROM hardbase/python:3.11\nCOPY . /app\nUSER 65532\n"
           "CMD [\"python3\", \"/app/main.py\"]\n"},
          {"spec", "name: app\npackages:\n  - curl\n"},
          {"changes",
           {{{"line", 1}, {"kind", "base"}, {"message", "python:3.11 -> hardbase/python:3.11"}},
            {{"line", 2}, {"kind", "packages"}, {"message", "curl moved into the spec"}}}},
          {"refused", json::array()}};
}

ReportInputs Inputs(json audit, std::optional<json> diff = std::nullopt,
                    std::optional<json> migration = std::nullopt) {
  ReportInputs inputs{{std::move(audit), "audit.json"}, std::nullopt, std::nullopt};
  if (diff) inputs.diff = Document{std::move(*diff), "diff.json"};
  if (migration) inputs.migration = Document{std::move(*migration), "migration.json"};
  return inputs;
}

size_t Count(const std::string& haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(ReportTest, ShowsScoresChartsAndChecklist) {
  auto html = RenderHtml(Inputs(CompareJson(), DiffJson(), MigrationJson()));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, StartsWith("<!DOCTYPE html>\n"));
  EXPECT_THAT(*html, HasSubstr("31 / 100</strong> (grade E)"));
  EXPECT_THAT(*html, HasSubstr("94 / 100</strong> (grade A)"));
  // The vulnerability chart: the tallest bar (15 medium before) is 160 px, the others to scale,
  // each with its number above it; no bar where there is nothing.
  EXPECT_THAT(*html, HasSubstr("height=\"160\" fill=\"#eab308\"><title>medium: 15</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"53\" fill=\"#b91c1c\"><title>critical: 5</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"128\" fill=\"#f97316\"><title>high: 12</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"64\" fill=\"#3b82f6\"><title>low: 6</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"21\" fill=\"#9ca3af\"><title>unknown: 2</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"11\" fill=\"#eab308\"><title>medium: 1</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"21\" fill=\"#3b82f6\"><title>low: 2</title>"));
  EXPECT_THAT(*html, Not(HasSubstr("<title>critical: 0</title>")));
  EXPECT_THAT(*html, HasSubstr("font-size=\"11\">15</text>"));
  EXPECT_THAT(*html, HasSubstr("font-size=\"11\">0</text>"));
  for (std::string_view severity : kSeverities) {
    EXPECT_THAT(*html, HasSubstr(fmt::format("font-size=\"12\">{}</text>", severity)));  // legend
  }
  // Size and packages, before and after.
  EXPECT_THAT(*html, HasSubstr("height=\"160\" fill=\"#64748b\"><title>Before: 400.0 MiB</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"19\" fill=\"#14b8a6\"><title>After: 48.0 MiB</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"160\" fill=\"#64748b\"><title>Before: 150</title>"));
  EXPECT_THAT(*html, HasSubstr("height=\"23\" fill=\"#14b8a6\"><title>After: 22</title>"));
  // The checklist: shells found before, none after; CIS checks ordered by number.
  EXPECT_THAT(*html, HasSubstr("<tr><th scope=\"row\">Shells</th><td class=\"fail\"><span "
                               "class=\"mark\">\u2717 fail</span><span class=\"detail\">2 found:"
                               "<br>/usr/bin/bash (bash)<br>/usr/bin/dash (dash)</span></td>"
                               "<td class=\"pass\"><span class=\"mark\">\u2713 pass</span>"));
  EXPECT_THAT(*html,
              HasSubstr("<th scope=\"row\">Runs as a non-root user</th><td class=\"fail\">"));
  size_t cis_1 = html->find(">4.1 Create a user<"), cis_6 = html->find(">4.6 Add HEALTHCHECK<"),
         cis_10 = html->find(">4.10 No secrets<");
  ASSERT_NE(cis_10, std::string::npos);
  EXPECT_LT(cis_1, cis_6);
  EXPECT_LT(cis_6, cis_10);
  // Package changes and the Dockerfile's diff.
  EXPECT_THAT(*html, HasSubstr("<strong>1</strong> added, <strong>1</strong> removed, "
                               "<strong>1</strong> changed, 20 unchanged."));
  EXPECT_THAT(*html, HasSubstr("Vulnerabilities closed: <strong>2</strong>"));
  EXPECT_THAT(*html, HasSubstr("<td>CVE-2023-5678 (medium)</td>"));
  EXPECT_THAT(*html, HasSubstr("(-352.0 MiB)"));
  EXPECT_THAT(*html, HasSubstr("<td colspan=\"4\">@@ -1,4 +1,4 @@</td>"));
  EXPECT_THAT(*html, HasSubstr("<tr class=\"del\"><td class=\"ln\">2</td><td class=\"ln\"></td>"
                               "<td class=\"sign\">-</td><td>RUN apt-get update &amp;&amp; "
                               "apt-get install -y curl</td></tr>"));
  EXPECT_THAT(*html, HasSubstr("<tr class=\"ins\"><td class=\"ln\"></td><td class=\"ln\">3</td>"
                               "<td class=\"sign\">+</td><td>USER 65532</td></tr>"));
  EXPECT_THAT(*html,
              HasSubstr("<td>line 2</td><td>packages</td><td>curl moved into the spec</td>"));
  EXPECT_THAT(*html, HasSubstr("<pre class=\"spec\">name: app\npackages:\n  - curl\n</pre>"));
}

TEST(ReportTest, LoadsNothing) {
  auto html = RenderHtml(Inputs(CompareJson(), DiffJson(), MigrationJson()));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, HasSubstr("<meta http-equiv=\"Content-Security-Policy\" "
                               "content=\"default-src 'none'; style-src 'unsafe-inline'\">"));
  for (std::string_view loader : {"<script", "<img", "<link", "<iframe", "<object", "<embed",
                                  "src=", "href=", "url(", "@import", "https:"}) {
    EXPECT_THAT(*html, Not(HasSubstr(loader)));
  }
  // The only URL is the SVG namespace, once per chart.
  EXPECT_EQ(Count(*html, "http:"), 3u);
  EXPECT_EQ(Count(*html, "xmlns=\"http://www.w3.org/2000/svg\""), 3u);
}

TEST(ReportTest, IsDeterministic) {
  auto a = RenderHtml(Inputs(CompareJson(), DiffJson(), MigrationJson()));
  auto b = RenderHtml(Inputs(CompareJson(), DiffJson(), MigrationJson()));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  // The same documents written in another order of keys.
  auto c = RenderHtml(ReportInputs{{json::parse(CompareJson().dump()), "audit.json"},
                                   Document{json::parse(DiffJson().dump(1)), "d"},
                                   Document{json::parse(MigrationJson().dump()), "m"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(*a, *c);
}

TEST(ReportTest, RendersOneAuditAlone) {
  auto html = RenderHtml(Inputs(HardenedAudit()));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, HasSubstr("<th>Check</th><th>Image</th></tr>"));
  EXPECT_THAT(*html, HasSubstr("94 / 100"));
  EXPECT_THAT(*html, Not(HasSubstr("id=\"packages\"")));
  EXPECT_THAT(*html, Not(HasSubstr("id=\"migration\"")));
  // Without a vulnerability database the chart says so instead of drawing zeros.
  json no_db = HardenedAudit();
  no_db["vulnerabilities"] = {{"database", false}, {"total", 0}, {"note", "no data for sid"}};
  html = RenderHtml(Inputs(no_db));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, HasSubstr(">no vulnerability database</text>"));
  EXPECT_THAT(*html, HasSubstr("without a vulnerability database: no data for sid (run"));
  EXPECT_THAT(*html, Not(HasSubstr("fill=\"#eab308\"><title>")));
  // Missing sections are "not reported", not passes.
  json bare = {
      {"schema", "hardbase.audit/v1"}, {"image", json::object()}, {"score", 50}, {"grade", "C"}};
  html = RenderHtml(Inputs(bare));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, Not(HasSubstr("class=\"pass\"")));
  EXPECT_THAT(*html, HasSubstr("<td class=\"none\"><span class=\"mark\">not reported</span></td>"));
}

// Debian's "negligible" severity has its own bar and row; the documents may lack it.
TEST(ReportTest, ShowsNegligibleVulnerabilities) {
  json audit = HardenedAudit();
  audit["vulnerabilities"]["by_severity"]["negligible"] = {{"fixable", 0}, {"unfixed", 4}};
  auto html = RenderHtml(Inputs(audit));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html, HasSubstr("height=\"160\" fill=\"#a78bfa\"><title>negligible: 4</title>"));
  EXPECT_THAT(*html, HasSubstr("<th scope=\"row\">negligible</th><td class=\"num\">0</td>"
                               "<td class=\"num\">4</td><td class=\"num\">4</td>"));
}

TEST(ReportTest, RefusedMigrationHasNoDiff) {
  json m = MigrationJson();
  m["after"] = "";
  m["changes"] = json::array();
  m["refused"] = {{{"line", 3}, {"message", "ONBUILD cannot be migrated"}}};
  auto html = RenderHtml(Inputs(CompareJson(), std::nullopt, m));
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html,
              HasSubstr("<td class=\"fail\">line 3</td><td>ONBUILD cannot be migrated</td>"));
  EXPECT_THAT(*html, HasSubstr("The migration was refused"));
  EXPECT_THAT(*html, Not(HasSubstr("class=\"diff\"")));
}

// Every string of every document set to hostile text: markup, quotes, the end of the style
// element, terminal escapes, a bidi override, invalid UTF-8, a tab and a line break; '|' (which
// the page itself never uses) between them.
constexpr std::string_view kHostile =
    "<script>alert(1)</script>|\"|'|&|>|</style><style>|\x01|\x1b[31m|\xe2\x80\xae|\xff|\t|\n|Z";
constexpr std::string_view kHostileEscaped =
    "&lt;script&gt;alert(1)&lt;/script&gt;|&quot;|&#39;|&amp;|&gt;|&lt;/style&gt;&lt;style&gt;|"
    "\\x01|\\x1b[31m|\\u202e|\\xff|\\x09|\\x0a|Z";

void Poison(json& value, std::string_view key = "") {
  // Fields that must hold one of a few words keep them: their checks are tested below.
  static const std::set<std::string_view> kEnums = {"schema", "grade", "status", "severity",
                                                    "signature"};
  if (value.is_string() && !kEnums.contains(key)) {
    value = std::string(kHostile);
  } else if (value.is_object()) {
    for (auto& [k, v] : value.items()) Poison(v, k);
  } else if (value.is_array()) {
    for (json& v : value) Poison(v, key);
  }
}

TEST(ReportTest, EscapesEveryString) {
  json audit = CompareJson(), diff = DiffJson(), migration = MigrationJson();
  for (json* doc : {&audit, &diff, &migration}) Poison(*doc);
  // The Dockerfiles: the hostile lines among ordinary ones, so that the diff shows them.
  migration["before"] = "FROM a\n" + std::string(kHostile) + "\nCMD x\n";
  migration["after"] = "FROM b\n" + std::string(kHostile) + "\nUSER 1\n";
  auto html = RenderHtml(Inputs(audit, diff, migration));
  ASSERT_TRUE(html) << html.error().message;
  for (std::string_view raw : {"<script", "|\"", "|'", "|&|", "|>", "</style><style>", "\x01",
                               "\x1b", "\xff", "\xe2\x80\xae"}) {
    size_t at = html->find(raw);
    EXPECT_EQ(at, std::string::npos)
        << raw << " in " << html->substr(at - std::min<size_t>(at, 80), 160);
  }
  EXPECT_EQ(Count(*html, "</style>"), 1u);
  EXPECT_EQ(Count(*html, "<style>"), 1u);
  // Shown escaped: many times over (names, paths, evidence, versions, messages).
  EXPECT_GT(Count(*html, kHostileEscaped), 40u);
  // In the Dockerfile's diff and the spec the tab stays a tab; the line break splits lines.
  EXPECT_NE(html->find("<td class=\"sign\"> </td><td>&lt;script&gt;alert(1)"), std::string::npos);
  EXPECT_NE(html->find("|\\xff|\t|</td></tr>\n<tr class=\"ctx\"><td class=\"ln\">3</td><td "
                       "class=\"ln\">3</td><td class=\"sign\"> </td><td>|Z</td>"),
            std::string::npos);
  EXPECT_NE(html->find("<pre class=\"spec\">&lt;script&gt;"), std::string::npos);
  // No control character but line breaks and the tabs of code.
  size_t controls = 0;
  for (char c : *html) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) ++controls;
  }
  EXPECT_EQ(controls, 0u);
}

struct BadField {
  std::string document;  // "audit", "diff" or "migration"
  std::string pointer;   // JSON pointer of the field to set
  json value;
  std::string message;  // the whole error message
};

TEST(ReportTest, RejectsFieldsOfTheWrongType) {
  const std::vector<BadField> cases = {
      {"audit", "/after/score", "94",
       "audit.json: after.score: expected an integer, found a string"},
      {"audit", "/after/score", 101, "audit.json: after.score: expected an integer from 0 to 100"},
      {"audit", "/before/score", 9.5,
       "audit.json: before.score: expected an integer, found a fractional number"},
      {"audit", "/after/grade", "Z",
       "audit.json: after.grade: expected one of \"A\", \"B\", \"C\", \"D\", \"E\", \"F\""},
      {"audit", "/before/surface/shells/1/path", 5,
       "audit.json: before.surface.shells[1].path: expected a string, found an integer"},
      {"audit", "/before/surface/shells/1", "bash",
       "audit.json: before.surface.shells[1]: expected an object, found a string"},
      {"audit", "/before/surface", json::array(),
       "audit.json: before.surface: expected an object, found an array"},
      {"audit", "/before/setuid/0/mode", 4755,
       "audit.json: before.setuid[0].mode: expected a string, found an integer"},
      {"audit", "/before/secrets/0/removed", "yes",
       "audit.json: before.secrets[0].removed: expected true or false, found a string"},
      {"audit", "/after/config/env_secrets", json::array({1}),
       "audit.json: after.config.env_secrets[0]: expected a string, found an integer"},
      {"audit", "/after/vulnerabilities/by_severity/high/fixable", -1,
       "audit.json: after.vulnerabilities.by_severity.high.fixable: expected an integer from 0 "
       "to 9223372036854775807"},
      {"audit", "/after/vulnerabilities/by_severity/high/fixable",
       json(uint64_t{18446744073709551615u}),
       "audit.json: after.vulnerabilities.by_severity.high.fixable: expected an integer from 0 "
       "to 9223372036854775807"},
      {"audit", "/after/provenance/signature", "forged",
       "audit.json: after.provenance.signature: expected one of \"verified\", \"present\", "
       "\"absent\", \"invalid\""},
      {"audit", "/after/cis/0/status", "maybe",
       "audit.json: after.cis[0].status: expected one of \"pass\", \"fail\", \"n/a\""},
      {"audit", "/after/cis/0/id", nullptr, "audit.json: after.cis[0].id: missing"},
      {"audit",
       "/before/findings/0",
       {{"severity", "critical"}},
       "audit.json: before.findings[0].severity: expected one of \"high\", \"medium\", \"low\", "
       "\"info\""},
      {"audit", "/after/image", "img",
       "audit.json: after.image: expected an object, found a string"},
      {"audit", "/after/image/size_bytes", json::object(),
       "audit.json: after.image.size_bytes: expected an integer, found an object"},
      {"audit", "/before", nullptr, "audit.json: before: missing"},
      {"audit", "/schema", "hardbase.migration/v1",
       "audit.json: schema: expected \"hardbase.audit-compare/v1\" or \"hardbase.audit/v1\" (the "
       "output of `hardbase audit --json`)"},
      {"audit", "", json::array(), "audit.json: expected a JSON object, found an array"},
      {"diff", "/packages/changes", json::object(),
       "diff.json: packages.changes: expected an array, found an object"},
      {"diff", "/packages/changes/1/closed/0/id", true,
       "diff.json: packages.changes[1].closed[0].id: expected a string, found a boolean"},
      {"diff", "/packages/changes/0/before", 5,
       "diff.json: packages.changes[0].before: expected a string, found an integer"},
      {"diff", "/after/bytes", "big",
       "diff.json: after.bytes: expected an integer, found a string"},
      {"diff", "/packages", nullptr, "diff.json: packages: missing"},
      {"diff", "/schema", "hardbase.audit/v1",
       "diff.json: schema: not expected: not the output of `hardbase diff --json`"},
      {"migration", "/before", 3, "migration.json: before: expected a string, found an integer"},
      {"migration", "/changes/1/line", "2",
       "migration.json: changes[1].line: expected an integer, found a string"},
      {"migration", "/refused", json::object(),
       "migration.json: refused: expected an array, found an object"},
      {"migration", "/schema", "hardbase.audit/v1",
       "migration.json: schema: expected one of \"hardbase.migration/v1\""},
  };
  for (const BadField& c : cases) {
    json audit = CompareJson(), diff = DiffJson(), migration = MigrationJson();
    json& doc = c.document == "audit" ? audit : c.document == "diff" ? diff : migration;
    if (c.pointer.empty()) {
      doc = c.value;
    } else {
      doc[json::json_pointer(c.pointer)] = c.value;
    }
    auto html = RenderHtml(Inputs(audit, diff, migration));
    ASSERT_FALSE(html) << c.pointer;
    EXPECT_EQ(html.error().code, ErrorCode::kSpec) << c.pointer;
    EXPECT_EQ(html.error().message, c.message) << c.pointer;
  }
}

// Every leaf of every document replaced by a value of each other type: an error naming the file,
// or a page, and never an exception.
TEST(ReportTest, SurvivesAnyTypeAnywhere) {
  const std::vector<json> replacements = {
      nullptr, true, -1, 1.5, "s", json::array({1}), json::object({{"k", 1}})};
  const std::vector<Document> documents = {{CompareJson(), "audit.json"},
                                           {DiffJson(), "diff.json"},
                                           {MigrationJson(), "migration.json"}};
  size_t failures = 0, pages = 0;
  for (const auto& [document, file] : documents) {
    json leaves = document.flatten();
    for (const auto& [pointer, leaf] : leaves.items()) {
      for (const json& replacement : replacements) {
        ReportInputs inputs{documents[0], documents[1], documents[2]};
        Document& doc = file == "audit.json"  ? inputs.audit
                        : file == "diff.json" ? *inputs.diff
                                              : *inputs.migration;
        doc.json[json::json_pointer(pointer)] = replacement;
        Result<std::string> html = Fail(ErrorCode::kInternal, "not run");
        EXPECT_NO_THROW(html = RenderHtml(inputs)) << file << pointer;
        if (html) {
          ++pages;
        } else {
          ++failures;
          EXPECT_EQ(html.error().code, ErrorCode::kSpec) << file << pointer;
          EXPECT_THAT(html.error().message, StartsWith(file + ": ")) << pointer;
        }
      }
    }
  }
  EXPECT_GT(failures, 100u);
  EXPECT_GT(pages, 100u);
}

TEST(ReportTest, ParseDocumentNamesTheFile) {
  auto doc = ParseDocument("{\"schema\": ", "broken.json");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, ErrorCode::kSpec);
  EXPECT_THAT(doc.error().message, StartsWith("broken.json: "));
  std::string deep(100000, '[');
  doc = ParseDocument(deep, "deep.json");
  ASSERT_FALSE(doc);
  EXPECT_THAT(doc.error().message, StartsWith("deep.json: JSON nested deeper"));
  doc = ParseDocument(CompareJson().dump(), "ok.json");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->file, "ok.json");
}

TEST(ReportTest, HtmlEscapeIsPrintableThenEntities) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("line\nbreak\x1b[0m"), "line\\x0abreak\\x1b[0m");
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9 \xff"), "caf\xc3\xa9 \\xff");
}

}  // namespace
}  // namespace hardbase::report
