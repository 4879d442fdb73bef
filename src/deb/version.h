// Debian version numbers: validation and ordering exactly as dpkg (lib/dpkg/version.c).
#pragma once

#include <string_view>

#include "base/error.h"

namespace hardbase::deb {

// The three parts of "[epoch:]upstream[-revision]", as views into the original string.
struct VersionParts {
  unsigned long epoch = 0;
  std::string_view upstream;
  std::string_view revision;  // empty when the version has no '-'
};

// Splits and validates a version as dpkg's parseversion does: non-empty, numeric epoch, an
// upstream part that starts with a digit, and only the characters policy allows.
Result<VersionParts> ParseVersion(std::string_view version);

// <0, 0 or >0 as a sorts before, equal to, or after b. Inputs that do not parse still get a total
// order (their whole text compared as an upstream part), so sorting never breaks on bad data.
int CompareVersions(std::string_view a, std::string_view b);

// A relation operator of a dependency ("<<", "<=", "=", ">=", ">>"; "<" and ">" are the
// obsolete spellings of "<=" and ">=").
enum class Relation { kAny, kLess, kLessEq, kEq, kGreaterEq, kGreater };

// Does `version` satisfy "op reference"?
bool Satisfies(std::string_view version, Relation op, std::string_view reference);

}  // namespace hardbase::deb
