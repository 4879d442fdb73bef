// The host's apt repository configuration: which repositories (URI + suites + components) and
// which keys sign them. hardbase takes its default repositories from here rather than from any
// built-in mirror name.
//
// Both formats apt reads are supported: deb822 "*.sources" stanzas and one-line "*.list" entries.
// Only binary ("deb") entries are kept; deb-src entries and disabled stanzas are skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::deb {

struct AptSource {
  std::vector<std::string> uris;    // as written ("http://127.0.0.1:8080/debian", "file:///srv/r")
  std::vector<std::string> suites;  // a suite ending in '/' is a flat repository (no components)
  std::vector<std::string> components;
  std::vector<std::string> architectures;  // empty: apt's default (the host architecture)
  // Signed-By keyring files. Empty together with signed_by_inline_key and
  // signed_by_fingerprints: apt's default keyrings (DefaultAptKeyringPaths) apply.
  std::vector<std::string> signed_by_paths;
  // An armored public key block embedded in a deb822 Signed-By field, with its empty lines
  // restored (" ." continuation lines).
  std::string signed_by_inline_key;
  // Signed-By given as key fingerprints: only those keys of the default keyrings may sign.
  std::vector<std::string> signed_by_fingerprints;
  // "trusted=yes" / "Trusted: yes": apt would skip signature checks. Recorded so callers can
  // refuse or warn; nothing here honours it.
  bool trusted = false;
  std::string origin_file;  // the file the entry came from
  size_t line = 0;          // 1-based line of the entry (deb822: the stanza's first field)
};

// Parses a deb822 sources file. `file_name` is used in errors ("x.sources line 4: ...") and
// recorded as origin_file.
Result<std::vector<AptSource>> ParseDeb822Sources(std::string_view text,
                                                  std::string_view file_name);

// Parses a one-line sources.list file:
//   deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg] http://host/debian bookworm main
Result<std::vector<AptSource>> ParseOneLineSources(std::string_view text,
                                                   std::string_view file_name);

// Reads apt's configuration under `root` (a system root, "/" for the host):
// etc/apt/sources.list, then etc/apt/sources.list.d/*.list and *.sources in sorted name order
// (files with other extensions or with characters apt refuses in their names are skipped, as apt
// does). Signed-By paths are taken relative to `root` when root is not "/", so that a test root
// is self-contained.
Result<std::vector<AptSource>> LoadHostAptSources(const std::string& root = "/");

// apt's keyrings for sources without Signed-By: root/etc/apt/trusted.gpg.d/*.gpg and *.asc in
// sorted order, then root/etc/apt/trusted.gpg when present.
Result<std::vector<std::string>> DefaultAptKeyringPaths(const std::string& root = "/");

}  // namespace hardbase::deb
