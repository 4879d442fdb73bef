// update-alternatives links, made declaratively from what packages ship, because no maintainer
// script runs at build time. On Debian `update-alternatives --install LINK NAME PATH PRIORITY`
// makes LINK -> /etc/alternatives/NAME -> PATH, choosing per NAME the highest priority.
// Sources of alternatives:
//  - the Java `.jinfo` files under /usr/lib/jvm (openjdk's postinst loops over their tool names):
//    "hl java /usr/lib/jvm/java-17-openjdk-amd64/bin/java" gives /usr/bin/java; lines of type
//    `hl` (headless), `jre` and `jdk`/`jdkhl` are all taken (each only installs what its
//    package ships; a target that is not in the image is dropped by the builder);
//  - `update-alternatives --install LINK NAME PATH PRIORITY` in maintainer scripts, read by
//    image::ParseMaintainerScript with the script's variables and loops followed
//    (ParsedSetup::alternatives); `--slave` parts are not used: they are mostly man pages, which
//    the image strips anyway.
// Pure: texts in, values out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::image {

struct Alternative {
  std::string link;    // e.g. /usr/bin/java
  std::string name;    // e.g. java (so /etc/alternatives/java)
  std::string target;  // e.g. /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  int64_t priority = 0;
  bool operator==(const Alternative&) const = default;
};

// Alternatives from a .jinfo file: `priority=N` gives every entry's priority; "<type> <name>
// <path>" lines give LINK /usr/bin/<name> (the man-page and other fields are not used). kSpec error
// naming the line for a malformed one.
Result<std::vector<Alternative>> ParseJinfo(std::string_view text);

// The alternative of `update-alternatives [--quiet|--verbose|--force|--debug] --install LINK NAME
// PATH PRIORITY [--slave ...]`, given its arguments; nullopt for another action, other options
// (--altdir, --admindir) or arguments update-alternatives would refuse.
std::optional<Alternative> AlternativeOfInstall(const std::vector<std::string>& args);

// One winner per name: the highest priority, ties broken by the greatest target path; the result
// is sorted by name.
std::vector<Alternative> ChooseAlternatives(std::vector<Alternative> candidates);

}  // namespace hardbase::image
