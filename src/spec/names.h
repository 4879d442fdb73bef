// Syntax rules for the names that specs and locks carry: Debian package names, versions and
// architectures, plus the "did you mean" helper behind the spec's unknown-key errors.
//
// These are pure, allocation-light checks with no IO; they belong to src/spec (not src/deb) so that
// the spec module stays a leaf that the resolver, the builder and the CLI can all depend on.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::spec {

// Debian policy 5.6.1: at least two characters from [a-z0-9+.-], starting with [a-z0-9].
bool IsValidPackageName(std::string_view name);

// An image name as OCI distribution allows for a repository (the spec's `name`): components of
// lowercase letters and digits joined by '.', '_', '__' or runs of '-', separated by '/'; at most
// 255 characters.
bool IsValidImageName(std::string_view name);

// Debian policy 5.6.12, checked syntactically: [epoch:]upstream[-revision] where epoch is digits,
// upstream starts with a digit and uses [A-Za-z0-9.+~-] (and ':' after an epoch, as dpkg allows),
// and revision uses [A-Za-z0-9.+~]. Agrees with `dpkg --validate-version`. Used for `name=version`
// pins; whether the version exists is the resolver's business.
bool IsValidVersion(std::string_view version);

// The Linux architecture names dpkg knows (`dpkg-architecture -L` without an OS prefix), sorted.
std::span<const std::string_view> KnownArchitectures();
bool IsKnownArchitecture(std::string_view arch);

// The Debian architecture for a kernel machine name as uname(2) reports it ("x86_64" -> "amd64",
// "aarch64" -> "arm64", "armv7l" -> "armhf", "ppc64le" -> "ppc64el", ...), or nullopt if unknown.
std::optional<std::string> DebianArchitectureForMachine(std::string_view machine);

// The Debian architecture of the running machine, from uname(2); kSpec error if the machine has
// no known Debian name (the user must then write `archs:`).
Result<std::string> HostArchitecture();

// The candidate nearest to `word` by edit distance (case-insensitive, '_' and '-' treated alike),
// if it is close enough to be a plausible typo; empty otherwise.
std::string ClosestMatch(std::string_view word, std::span<const std::string_view> candidates);

// `s` with control characters written as \n, \t or \xHH, so that a user's string quoted in an
// error message cannot break the one-line message format.
std::string EscapeControlCharacters(std::string_view s);

}  // namespace hardbase::spec
