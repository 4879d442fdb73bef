// hardbase command lines written in shell scripts (the README's blocks, the CI files `ci init`
// writes), checked against the built binary: every subcommand exists and every flag is one its
// help lists, so a renamed or dropped option fails a test instead of a reader's or a CI's run.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.h"

namespace hardbase::testing {

// Each `hardbase ...` command of a shell script: its words after "hardbase", up to the end of the
// command (`|`, `&&`, `;`, a redirection or the `)` closing a command substitution). The lines
// are read with `\` continuations joined and comments dropped (a `#` starting a word, outside
// quotes), heredoc bodies skipped; quotes stay in the words, which are only looked at.
std::vector<std::vector<std::string>> HardbaseInvocations(std::string_view script);

// Checks invocations against `hardbase [COMMAND...] --help` of the binary under test (each help
// run once).
class CommandLineChecker {
 public:
  // What is wrong with `hardbase WORDS...` (nothing: empty): the command path is the words as
  // long as the command so far has subcommands (`vuln update`, `catalog build`); each of them
  // must be listed, and each `--flag` word listed by the command's help or the top level's.
  std::vector<std::string> Check(const std::vector<std::string>& words);
  int commands() const { return commands_; }
  int flags() const { return flags_; }

 private:
  const ProcessResult& Help(const std::vector<std::string>& path);
  std::map<std::string, ProcessResult> helps_;  // by "hardbase COMMAND..."
  int commands_ = 0;
  int flags_ = 0;
};

}  // namespace hardbase::testing
