// The one way hardbase runs independent work on several threads: a parallel-for over indices
// whose tasks return Result, stopping at the first failure. No module keeps a pool of its own.
#pragma once

#include <cstddef>
#include <functional>

#include "base/error.h"

namespace hardbase {

// Runs `task(0)` .. `task(n - 1)` on up to `threads` threads (0: one per core), the calling
// thread among them. Once a task fails no new task starts, and the first failure (in time) is
// returned. Fewer threads are used when the system refuses to start more.
Result<void> ParallelFor(size_t n, unsigned threads,
                         const std::function<Result<void>(size_t)>& task);

}  // namespace hardbase
