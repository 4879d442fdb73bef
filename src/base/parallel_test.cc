#include "base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "support/result_matchers.h"

namespace hardbase {
namespace {

using ::hardbase::testing::FailsWith;

TEST(ParallelForTest, RunsEveryTaskOnce) {
  std::vector<std::atomic<int>> runs(1000);
  ASSERT_TRUE(ParallelFor(runs.size(), 4, [&](size_t i) -> Result<void> {
    ++runs[i];
    return {};
  }));
  for (const auto& r : runs) EXPECT_EQ(r, 1);
  EXPECT_TRUE(ParallelFor(0, 0, [](size_t) -> Result<void> { return {}; }));
}

TEST(ParallelForTest, StopsAtTheFirstFailure) {
  std::atomic<size_t> started{0};
  auto r = ParallelFor(10000, 2, [&](size_t i) -> Result<void> {
    ++started;
    if (i == 3) return Fail(ErrorCode::kIo, "task 3 failed");
    return {};
  });
  ASSERT_THAT(r, FailsWith(ErrorCode::kIo));
  EXPECT_EQ(r.error().message, "task 3 failed");
  EXPECT_LT(started.load(), 10000u);  // the rest were not started
}

}  // namespace
}  // namespace hardbase
