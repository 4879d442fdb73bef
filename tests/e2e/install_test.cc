// End-to-end tests of what hardbase installs besides itself: the shell completions and the man
// page it generates from its own command line (`hardbase completion`, `hardbase manpage`), checked
// with the shells and groff/man themselves, and `cmake --install` into a DESTDIR.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

bool HaveProgram(const std::string& name) {
  return RunProcess({"sh", "-c", "command -v \"$1\"", "sh", name}).exit_code == 0;
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-e2e-install-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
  }
  std::string Work() const { return work_->path(); }

  // The output of `hardbase ARGS`, which must succeed.
  std::string Hardbase(std::vector<std::string> args) {
    args.insert(args.begin(), HardbaseBinary());
    auto r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = Work() + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, text).has_value());
    return path;
  }

  // The subcommands `hardbase [COMMAND] --help` lists.
  std::vector<std::string> HelpSubcommands(std::vector<std::string> command = {}) {
    command.push_back("--help");
    std::istringstream help(Hardbase(command));
    std::vector<std::string> names;
    std::string line;
    bool in_list = false;
    while (std::getline(help, line)) {
      if (line == "Subcommands:") {
        in_list = true;
      } else if (in_list && line.starts_with("  ")) {
        names.push_back(line.substr(2, line.find(' ', 2) - 2));
      } else {
        in_list = false;
      }
    }
    return names;
  }

  // The candidates the bash completion script at `script` offers for `words`, the last being
  // the word under the cursor.
  std::vector<std::string> BashComplete(const std::string& script,
                                        const std::vector<std::string>& words) {
    std::vector<std::string> argv = {
        "bash",
        "--norc",
        "--noprofile",
        "-c",
        "source \"$1\" || exit 9; shift; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); "
        "COMPREPLY=(); _hardbase; printf '%s\\n' \"${COMPREPLY[@]}\"",
        "bash",
        script};
    argv.insert(argv.end(), words.begin(), words.end());
    auto r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) out.push_back(line);
    }
    return out;
  }

  std::optional<TempDir> work_;
};

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

TEST_F(InstallTest, BashCompletionOffersTheRealCommandsOptionsAndValues) {
  std::string script = Write("hardbase.bash", Hardbase({"completion", "bash"}));
  auto syntax = RunProcess({"bash", "-n", script});
  ASSERT_EQ(syntax.exit_code, 0) << syntax.err;

  EXPECT_THAT(BashComplete(script, {"hardbase", "sc"}), ElementsAre("scan"));
  EXPECT_THAT(BashComplete(script, {"hardbase", "scan", "--fo"}), ElementsAre("--format"));
  EXPECT_THAT(BashComplete(script, {"hardbase", "scan", "--format", ""}),
              ElementsAre("table", "json", "sarif", "cyclonedx"));
  // --opt=value: bash splits it into "--format" "=" "value".
  EXPECT_THAT(BashComplete(script, {"hardbase", "scan", "--format", "=", "j"}),
              ElementsAre("json"));
  // Global options work after the command, and a global option's value is not a command.
  EXPECT_THAT(BashComplete(script, {"hardbase", "--cache-dir", "lock", "build", "--q"}),
              ElementsAre("--quiet"));
  EXPECT_THAT(BashComplete(script, {"hardbase", "init", "--runtime", "j"}), ElementsAre("java17"));
  EXPECT_THAT(BashComplete(script, {"hardbase", "completion", ""}),
              ElementsAre("bash", "zsh", "fish"));
  // Nested commands: `vuln update` is not the top-level `update`.
  EXPECT_THAT(BashComplete(script, {"hardbase", "vuln", "update", "--so"}),
              ElementsAre("--source"));
  EXPECT_THAT(BashComplete(script, {"hardbase", "update", "--so"}), ElementsAre());
  // A file argument is left to readline's file name completion.
  EXPECT_THAT(BashComplete(script, {"hardbase", "lock", ""}), ElementsAre());

  // Exactly the commands --help lists (the hidden manpage command is not one), at every level.
  EXPECT_THAT(BashComplete(script, {"hardbase", ""}), UnorderedElementsAreArray(HelpSubcommands()));
  EXPECT_THAT(HelpSubcommands(), Not(::testing::Contains("manpage")));
  EXPECT_THAT(BashComplete(script, {"hardbase", "cache", ""}),
              UnorderedElementsAreArray(HelpSubcommands({"cache"})));
  EXPECT_THAT(BashComplete(script, {"hardbase", "vuln", ""}),
              UnorderedElementsAreArray(HelpSubcommands({"vuln"})));
}

// The other shells check their scripts' syntax when they are installed (the tests do not need
// them otherwise).
TEST_F(InstallTest, ZshAndFishScriptsParse) {
  bool any = false;
  if (HaveProgram("zsh")) {
    any = true;
    auto r = RunProcess({"zsh", "-n", Write("_hardbase", Hardbase({"completion", "zsh"}))});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  if (HaveProgram("fish")) {
    any = true;
    auto r = RunProcess({"fish", "-n", Write("hardbase.fish", Hardbase({"completion", "fish"}))});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto unknown = RunProcess({HardbaseBinary(), "completion", "tcsh"});
  EXPECT_EQ(unknown.exit_code, ExitCode(ErrorCode::kUsage));
  if (!any) GTEST_SKIP() << "neither zsh nor fish is installed";
}

TEST_F(InstallTest, ManPageIsCleanRoffAndDocumentsEveryCommandAndExitCode) {
  std::string page = Hardbase({"manpage", "--doc-dir", "/usr/share/doc/hardbase"});
  std::string path = Write("hardbase.1", page);
  EXPECT_THAT(page, HasSubstr(".TH HARDBASE 1"));
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS",
                              "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"}) {
    EXPECT_THAT(page, HasSubstr("\n.SH " + std::string(section) + "\n")) << section;
  }
  for (const auto& command : HelpSubcommands()) {
    EXPECT_THAT(page, HasSubstr("\n.SS \"hardbase " + command + "\"\n")) << command;
  }
  for (const auto& command : HelpSubcommands({"cache"})) {
    EXPECT_THAT(page, HasSubstr("\n.SS \"hardbase cache " + command + "\"\n")) << command;
  }
  EXPECT_THAT(page, Not(HasSubstr("manpage\"")));
  // Every ErrorCode's exit status, with the name JSON output gives it.
  for (int i = 0; i <= static_cast<int>(ErrorCode::kNotReproducible); ++i) {
    auto code = static_cast<ErrorCode>(i);
    std::string name(ErrorCodeName(code));
    std::string roff_name;
    for (char c : name) roff_name += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_THAT(page, HasSubstr(".TP\n\\fB" + std::to_string(ExitCode(code)) + "\\fR\n" +
                                (code == ErrorCode::kInternal ? "internal" : roff_name + ":")))
        << name;
  }
  EXPECT_THAT(page, HasSubstr(".TP\n\\fBHARDBASE_CACHE_DIR\\fR\n"));
  EXPECT_THAT(page, HasSubstr("/usr/share/doc/hardbase/spec.md"));

  if (HaveProgram("groff")) {
    auto r = RunProcess({"groff", "-man", "-ww", "-z", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
  }
  if (HaveProgram("man")) {
    auto r = RunProcess({"man", "--warnings", "-l", path}, {{"MANWIDTH", "80"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("hardbase init"));
  }
}

// `cmake --install` of the build under test into a DESTDIR, as a package build does it.
TEST_F(InstallTest, CmakeInstallPutsEveryFileInPlace) {
  if (!HaveProgram("cmake")) GTEST_SKIP() << "cmake is not installed";
  std::string dest = Work() + "/dest";
  auto r = RunProcess({"cmake", "--install", HARDBASE_BINARY_DIR, "--prefix", "/usr"},
                      {{"DESTDIR", dest}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  std::set<std::string> expected = {
      "usr/bin/hardbase",
      "usr/share/man/man1/hardbase.1",
      "usr/share/bash-completion/completions/hardbase",
      "usr/share/zsh/vendor-completions/_hardbase",
      "usr/share/fish/vendor_completions.d/hardbase.fish",
      "usr/share/doc/hardbase/README.md",
  };
  for (const auto& entry : fs::directory_iterator(std::string(HARDBASE_SOURCE_DIR) + "/docs")) {
    if (entry.path().extension() == ".md") {
      expected.insert("usr/share/doc/hardbase/" + entry.path().filename().string());
    }
  }
  std::set<std::string> installed;
  for (const auto& entry : fs::recursive_directory_iterator(dest)) {
    if (!entry.is_directory()) installed.insert(fs::relative(entry.path(), dest).string());
  }
  EXPECT_EQ(installed, expected);

  std::string bin = dest + "/usr/bin/hardbase";
  EXPECT_EQ(fs::status(bin).permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  auto version = RunProcess({bin, "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  // The installed completion is the one the binary under test writes now (not a stale one), and
  // works from where bash-completion loads it.
  std::string bash = dest + "/usr/share/bash-completion/completions/hardbase";
  EXPECT_EQ(ReadFile(bash).value_or(""), Hardbase({"completion", "bash"}));
  EXPECT_THAT(BashComplete(bash, {"hardbase", "in"}), ElementsAre("init", "inspect"));
  EXPECT_EQ(ReadFile(dest + "/usr/share/doc/hardbase/README.md").value_or("x"),
            ReadFile(std::string(HARDBASE_SOURCE_DIR) + "/README.md").value_or("y"));
  std::string man = ReadFile(dest + "/usr/share/man/man1/hardbase.1").value_or("");
  EXPECT_THAT(man, HasSubstr(".TH HARDBASE 1"));
}

}  // namespace
}  // namespace hardbase::testing
