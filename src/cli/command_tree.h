// The shape of the command line, read from the CLI11 App itself: commands, their options and
// positionals, help texts and fixed choices. Shell completions and the man page are generated
// from it, so they can never disagree with what `hardbase` actually parses.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace hardbase::cli {

struct OptionInfo {
  std::vector<std::string> short_names;  // "-o"
  std::vector<std::string> long_names;   // "--output"
  std::string positional;                // "SPEC" for a positional argument, else ""
  bool takes_value = false;              // false for flags
  std::string value_name;                // "TEXT", "INT", ... (CLI11's type name, validators cut)
  std::vector<std::string> choices;      // the fixed set of values, when a CLI::IsMember says so
  std::string default_value;             // shown default ("" for none)
  std::string description;
  bool required = false;
  bool repeatable = false;  // takes several values (a positional list, or a repeatable option)
};

struct CommandInfo {
  std::string name;               // "hardbase", "lock", "prune", ...
  std::vector<std::string> path;  // {"hardbase", "cache", "prune"}
  std::string description;
  std::string footer;  // "" when it is the parent's
  std::vector<OptionInfo>
      options;  // flags and options, in declaration order (hidden ones left out)
  std::vector<OptionInfo> positionals;
  std::vector<CommandInfo> subcommands;  // hidden ones left out
  bool subcommand_required = false;
  // Options it does not know go to its parent (CLI11's fallthrough): the parent's options work
  // after this command's name too.
  bool fallthrough = false;
};

// The visible commands and options of `app` and everything below it.
CommandInfo DescribeApp(const CLI::App& app);

// Every option name ("-o", "--output") of `option`.
std::vector<std::string> OptionNames(const OptionInfo& option);

// A command with the options it accepts: its own, then those its ancestors lend it through
// fallthrough (a name it declares itself, such as -h, stays its own).
struct FlatCommand {
  const CommandInfo* command;
  std::string key;  // the path joined with '/': "hardbase/cache/prune"
  std::vector<const OptionInfo*> options;
};

// `root` and every command below it, parents first.
std::vector<FlatCommand> FlattenCommands(const CommandInfo& root);

}  // namespace hardbase::cli
