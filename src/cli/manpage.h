// The hardbase(1) manual page, generated from the command tree (see command_tree.h) so that it
// documents exactly the commands and options the binary parses.
//
// Sections: NAME and DESCRIPTION from the program's description, SYNOPSIS, GLOBAL OPTIONS, COMMANDS
// (each with its synopsis, help, positionals and options), EXIT STATUS from the exit code table
// of `hardbase --help` (base/error.h's ErrorCode), ENVIRONMENT and FILES from the variables
// ($NAME) and home files (~/...) the help texts mention, and SEE ALSO.
#pragma once

#include <string>

#include "cli/command_tree.h"

namespace hardbase::cli {

struct ManPageOptions {
  std::string version;  // "0.1.0"
  std::string doc_dir;  // where README.md and spec.md are installed ("" leaves the path out)
};

// roff source for man(7).
std::string ManPage(const CommandInfo& root, const ManPageOptions& options);

}  // namespace hardbase::cli
