// The exit codes hardbase documents (`hardbase --help`, base/error.h), as the end-to-end tests
// expect them: written out, so that a changed code fails the tests that rely on it.
#pragma once

namespace hardbase::testing {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitSpec = 3;
inline constexpr int kExitIo = 4;
inline constexpr int kExitNetwork = 5;
inline constexpr int kExitNotFound = 6;
inline constexpr int kExitIntegrity = 7;
inline constexpr int kExitResolve = 8;
inline constexpr int kExitStale = 9;
inline constexpr int kExitVerification = 10;
inline constexpr int kExitAuth = 11;
inline constexpr int kExitVulnerable = 12;
inline constexpr int kExitNotReproducible = 14;

}  // namespace hardbase::testing
