#include "ci/workflows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::ci {
namespace {

using ::hardbase::testing::FailsWith;
using ::hardbase::testing::RunProcess;
using ::testing::ContainerEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kActionRef = "acme/hardbase@" + std::string(40, 'c');

// Values unlike anything the templates hold, so each can be traced to where it lands.
CiOptions Options() {
  CiOptions o;
  o.catalog = "images/cat-alog";
  o.registry = "reg.example:5000/acme/hardened";
  o.cache_repo = "cache.example/acme/layer-cache";
  o.shards = 3;
  o.tag = "v1.10";
  o.branch = "trunk";
  o.key_secret = "HB_SIGNING_KEY";
  o.public_key = "keys/hb.pub";
  o.gate_images = {"reg.example:5000/acme/hardened/python3:v1.10",
                   "reg.example:5000/acme/hardened/nginx@sha256:" + std::string(64, 'a')};
  o.fail_on = "critical";
  o.action = kActionRef;
  o.source_url = "https://git.example/acme/hardbase.git";
  o.source_ref = "v0.2.0";
  return o;
}

YAML::Node Parse(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << "does not parse as YAML: " << e.what() << "\n" << text;
    return YAML::Node();
  }
}

std::map<std::string, std::string> GitHubFiles(const CiOptions& o = Options()) {
  auto files = GitHubWorkflows(o);
  EXPECT_TRUE(files) << files.error().message;
  std::map<std::string, std::string> out;
  if (files) {
    for (const auto& f : *files) out[f.path] = f.text;
  }
  return out;
}

YAML::Node Workflow(const std::string& name, const CiOptions& o = Options()) {
  return Parse(GitHubFiles(o).at(".github/workflows/hardbase-" + name + ".yml"));
}

std::string GitLabText(const CiOptions& o = Options()) {
  auto file = GitLabPipeline(o);
  EXPECT_TRUE(file) << file.error().message;
  return file ? file->text : "";
}

std::vector<std::string> Strings(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.as<std::string>());
  return out;
}

// The text of every `${{ ... }}` in `text`.
std::vector<std::string> Expressions(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = text.find("${{", at)) != std::string::npos) {
    size_t end = text.find("}}", at);
    if (end == std::string::npos) {
      out.push_back(text.substr(at));
      break;
    }
    out.push_back(text.substr(at + 3, end - at - 3));
    at = end + 2;
  }
  return out;
}

// Whether bash reads `script` (syntax only).
void ExpectBashParses(const std::string& script, const std::string& where) {
  auto r = RunProcess({"bash", "-n"}, {}, script);
  EXPECT_EQ(r.exit_code, 0) << where << ": " << r.err << "\n" << script;
}

TEST(YamlStringTest, ReadsBackAsTheSameString) {
  const std::vector<std::string> values = {
      "",
      "plain",
      "a \"quoted\" 'value'",
      "back\\slash",
      "new\nline and\ttab and \r return",
      std::string("nul\0byte", 8),
      "\x01\x1f\x7f",
      "${{ secrets.GITHUB_TOKEN }}",
      "$(id) `id` ${HOME}",
      "key: value # comment",
      "- [a, b] {c: d} & * ! | > % @",
      "yes",
      "1.10",
      "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80",  // é, LINE SEPARATOR, an emoji
  };
  for (const auto& v : values) {
    std::string yaml = "value: " + YamlString(v) + "\n";
    YAML::Node node = Parse(yaml);
    ASSERT_TRUE(node["value"]) << yaml;
    EXPECT_EQ(node["value"].as<std::string>(), v) << yaml;
    EXPECT_EQ(yaml.find('\n'), yaml.size() - 1) << "one line: " << yaml;
  }
}

TEST(YamlStringTest, InvalidUtf8BecomesTheReplacementCharacter) {
  YAML::Node node = Parse("v: " +
                          YamlString("a\xff"
                                     "b") +
                          "\n");
  EXPECT_EQ(node["v"].as<std::string>(),
            "a\xef\xbf\xbd"
            "b");
}

TEST(GitHubWorkflowsTest, WritesThreeWorkflowsThatParse) {
  auto files = GitHubFiles();
  std::vector<std::string> paths;
  for (const auto& [path, text] : files) {
    paths.push_back(path);
    YAML::Node w = Parse(text);
    EXPECT_TRUE(w["name"]) << path;
    EXPECT_TRUE(w["on"]) << path;
    EXPECT_TRUE(w["jobs"].IsMap()) << path;
    EXPECT_EQ(w["defaults"]["run"]["shell"].as<std::string>(), "bash") << path;
    EXPECT_THAT(text, HasSubstr("Written by `hardbase ci init`")) << path;
  }
  EXPECT_THAT(paths, ElementsAre(".github/workflows/hardbase-gate.yml",
                                 ".github/workflows/hardbase-publish.yml",
                                 ".github/workflows/hardbase-update.yml"));
}

TEST(GitHubWorkflowsTest, UpdateRunsNightlyAndOpensAPullRequestOnExitNine) {
  YAML::Node w = Workflow("update");
  EXPECT_TRUE(w["on"]["schedule"][0]["cron"]);
  EXPECT_TRUE(w["on"]["workflow_dispatch"]);
  EXPECT_EQ(w["env"]["CATALOG"].as<std::string>(), "images/cat-alog");
  EXPECT_EQ(w["permissions"]["pull-requests"].as<std::string>(), "write");
  YAML::Node steps = w["jobs"]["update"]["steps"];
  std::string update, pr, pr_if;
  for (const auto& step : steps) {
    if (step["id"] && step["id"].as<std::string>() == "update")
      update = step["run"].as<std::string>();
    if (step["run"] && step["run"].as<std::string>().find("gh pr create") != std::string::npos) {
      pr = step["run"].as<std::string>();
      pr_if = step["if"].as<std::string>();
    }
  }
  EXPECT_THAT(update, HasSubstr("hardbase catalog update \"$CATALOG\" --write --markdown "
                                "\"$REPORT_DIR/pr.md\" \\\n  --json \"$REPORT_DIR/update.json\""));
  EXPECT_THAT(update, HasSubstr("9) REBUILD=true"));
  EXPECT_THAT(update, HasSubstr("0) REBUILD=false"));
  EXPECT_THAT(update, HasSubstr("*) echo \"hardbase catalog update exited $code\" >&2; exit "
                                "\"$code\""));
  EXPECT_EQ(pr_if, "steps.update.outputs.rebuild == 'true'");
  EXPECT_THAT(pr, HasSubstr("git add -A -- \"$CATALOG\""));
  EXPECT_THAT(pr, HasSubstr("gh pr edit"));
  EXPECT_THAT(pr, HasSubstr("--body-file \"$REPORT_DIR/description.md\""));
}

TEST(GitHubWorkflowsTest, PublishPlansThenBuildsOneJobPerShard) {
  YAML::Node w = Workflow("publish");
  EXPECT_THAT(Strings(w["on"]["push"]["branches"]), ElementsAre("trunk"));
  EXPECT_THAT(Strings(w["on"]["push"]["paths"]), ElementsAre("images/cat-alog/**"));
  EXPECT_EQ(w["env"]["REGISTRY"].as<std::string>(), "reg.example:5000/acme/hardened");
  EXPECT_EQ(w["env"]["CACHE_REPO"].as<std::string>(), "cache.example/acme/layer-cache");
  EXPECT_EQ(w["env"]["TAG"].as<std::string>(), "v1.10");
  YAML::Node plan = w["jobs"]["plan"];
  YAML::Node build = w["jobs"]["build"];
  EXPECT_EQ(plan["outputs"]["matrix"].as<std::string>(), "${{ steps.plan.outputs.matrix }}");
  std::string plan_run;
  for (const auto& step : plan["steps"]) {
    if (step["id"] && step["id"].as<std::string>() == "plan")
      plan_run = step["run"].as<std::string>();
  }
  EXPECT_THAT(plan_run, HasSubstr("hardbase catalog plan \"$CATALOG\" --shards 3 --json"));
  EXPECT_THAT(plan_run, HasSubstr("jq -c .matrix"));
  EXPECT_EQ(build["needs"].as<std::string>(), "plan");
  EXPECT_EQ(build["strategy"]["matrix"].as<std::string>(),
            "${{ fromJSON(needs.plan.outputs.matrix) }}");
  EXPECT_FALSE(build["strategy"]["fail-fast"].as<bool>());
  std::string runs;
  std::map<std::string, std::string> env;
  for (const auto& step : build["steps"]) {
    if (step["run"]) runs += step["run"].as<std::string>();
    for (const auto& kv : step["env"])
      env[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  EXPECT_THAT(runs, HasSubstr("hardbase catalog build \"$CATALOG\" --shard \"$SHARD\" "
                              "--cache-repo \"$CACHE_REPO\" --locked"));
  EXPECT_THAT(runs, HasSubstr("--sign-key \"$KEY_FILE\" --output-dir out/catalog"));
  EXPECT_THAT(runs,
              HasSubstr("hardbase sign \"oci:$dir\" --key \"$KEY_FILE\" --reference \"$ref\""));
  EXPECT_THAT(runs, HasSubstr("hardbase push \"oci:$dir\" \"$ref:$TAG\""));
  EXPECT_THAT(runs, HasSubstr("hardbase diff \"$previous\" \"$ref@$built\""));
  EXPECT_EQ(env["SHARD"], "${{ matrix.shard }}");
  EXPECT_EQ(env["SIGNING_KEY"], "${{ secrets.HB_SIGNING_KEY }}");
  EXPECT_EQ(env["COSIGN_PASSWORD"], "${{ secrets.COSIGN_PASSWORD }}");
  EXPECT_EQ(env["REGISTRY_PASSWORD"], "${{ secrets.REGISTRY_PASSWORD }}");
}

TEST(GitHubWorkflowsTest, WithoutACacheRepositoryNoCacheFlag) {
  CiOptions o = Options();
  o.cache_repo = "";
  std::string text = GitHubFiles(o).at(".github/workflows/hardbase-publish.yml");
  EXPECT_THAT(text, Not(HasSubstr("--cache-repo")));
  EXPECT_EQ(Parse(text)["env"]["CACHE_REPO"].as<std::string>(), "");
}

TEST(GitHubWorkflowsTest, OnGhcrTheWorkflowTokenIsTheFallbackCredential) {
  CiOptions o = Options();
  o.registry = "ghcr.io/acme/hardened";
  YAML::Node w = Workflow("publish", o);
  bool found = false;
  for (const auto& step : w["jobs"]["build"]["steps"]) {
    YAML::Node env = step["env"];
    if (!env || !env["REGISTRY_PASSWORD"]) continue;
    found = true;
    EXPECT_EQ(env["REGISTRY_PASSWORD"].as<std::string>(),
              "${{ secrets.REGISTRY_PASSWORD || github.token }}");
  }
  EXPECT_TRUE(found);
}

TEST(GitHubWorkflowsTest, GateVerifiesScansAndUploadsEachImage) {
  CiOptions o = Options();
  YAML::Node w = Workflow("gate", o);
  EXPECT_EQ(w["permissions"]["security-events"].as<std::string>(), "write");
  EXPECT_EQ(w["env"]["PUBLIC_KEY"].as<std::string>(), "keys/hb.pub");
  EXPECT_EQ(w["env"]["FAIL_ON"].as<std::string>(), "critical");
  YAML::Node job = w["jobs"]["gate"];
  EXPECT_THAT(Strings(job["strategy"]["matrix"]["image"]), ContainerEq(o.gate_images));
  std::vector<std::string> order;
  for (const auto& step : job["steps"]) {
    std::string run = step["run"] ? step["run"].as<std::string>() : "";
    if (run.find("hardbase verify \"$IMAGE\" --key \"$PUBLIC_KEY\"") != std::string::npos) {
      order.push_back("verify");
    }
    if (run.find("hardbase scan \"$IMAGE\" --fail-on \"$FAIL_ON\" --format sarif -o "
                 "results.sarif") != std::string::npos) {
      order.push_back("scan");
    }
    if (step["uses"] &&
        step["uses"].as<std::string>().starts_with("github/codeql-action/upload-sarif@")) {
      order.push_back("upload");
      EXPECT_EQ(step["with"]["sarif_file"].as<std::string>(), "results.sarif");
      EXPECT_EQ(step["if"].as<std::string>(),
                "${{ !cancelled() && hashFiles('results.sarif') != '' }}");
    }
  }
  EXPECT_THAT(order, ElementsAre("verify", "scan", "upload"));
}

// What keeps a value from being run: no `${{ }}` inside a script (values reach scripts as
// environment variables), every expression one of the templates' own, naming no value given,
// every action pinned by a full commit but hardbase's own (as given), and every script bash reads.
TEST(GitHubWorkflowsTest, ValuesNeverReachAnExpressionOrAScript) {
  CiOptions o = Options();
  const std::vector<std::string> given = {
      o.catalog,    o.registry,       o.cache_repo,     o.tag,
      o.public_key, o.gate_images[0], o.gate_images[1], o.source_url};
  const std::set<std::string> allowed = {
      " secrets.HARDBASE_PR_TOKEN || github.token ",
      " runner.temp ",
      " steps.update.outputs.rebuild ",
      " steps.plan.outputs.matrix ",
      " fromJSON(needs.plan.outputs.matrix) ",
      " matrix.shard ",
      " matrix.image ",
      " secrets.HB_SIGNING_KEY ",
      " secrets.COSIGN_PASSWORD ",
      " secrets.REGISTRY_USERNAME ",
      " secrets.REGISTRY_PASSWORD ",
      " github.ref_name ",
      " !cancelled() && hashFiles('results.sarif') != '' ",
  };
  for (const auto& [path, text] : GitHubFiles(o)) {
    for (const auto& e : Expressions(text)) EXPECT_TRUE(allowed.count(e)) << path << ": ${{" << e;
    YAML::Node w = Parse(text);
    for (const auto& job : w["jobs"]) {
      for (const auto& step : job.second["steps"]) {
        if (step["run"]) {
          std::string run = step["run"].as<std::string>();
          EXPECT_THAT(run, Not(HasSubstr("${{"))) << path;
          for (const auto& v : given) EXPECT_THAT(run, Not(HasSubstr(v))) << path;
          ExpectBashParses(run, path);
        }
        if (step["uses"]) {
          std::string uses = step["uses"].as<std::string>();
          std::string ref = uses.substr(uses.find('@') + 1);
          EXPECT_TRUE(
              uses == kActionRef ||
              (ref.size() == 40 && ref.find_first_not_of("0123456789abcdef") == std::string::npos))
              << path << ": " << uses;
        }
      }
    }
  }
}

// Each value its flag refuses: what YAML, a shell or a GitHub expression would read as more than
// a value, and what is not of its kind.
TEST(CheckCiOptionsTest, RefusesHostileValuesNamingTheFlag) {
  const std::vector<std::string> hostile = {
      "a b",    "a\"b",  "a'b",  "a\nb", "a\tb",  "a\\b",     "${{ secrets.X }}",
      "${{x}}", "$(id)", "`id`", "a;b",  "a#b",   "a|b",      "a&b",
      "a>b",    "{a}",   "[a]",  "a*",   "a\x01", "\xc3\xa9", "a,b",
      "a%b",    "a!b",   "a=b",
  };
  using Setter = std::function<void(CiOptions&, const std::string&)>;
  const std::vector<std::pair<std::string, Setter>> fields = {
      {"--catalog", [](CiOptions& o, const std::string& v) { o.catalog = "cat/" + v; }},
      {"--registry", [](CiOptions& o, const std::string& v) { o.registry = "reg.example/" + v; }},
      {"--cache-repo",
       [](CiOptions& o, const std::string& v) { o.cache_repo = "reg.example/c" + v; }},
      {"--tag", [](CiOptions& o, const std::string& v) { o.tag = "t" + v; }},
      {"--branch", [](CiOptions& o, const std::string& v) { o.branch = "b" + v; }},
      {"--key-secret", [](CiOptions& o, const std::string& v) { o.key_secret = "K" + v; }},
      {"--public-key", [](CiOptions& o, const std::string& v) { o.public_key = "k" + v; }},
      {"--fail-on", [](CiOptions& o, const std::string& v) { o.fail_on = "high" + v; }},
      {"--image",
       [](CiOptions& o, const std::string& v) { o.gate_images.push_back("reg.example/i" + v); }},
      {"--action", [](CiOptions& o, const std::string& v) { o.action = kActionRef + v; }},
      {"--source", [](CiOptions& o, const std::string& v) { o.source_url += v; }},
      {"--source-ref", [](CiOptions& o, const std::string& v) { o.source_ref += v; }},
  };
  for (const auto& [flag, set] : fields) {
    for (const auto& v : hostile) {
      CiOptions o = Options();
      set(o, v);
      EXPECT_THAT(CheckCiOptions(o, true, true), FailsWith(ErrorCode::kUsage, HasSubstr(flag)))
          << flag << " '" << v << "'";
      bool gitlab_only = flag == "--source" || flag == "--source-ref";
      bool github_only = flag == "--action";
      if (!gitlab_only) {
        EXPECT_FALSE(GitHubWorkflows(o)) << flag << " '" << v << "'";
      }
      if (!github_only) {
        EXPECT_FALSE(GitLabPipeline(o)) << flag << " '" << v << "'";
      }
    }
  }
}

TEST(CheckCiOptionsTest, RefusesValuesNotOfTheirKind) {
  auto refused = [](std::function<void(CiOptions&)> set, const std::string& flag) {
    CiOptions o = Options();
    set(o);
    EXPECT_THAT(CheckCiOptions(o, true, true), FailsWith(ErrorCode::kUsage, HasSubstr(flag)));
  };
  refused([](CiOptions& o) { o.catalog = "/etc/catalog"; }, "--catalog");
  refused([](CiOptions& o) { o.catalog = "../catalog"; }, "--catalog");
  refused([](CiOptions& o) { o.catalog = "a/./b"; }, "--catalog");
  refused([](CiOptions& o) { o.catalog = "a//b"; }, "--catalog");
  refused([](CiOptions& o) { o.catalog = "-rf"; }, "--catalog");
  refused([](CiOptions& o) { o.catalog = ""; }, "--catalog");
  refused([](CiOptions& o) { o.registry = ""; }, "--registry");
  refused([](CiOptions& o) { o.registry = "reg.example"; }, "--registry");
  refused([](CiOptions& o) { o.registry = "reg.example/Acme"; }, "--registry");
  refused([](CiOptions& o) { o.registry = "reg.example/acme:tag"; }, "--registry");
  refused([](CiOptions& o) { o.registry = "reg.example/acme/"; }, "--registry");
  refused([](CiOptions& o) { o.registry = "/acme"; }, "--registry");
  refused([](CiOptions& o) { o.shards = 0; }, "--shards");
  refused([](CiOptions& o) { o.shards = 257; }, "--shards");
  refused([](CiOptions& o) { o.key_secret = "GITHUB_TOKEN"; }, "--key-secret");
  refused([](CiOptions& o) { o.key_secret = "1KEY"; }, "--key-secret");
  refused([](CiOptions& o) { o.key_secret = "KEY-NAME"; }, "--key-secret");
  refused([](CiOptions& o) { o.public_key = "../cosign.pub"; }, "--public-key");
  refused([](CiOptions& o) { o.gate_images.clear(); }, "--image");
  refused([](CiOptions& o) { o.gate_images = {"reg.example/a@@KEY_SECRET@@"}; }, "--image");
  refused([](CiOptions& o) { o.action = ""; }, "--action");
  refused([](CiOptions& o) { o.action = "acme/hardbase"; }, "--action");
  refused([](CiOptions& o) { o.action = "hardbase@v1"; }, "--action");
  refused([](CiOptions& o) { o.action = "acme/hardbase@v1@v2"; }, "--action");
  refused([](CiOptions& o) { o.action = "acme/hardbase@"; }, "--action");
  refused([](CiOptions& o) { o.source_url = ""; }, "--source");
  refused([](CiOptions& o) { o.source_ref = "-b"; }, "--source-ref");
  // Each platform asks only for what it uses.
  CiOptions o = Options();
  o.action = "";
  EXPECT_TRUE(CheckCiOptions(o, false, true));
  o = Options();
  o.source_url = "";
  EXPECT_TRUE(CheckCiOptions(o, true, false));
}

// Every job of the pipeline: its stage is one of `stages`, it has a script (a non-empty list)
// and rules, and the template it extends exists.
TEST(GitLabPipelineTest, EveryJobHasAStageAScriptAndRules) {
  CiOptions o = Options();
  std::string text = GitLabText(o);
  YAML::Node p = Parse(text);
  std::vector<std::string> stages = Strings(p["stages"]);
  EXPECT_THAT(stages, ElementsAre("update", "plan", "build", "gate"));
  std::set<std::string> jobs;
  const std::set<std::string> keywords = {"stages", "variables", "default", "workflow", "include"};
  for (const auto& kv : p) {
    std::string name = kv.first.as<std::string>();
    if (keywords.count(name) || name.starts_with(".")) continue;
    jobs.insert(name);
    YAML::Node job = kv.second;
    ASSERT_TRUE(job["stage"]) << name;
    EXPECT_THAT(stages, ::testing::Contains(job["stage"].as<std::string>())) << name;
    ASSERT_TRUE(job["script"] && job["script"].IsSequence() && job["script"].size() > 0) << name;
    EXPECT_TRUE(job["rules"] && job["rules"].size() > 0) << name;
    ASSERT_TRUE(job["extends"]) << name;
    YAML::Node base = p[job["extends"].as<std::string>()];
    ASSERT_TRUE(base) << name;
    EXPECT_EQ(base["image"].as<std::string>(), "debian:12");
    std::string script;
    for (const auto& s : base["before_script"]) script += s.as<std::string>() + "\n";
    for (const auto& s : job["script"]) script += s.as<std::string>() + "\n";
    ExpectBashParses(script, name);
    for (const auto& need : job["needs"]) EXPECT_TRUE(p[need.as<std::string>()]) << name;
  }
  EXPECT_THAT(jobs,
              ElementsAre("hardbase-build", "hardbase-gate", "hardbase-plan", "hardbase-update"));
  EXPECT_EQ(p["variables"]["CATALOG"].as<std::string>(), o.catalog);
  EXPECT_EQ(p["variables"]["REGISTRY"].as<std::string>(), o.registry);
  EXPECT_EQ(p["variables"]["CACHE_REPO"].as<std::string>(), o.cache_repo);
  EXPECT_EQ(p["variables"]["TAG"].as<std::string>(), o.tag);
  EXPECT_EQ(p["variables"]["HARDBASE_SOURCE"].as<std::string>(), o.source_url);
  EXPECT_EQ(p["variables"]["HARDBASE_REF"].as<std::string>(), o.source_ref);
}

// A value that looks like a placeholder of the templates is text, not another template's body.
TEST(GitLabPipelineTest, AValueNamingAPlaceholderStaysItsText) {
  CiOptions o = Options();
  o.source_url = "https://git.example/acme/hardbase@@PUBLISH@@.git";
  ASSERT_TRUE(CheckCiOptions(o, false, true).has_value()) << "'@' is in a URL's alphabet";
  YAML::Node p = Parse(GitLabText(o));
  EXPECT_EQ(p["variables"]["HARDBASE_SOURCE"].as<std::string>(), o.source_url);
}

TEST(GitLabPipelineTest, ThePipelinesRunWhenTheyShould) {
  CiOptions o = Options();
  YAML::Node p = Parse(GitLabText(o));
  EXPECT_EQ(p["hardbase-update"]["rules"][0]["if"].as<std::string>(),
            "$CI_PIPELINE_SOURCE == \"schedule\"");
  YAML::Node build = p["hardbase-build"];
  EXPECT_EQ(build["rules"][0]["if"].as<std::string>(),
            "$CI_COMMIT_BRANCH == \"trunk\" && $CI_PIPELINE_SOURCE == \"push\"");
  EXPECT_THAT(Strings(build["rules"][0]["changes"]), ElementsAre("images/cat-alog/**/*"));
  EXPECT_THAT(Strings(build["needs"]), ElementsAre("hardbase-plan"));
  EXPECT_THAT(Strings(build["parallel"]["matrix"][0]["SHARD"]), ElementsAre("1/3", "2/3", "3/3"));
  EXPECT_THAT(Strings(p["hardbase-gate"]["parallel"]["matrix"][0]["IMAGE"]),
              ContainerEq(o.gate_images));
  EXPECT_EQ(p["hardbase-gate"]["rules"][0]["if"].as<std::string>(),
            "$CI_PIPELINE_SOURCE == \"merge_request_event\"");
  EXPECT_THAT(Strings(p["hardbase-gate"]["artifacts"]["paths"]), ElementsAre("results.sarif"));
}

// The same commands on both platforms: the scripts come from one place.
TEST(GitLabPipelineTest, RunsTheSameCommandsAsTheGitHubWorkflows) {
  CiOptions o = Options();
  std::string gitlab = GitLabText(o);
  std::string github;
  for (const auto& [path, text] : GitHubFiles(o)) github += text;
  for (const std::string command : {
           "hardbase catalog update \"$CATALOG\" --write --markdown \"$REPORT_DIR/pr.md\"",
           "hardbase catalog plan \"$CATALOG\" --shards 3 --json",
           "hardbase catalog build \"$CATALOG\" --shard \"$SHARD\" --cache-repo \"$CACHE_REPO\" "
           "--locked",
           "hardbase sign \"oci:$dir\" --key \"$KEY_FILE\" --reference \"$ref\"",
           "hardbase push \"oci:$dir\" \"$ref:$TAG\"",
           "hardbase diff \"$previous\" \"$ref@$built\"",
           "hardbase login \"$host\" -u \"$REGISTRY_USERNAME\" --password-stdin",
           "hardbase verify \"$IMAGE\" --key \"$PUBLIC_KEY\"",
           "hardbase scan \"$IMAGE\" --fail-on \"$FAIL_ON\" --format sarif -o results.sarif",
       }) {
    EXPECT_THAT(gitlab, HasSubstr(command));
    EXPECT_THAT(github, HasSubstr(command));
  }
}

// A value GitLab would expand ($VAR) or YAML would read as structure never gets in; what does
// get in is quoted, so it stays a string ("1.10" is no number).
TEST(GitLabPipelineTest, ValuesAreQuotedStrings) {
  CiOptions o = Options();
  o.tag = "1.10";
  o.source_ref = "0123";
  YAML::Node p = Parse(GitLabText(o));
  EXPECT_EQ(p["variables"]["TAG"].as<std::string>(), "1.10");
  EXPECT_EQ(p["variables"]["HARDBASE_REF"].as<std::string>(), "0123");
  o.registry = "reg.example/$CI_JOB_TOKEN";
  EXPECT_THAT(GitLabPipeline(o), FailsWith(ErrorCode::kUsage, HasSubstr("--registry")));
}

}  // namespace
}  // namespace hardbase::ci
