// Running other programs from tests: the hardbase binary under test and independent oracles
// (dpkg, apt-get, gpg). Captures stdout and stderr separately.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hardbase::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// A tool's output on one line, for a message: newlines become spaces, trailing ones dropped.
std::string OneLine(std::string text);

// Runs argv[0] (looked up in PATH) with the given extra environment variables and optional stdin.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& stdin_data = "");

// Path of the hardbase binary under test ($HARDBASE_BIN, set by ctest).
std::string HardbaseBinary();

// Whether the tests were built with AddressSanitizer (and so is the binary they run), or the
// binary they run is, as HARDBASE_BIN_SANITIZED=1 says.
bool UnderAddressSanitizer();

// `argv` bounded as a run on hostile input must be: killed after `seconds`, and under prlimit(1)
// with `limits` ("--as=BYTES", "--fsize=BYTES", ...) when there are any. An --as limit is dropped
// under AddressSanitizer, which reserves terabytes of address space at start-up.
std::vector<std::string> WithinLimits(const std::vector<std::string>& argv, int seconds,
                                      std::vector<std::string> limits = {});

}  // namespace hardbase::testing
