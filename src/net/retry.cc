#include "net/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include "base/strings.h"

namespace hardbase::net {

bool IsTransientStatus(long status) {
  return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

bool IsTransient(const Response& response) {
  return response.status == 0 ? response.transient : IsTransientStatus(response.status);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now,
                                                         std::chrono::milliseconds cap) {
  using std::chrono::milliseconds;
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  const int64_t cap_ms = std::max<int64_t>(cap.count(), 0);
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delta-seconds, of any length: what is past the cap need not be read.
    int64_t seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > cap_ms / 1000) return milliseconds(cap_ms);
    }
    return std::min(milliseconds(seconds * 1000), milliseconds(cap_ms));
  }
  // An HTTP-date starts with a day name; libcurl reads all three forms RFC 9110 allows. Anything
  // else curl might make sense of ("-1", "tomorrow") is not a Retry-After.
  if (!((value[0] >= 'A' && value[0] <= 'Z') || (value[0] >= 'a' && value[0] <= 'z'))) {
    return std::nullopt;
  }
  const std::string date(value);
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  // In milliseconds since the epoch: a date centuries ahead would overflow system_clock.
  const int64_t now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  const int64_t when_s = static_cast<int64_t>(when);
  if (when_s > (INT64_MAX - cap_ms) / 1000 - 1) return milliseconds(cap_ms);
  const int64_t wait_ms = when_s * 1000 - now_ms;
  return milliseconds(std::clamp<int64_t>(wait_ms, 0, cap_ms));
}

RetryPolicy::RetryPolicy(RetryOptions options)
    : RetryPolicy(options, static_cast<uint32_t>(
                               std::chrono::steady_clock::now().time_since_epoch().count())) {}

RetryPolicy::RetryPolicy(RetryOptions options, uint32_t seed) : options_(options), rng_(seed) {}

std::chrono::milliseconds RetryPolicy::Backoff(int attempt) const {
  const double cap = static_cast<double>(std::max<int64_t>(options_.max_backoff.count(), 0));
  double ms = static_cast<double>(std::max<int64_t>(options_.initial_backoff.count(), 0));
  for (int i = 1; i < attempt && ms < cap; ++i) ms *= 2;
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(ms, cap)));
}

std::chrono::milliseconds RetryPolicy::Delay(int attempt,
                                             std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after) {
    return std::max(std::min(*retry_after, options_.max_retry_after), std::chrono::milliseconds(0));
  }
  const double backoff = static_cast<double>(Backoff(attempt).count());
  double factor = 1.0;
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> jitter(1.0, 1.0 + options_.jitter);
    std::lock_guard<std::mutex> lock(mu_);
    factor = jitter(rng_);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(backoff * factor));
}

std::chrono::milliseconds RetryPolicy::Delay(int attempt, const Response& response) {
  std::optional<std::chrono::milliseconds> retry_after;
  if (auto value = response.Header("Retry-After")) {
    retry_after =
        ParseRetryAfter(*value, std::chrono::system_clock::now(), options_.max_retry_after);
  }
  return Delay(attempt, retry_after);
}

void PauseWithin(const NetworkLimits& limits, std::chrono::milliseconds delay) {
  if (auto left = TimeLeft(limits)) delay = std::min(delay, *left);
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

}  // namespace hardbase::net
