// End-to-end tests of `hardbase init`: the starter spec it writes is a spec the real binary locks
// and builds (against a signed file:// repository standing in for the host's apt sources, via
// --apt-root, holding packages named as the starter names them), it never replaces a file unless
// told to, and a name that is not an image name is a usage error that writes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/repo_fixture.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The runtimes `init --runtime` takes, with a package only that runtime's starter asks for.
const std::map<std::string, std::string> kRuntimes = {{"static", "netbase"},
                                                      {"cc", "libstdc++6"},
                                                      {"java17", "openjdk-17-jre-headless"},
                                                      {"python3", "python3"},
                                                      {"nodejs", "nodejs"}};

class InitTest : public ::testing::Test {
 protected:
  // One repository for the suite: every package some starter asks for or excludes, each a
  // small Architecture: all package; the excluded ones are dependencies, as in Debian.
  static void SetUpTestSuite() {
    static TempDir dir = std::move(*TempDir::Create("hardbase-e2e-init-repo-"));
    repo_dir_ = dir.path();
    auto arch = RunProcess({"dpkg", "--print-architecture"});
    ASSERT_EQ(arch.exit_code, 0) << arch.err;
    host_arch_ = arch.out.substr(0, arch.out.find('\n'));
    RepoFixture repo(repo_dir_ + "/repo");
    const std::vector<std::pair<std::string, std::string>> packages = {
        {"base-files", "mawk"},
        {"ca-certificates", "debconf, openssl"},
        {"tzdata", "debconf"},
        {"netbase", ""},
        {"libc6", ""},
        {"libgcc-s1", "libc6"},
        {"libstdc++6", "libgcc-s1"},
        {"libssl3", "libc6"},
        {"openjdk-17-jre-headless", "libcups2, util-linux, libstdc++6"},
        {"python3", "dpkg, libssl3"},
        {"nodejs", "libssl3"},
        {"mawk", ""},
        {"debconf", ""},
        {"openssl", ""},
        {"libcups2", ""},
        {"util-linux", ""},
        {"dpkg", ""},
    };
    for (const auto& [name, depends] : packages) {
      PackageSpec spec{.name = name, .version = "1.0", .architecture = "all"};
      if (!depends.empty()) spec.fields.push_back({"Depends", depends});
      spec.files["usr/share/" + name + "/marker"] = name + "\n";
      auto added = repo.AddPackage("stable", host_arch_, spec);
      ASSERT_TRUE(added.has_value()) << added.error().message;
    }
    auto published = repo.Publish("stable");
    ASSERT_TRUE(published.has_value()) << published.error().message;
    ASSERT_TRUE(MakeDirs(AptRoot() + "/etc/apt/sources.list.d").has_value());
    auto sources = repo.WriteDeb822Sources(AptRoot() + "/etc/apt/sources.list.d/test.sources",
                                           "file://" + repo_dir_ + "/repo", {"stable"},
                                           /*inline_key=*/true);
    ASSERT_TRUE(sources.has_value()) << sources.error().message;
  }
  static std::string AptRoot() { return repo_dir_ + "/apt-root"; }

  void SetUp() override {
    auto dir = TempDir::Create("hardbase-e2e-init-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
  }
  std::string Work() const { return work_->path(); }

  ProcessResult Hardbase(std::vector<std::string> args) {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir", Work() + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  // hardbase run in directory `dir`.
  ProcessResult HardbaseIn(const std::string& dir, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "sh", "-c", "cd \"$1\" && shift && exec \"$@\"",
        "sh", dir,  std::filesystem::absolute(HardbaseBinary()).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  static inline std::string repo_dir_;
  static inline std::string host_arch_;
  std::optional<TempDir> work_;
};

// Each runtime's starter, written by init, locks against the repositories of the host's apt
// sources: it asks for its runtime's packages, and leaves out the excluded ones although they
// are dependencies. The static one also builds into an image.
TEST_F(InitTest, EachStarterLocks) {
  for (const auto& [runtime, own_package] : kRuntimes) {
    SCOPED_TRACE(runtime);
    std::string dir = Work() + "/" + runtime + "-app";
    auto init = Hardbase({"init", "--runtime", runtime, dir});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    std::string spec = dir + "/image.yaml";
    EXPECT_THAT(init.err, HasSubstr("wrote " + spec));
    EXPECT_THAT(init.err, HasSubstr("hardbase lock " + spec + "\n"));
    EXPECT_THAT(init.err, HasSubstr("hardbase build " + spec + " -o out/" + runtime + "-app\n"));
    EXPECT_THAT(ReadFile(spec).value_or(""), HasSubstr("\nname: " + runtime + "-app\n"));

    auto lock = Hardbase({"lock", spec, "--apt-root", AptRoot()});
    ASSERT_EQ(lock.exit_code, 0) << lock.err;
    auto json = nlohmann::json::parse(ReadFile(dir + "/image.lock.json").value_or("{}"));
    ASSERT_EQ(json["archs"].size(), 1u);
    EXPECT_EQ(json["archs"][0]["arch"], host_arch_);
    std::set<std::string> asked, locked, excluded;
    for (const auto& p : json["archs"][0]["packages"]) {
      locked.insert(p["name"]);
      for (const auto& by : p["required_by"]) {
        if (by == "(spec)") asked.insert(p["name"]);
      }
    }
    for (const auto& e : json["archs"][0]["excluded"]) excluded.insert(e["name"]);
    EXPECT_TRUE(asked.count("base-files"));
    EXPECT_TRUE(asked.count(own_package)) << own_package;
    EXPECT_TRUE(excluded.count("debconf"));
    EXPECT_TRUE(excluded.count("mawk"));
    for (const auto& e : excluded) EXPECT_FALSE(locked.count(e)) << e;
    if (runtime == "java17") {
      EXPECT_TRUE(excluded.count("libcups2"));
    }
    if (runtime == "python3") {
      EXPECT_TRUE(excluded.count("dpkg"));
    }
  }

  std::string spec = Work() + "/static-app/image.yaml";
  auto build =
      Hardbase({"build", spec, "--locked", "-o", Work() + "/out", "--apt-root", AptRoot()});
  ASSERT_EQ(build.exit_code, 0) << build.err;
  EXPECT_THAT(build.out, StartsWith("sha256:"));
}

TEST_F(InitTest, WithoutADirectoryWritesHereNamedAfterIt) {
  std::string dir = Work() + "/svc-a";
  ASSERT_TRUE(MakeDirs(dir).has_value());
  auto init = HardbaseIn(dir, {"init", "--runtime", "python3"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_THAT(init.err, HasSubstr("hardbase lock image.yaml\n"));
  EXPECT_THAT(init.err, HasSubstr("hardbase build image.yaml -o out/svc-a\n"));
  std::string text = ReadFile(dir + "/image.yaml").value_or("");
  EXPECT_THAT(text, HasSubstr("\nname: svc-a\n"));
  EXPECT_THAT(text, HasSubstr("  - python3"));
  // Nothing else: init writes the spec and no lock, output or cache.
  auto listing = RunProcess({"ls", "-A", dir});
  EXPECT_EQ(listing.out, "image.yaml\n");
}

TEST_F(InitTest, NeverReplacesAFileUnlessForced) {
  std::string dir = Work() + "/app";
  ASSERT_TRUE(MakeDirs(dir).has_value());
  const std::string mine = "name: mine\npackages: [hello]\n# my notes\n";
  ASSERT_TRUE(WriteFileAtomic(dir + "/image.yaml", mine).has_value());

  auto refused = Hardbase({"init", "--runtime", "cc", dir});
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr(dir + "/image.yaml exists"));
  EXPECT_THAT(refused.err, HasSubstr("--force"));
  EXPECT_EQ(ReadFile(dir + "/image.yaml").value_or(""), mine);

  // A symbolic link counts as a file, even one leading nowhere.
  std::string linked = Work() + "/linked";
  ASSERT_TRUE(MakeDirs(linked).has_value());
  ASSERT_EQ(RunProcess({"ln", "-s", "missing.yaml", linked + "/image.yaml"}).exit_code, 0);
  EXPECT_EQ(Hardbase({"init", linked}).exit_code, kExitUsage);
  EXPECT_EQ(RunProcess({"readlink", linked + "/image.yaml"}).out, "missing.yaml\n");
  EXPECT_FALSE(PathExists(linked + "/missing.yaml"));

  auto forced = Hardbase({"init", "--runtime", "cc", "--force", dir});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  std::string text = ReadFile(dir + "/image.yaml").value_or("");
  EXPECT_THAT(text, HasSubstr("\nname: app\n"));
  EXPECT_THAT(text, HasSubstr("  - libstdc++6"));
}

TEST_F(InitTest, ANameThatIsNoImageNameIsAUsageErrorAndWritesNothing) {
  auto bad_dir = Hardbase({"init", Work() + "/My_App"});
  EXPECT_EQ(bad_dir.exit_code, kExitUsage);
  EXPECT_THAT(bad_dir.err, HasSubstr("'My_App'"));
  EXPECT_THAT(bad_dir.err, HasSubstr("--name"));
  EXPECT_FALSE(PathExists(Work() + "/My_App"));

  // --name gives the name instead; a bad one is refused the same way.
  auto bad_name = Hardbase({"init", "--name", "a..b", Work() + "/x"});
  EXPECT_EQ(bad_name.exit_code, kExitUsage);
  EXPECT_FALSE(PathExists(Work() + "/x"));
  auto named = Hardbase({"init", "--name", "team/api", Work() + "/My_App"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_THAT(ReadFile(Work() + "/My_App/image.yaml").value_or(""),
              HasSubstr("\nname: team/api\n"));

  auto bad_runtime = Hardbase({"init", "--runtime", "java", Work() + "/y"});
  EXPECT_EQ(bad_runtime.exit_code, kExitUsage);
  EXPECT_FALSE(PathExists(Work() + "/y"));
}

}  // namespace
}  // namespace hardbase::testing
