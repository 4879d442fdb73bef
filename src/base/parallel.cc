#include "base/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

namespace hardbase {

Result<void> ParallelFor(size_t n, unsigned threads,
                         const std::function<Result<void>(size_t)>& task) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < n;) {
      auto r = task(i);
      if (!r) {
        std::lock_guard lock(mu);
        if (!first_error) first_error = std::move(r.error());
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads && t < n; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // fewer threads: the ones running take every task
    }
  }
  worker();
  for (auto& t : pool) t.join();
  if (first_error) return Fail(std::move(*first_error));
  return {};
}

}  // namespace hardbase
