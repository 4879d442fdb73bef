// Checks on the paths that specs and locks name, made before anything is read or written with
// them. A spec, a lock and the repository a lock came from are all written by others, so a path
// from them must neither escape where it belongs nor break the file that records it.
//
// Both checks are pure and return a kSpec error whose message says what is wrong with the path
// (without naming where it was written: callers add the file and position).
#pragma once

#include <cstddef>
#include <string_view>

#include "base/error.h"

namespace hardbase::spec {

// Linux's PATH_MAX and NAME_MAX: longer paths cannot be created in an unpacked image.
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxNameBytes = 255;

// A path that lands in an image or a generated file: at most kMaxPathBytes in all, every
// '/'-separated component at most kMaxNameBytes, and no control character (bytes below 0x20 and
// 0x7f), which would break line-based files and one-line messages.
Result<void> CheckPathLimits(std::string_view path);

// A repository-relative file name, as a Packages index's Filename and a lock's `filename` give
// it ("pool/main/h/hello/hello_1.0_amd64.deb"), that is joined to a repository URI: relative,
// within the limits above, no empty, "." or ".." component, no backslash, and no '%', '?' or '#'
// (a percent-escape such as %2e%2e would be decoded into ".." by a file:// or HTTP server, and the
// others cut a URL short). Debian's archive tools never write any of these.
Result<void> CheckRepositoryPath(std::string_view filename);

}  // namespace hardbase::spec
