// The state the end-to-end build suites share: one download cache and one lock per example, kept
// under the build directory, so every test builds from the same verified packages, downloaded
// once (ctest runs each test in its own process).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "support/process.h"

namespace hardbase::testing {

// <build dir>/e2e-build: the shared cache and locks.
std::string ExamplesSuiteDir();
// examples/<example>/image.yaml in the source tree.
std::string ExampleSpec(const std::string& example);
// Runs hardbase with `--cache-dir` (the suite's cache unless `cache` is given).
ProcessResult HardbaseWithCache(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env = {},
                                const std::string& cache = "");
// The example's lock in the suite dir, resolved again when older than an hour (the mirror moves
// on); a failure to lock is a test failure.
std::string ExampleLock(const std::string& example);

// The OSV snapshot of Debian's data the scan tests match with (../shared/data).
std::string OsvSnapshot();
// That snapshot imported once into the suite dir for every test process (under a lock, as ctest
// runs tests in parallel processes); a failed import is a test failure.
std::string SharedVulnDb();

}  // namespace hardbase::testing
