#include "support/examples.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "base/fs.h"

namespace hardbase::testing {

namespace fs = std::filesystem;

std::string ExamplesSuiteDir() { return std::string(HARDBASE_BINARY_DIR) + "/e2e-build"; }

std::string ExampleSpec(const std::string& example) {
  return std::string(HARDBASE_SOURCE_DIR) + "/examples/" + example + "/image.yaml";
}

ProcessResult HardbaseWithCache(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env,
                                const std::string& cache) {
  std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir",
                                   cache.empty() ? ExamplesSuiteDir() + "/cache" : cache};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env);
}

std::string ExampleLock(const std::string& example) {
  std::string path = ExamplesSuiteDir() + "/" + example + ".lock.json";
  auto age = fs::exists(path) ? fs::file_time_type::clock::now() - fs::last_write_time(path)
                              : std::chrono::hours(24);
  if (age > std::chrono::hours(1)) {
    auto r = HardbaseWithCache({"lock", ExampleSpec(example), "-o", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    fs::last_write_time(path, fs::file_time_type::clock::now());
  }
  return path;
}

std::string OsvSnapshot() {
  return std::string(HARDBASE_SOURCE_DIR) + "/../shared/data/osv-debian-2025-02-12.zip";
}

std::string SharedVulnDb() {
  std::string path = ExamplesSuiteDir() + "/vulndb";
  EXPECT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  auto lock = FileLock::Acquire(path + ".test-lock", FileLock::Mode::kExclusive);
  EXPECT_TRUE(lock.has_value());
  if (!PathExists(path)) {
    auto r = HardbaseWithCache({"vuln", "update", "--from", OsvSnapshot(), "--db", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  return path;
}

}  // namespace hardbase::testing
