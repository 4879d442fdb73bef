// A repository's Release file (the signed text of dists/<suite>/InRelease): what the suite is,
// when it was made, how long it may be trusted, and the SHA256 + size of every index under it.
//
// This is the middle link of the trust chain: the InRelease signature vouches for this text
// (deb/keyring.h), and this text vouches for Packages.xz by hash. Parsing is pure; IO and
// signature checks live elsewhere.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::deb {

// One line of the Release file's SHA256 section.
struct ReleaseEntry {
  std::string sha256;  // 64 lowercase hex digits
  uint64_t size = 0;
};

struct ReleaseFile {
  std::string origin;                  // "Debian"
  std::string label;                   // "Debian-Security"
  std::string suite;                   // "oldstable-security"
  std::string codename;                // "bookworm-security"
  std::string version;                 // "12"; may be empty
  int64_t date = 0;                    // Date:, seconds since the epoch
  std::optional<int64_t> valid_until;  // Valid-Until:, when the archive sets one
  std::vector<std::string> architectures;
  std::vector<std::string> components;  // as written: "main" or "updates/main"
  bool acquire_by_hash = false;
  // SHA256 section: path relative to dists/<suite>/ ("main/binary-amd64/Packages.xz") -> entry.
  std::map<std::string, ReleaseEntry, std::less<>> sha256;

  // The hash and size the Release lists for `path`, or kNotFound.
  Result<ReleaseEntry> Lookup(std::string_view path) const;
};

// Parses the text of a Release file (for InRelease: the signed text, after verification).
// Malformed documents, dates or SHA256 lines are kSpec errors naming the line; a Release without
// a SHA256 section is kSpec too (weaker hashes are not trusted).
Result<ReleaseFile> ParseRelease(std::string_view text);

// Fails with kIntegrity "expired: Valid-Until <date> has passed" when the release carries a
// Valid-Until that is not after `now` (seconds since the epoch). apt rejects such files too: an
// expired Release may be a replay of an old, signed, vulnerable state of the archive.
Result<void> CheckFreshness(const ReleaseFile& release, int64_t now);

// Dates as Debian's archive tools write them: "Sat, 11 Jul 2026 10:16:37 UTC". The weekday is
// optional (checked when present), seconds are optional, and the zone may be UTC/GMT/UT/Z or a
// numeric offset (+0000, -0130). Returns seconds since the epoch, or kSpec.
Result<int64_t> ParseRfc2822Date(std::string_view text);
// The inverse, always in UTC: "Wed, 02 Dec 2026 02:22:30 UTC".
std::string FormatRfc2822Date(int64_t unix_seconds);

}  // namespace hardbase::deb
