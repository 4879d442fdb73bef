// `hardbase completion bash|zsh|fish [-o FILE]`: the shell completion script, and the hidden
// `hardbase manpage [-o FILE] [--doc-dir DIR]`: hardbase(1). Both describe the App they are
// registered on, after every command has been added to it; the build runs them to install both.
#include "base/version.h"
#include "cli/command.h"
#include "cli/completion.h"
#include "cli/manpage.h"

namespace hardbase::cli {

void AddCompletionCommands(CLI::App& app, CommandRunner& runner) {
  struct Flags {
    std::string shell;
    std::string output;
    std::string doc_dir;
  };
  auto flags = std::make_shared<Flags>();

  CLI::App* completion =
      app.add_subcommand("completion", "Print the shell completion script for bash, zsh or fish");
  completion->add_option("SHELL", flags->shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember(Choices(CompletionShells())));
  completion->add_option("-o,--output", flags->output,
                         "Write to FILE (atomically) instead of stdout");
  completion->footer(
      "Installed hardbase packages put the scripts where the shells find them. Otherwise:\n"
      "  bash: source <(hardbase completion bash)   (in .bashrc)\n"
      "  zsh:  hardbase completion zsh -o DIR/_hardbase   (DIR in $fpath, before compinit)\n"
      "  fish: hardbase completion fish -o DIR/hardbase.fish   (DIR in $fish_complete_path)");
  completion->callback([&app, &runner, flags] {
    runner = [&app, flags]() -> Result<int> {
      HB_TRY(std::string script, CompletionScript(DescribeApp(app), flags->shell));
      HB_TRY_VOID(WriteOutput(flags->output, std::move(script)));
      return 0;
    };
  });

  CLI::App* manpage = app.add_subcommand("manpage", "Print the hardbase(1) manual page (roff)");
  manpage->group("");  // for the build and packagers, not for daily use
  manpage->add_option("-o,--output", flags->output, "Write to FILE (atomically) instead of stdout");
  manpage->add_option("--doc-dir", flags->doc_dir,
                      "Where README.md and spec.md are installed, for SEE ALSO");
  manpage->callback([&app, &runner, flags] {
    runner = [&app, flags]() -> Result<int> {
      ManPageOptions options{std::string(HardbaseVersion()), flags->doc_dir};
      HB_TRY_VOID(WriteOutput(flags->output, ManPage(DescribeApp(app), options)));
      return 0;
    };
  });
}

}  // namespace hardbase::cli
