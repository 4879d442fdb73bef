// Shell completion scripts for bash, zsh and fish, generated from the command tree (see
// command_tree.h) because CLI11 cannot write them itself.
//
// The scripts offer subcommands, each command's options (its own and the global ones, which
// hardbase accepts after the command too), the fixed values of options and positionals that have
// them (`--format`, `completion SHELL`), and leave everything else to the shell's file name
// completion.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "cli/command_tree.h"

namespace hardbase::cli {

// "bash", "zsh", "fish".
std::span<const std::string_view> CompletionShells();

// The script for `shell` (one of CompletionShells(); kUsage otherwise).
Result<std::string> CompletionScript(const CommandInfo& root, std::string_view shell);

}  // namespace hardbase::cli
