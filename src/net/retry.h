// When and how long to wait before trying an HTTP exchange again: the one retry policy of every
// client (the libcurl HttpClient, the registry client, token services, the test fake).
//
// A transient failure (a dropped connection, 408, 429, 5xx other than 501 and 505) is tried again
// up to `max_attempts` attempts in all. The wait after the n-th failed attempt is the server's
// Retry-After when it sent a usable one (capped at `max_retry_after`), else an exponential backoff
// `initial_backoff * 2^(n-1)`, capped at `max_backoff`, plus up to `jitter` of itself at random
// so that parallel transfers failing together do not come back in lockstep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

#include "net/http.h"

namespace hardbase::net {

// The longest wait a Retry-After header may impose on one attempt.
inline constexpr std::chrono::milliseconds kMaxRetryAfter{30000};

// Whether an HTTP status says "try again later": 408, 429 and 5xx, except 501 (Not Implemented)
// and 505 (HTTP Version Not Supported), which no later attempt changes.
bool IsTransientStatus(long status);
// Whether another attempt of this exchange may get another answer: a transient status, or no
// answer at all with a failure the transport calls transient (a reset, a timeout).
bool IsTransient(const Response& response);

// The wait a Retry-After header value asks for (RFC 9110 10.2.3): delta-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms)
// measured from `now` (a date already past is 0). At most `cap`; nullopt when the value is
// neither (surrounding blanks are ignored).
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now,
    std::chrono::milliseconds cap = kMaxRetryAfter);

struct RetryOptions {
  int max_attempts = 5;  // attempts in all, the first included; at least 1 is made
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds max_retry_after = kMaxRetryAfter;
  double jitter = 0.25;  // the backoff is multiplied by a random factor in [1, 1 + jitter)
};

// Thread-safe: parallel transfers share one policy (the jitter's generator is locked).
class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options = {});
  // With a fixed seed for the jitter (tests).
  RetryPolicy(RetryOptions options, uint32_t seed);

  const RetryOptions& options() const { return options_; }
  int max_attempts() const { return options_.max_attempts < 1 ? 1 : options_.max_attempts; }
  // Whether another attempt may follow `attempts` attempts that failed transiently.
  bool MayRetry(int attempts) const { return attempts < max_attempts(); }

  // How long to wait after the `attempt`-th attempt (1-based) failed: `retry_after` (what the
  // server asked for) capped at max_retry_after when given, else the backoff with jitter.
  std::chrono::milliseconds Delay(int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after = {});
  // The same for an answer: its Retry-After header when it is usable.
  std::chrono::milliseconds Delay(int attempt, const Response& response);

  // The backoff after the `attempt`-th failed attempt before jitter.
  std::chrono::milliseconds Backoff(int attempt) const;

 private:
  RetryOptions options_;
  std::mutex mu_;
  std::minstd_rand rng_;
};

// Sleeps `delay`, or only until the deadline of `limits` when that comes first (the next attempt
// then fails with the command's timeout rather than waiting past it).
void PauseWithin(const NetworkLimits& limits, std::chrono::milliseconds delay);

}  // namespace hardbase::net
