// What a directory tree holds, for the checks that a refused run wrote nothing and left the
// previous output as it was.
#pragma once

#include <map>
#include <set>
#include <string>

namespace hardbase::testing {

// Path relative to `dir` (no leading slash) -> "dir", "link TARGET", "file MODE SHA256", "other
// MODE" (FIFOs, devices, sockets) or "unreadable" (a path too long to stat). Links are not
// followed. Relative paths in `skip` (such as "cache") are left out with everything below them.
// Empty when `dir` does not exist.
std::map<std::string, std::string> TreeSnapshot(const std::string& dir,
                                                const std::set<std::string>& skip = {});

}  // namespace hardbase::testing
