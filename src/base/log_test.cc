#include "base/log.h"

#include <gtest/gtest.h>

#include <string>

namespace hardbase {
namespace {

// A log line quotes values from others (package names, registry messages): it stays one line and
// its escape sequences are shown escaped, warnings and the progress label alike.
TEST(LogTest, EveryLineIsEscaped) {
  SetVerbosity(Verbosity::kNormal);
  ::testing::internal::CaptureStderr();
  LogWarn("package {}: bad", "evil\nwarning: all signatures verified\x1b[32m");
  LogInfo("{}",
          "\xc2\x9b"
          "2J\xe2\x80\xae");
  { Progress progress("fetching \x1b]0;title\x07", 1, Progress::Unit::kItems); }
  std::string err = ::testing::internal::GetCapturedStderr();
  const std::string expected =
      "warning: package evil\\x0awarning: all signatures verified\\x1b[32m: bad\n"
      "\\u009b2J\\u202e\n"
      "fetching \\x1b]0;title\\x07 (1)\n"
      "fetching \\x1b]0;title\\x07: done, 0 in ";
  EXPECT_TRUE(err.starts_with(expected)) << err;
}

}  // namespace
}  // namespace hardbase
