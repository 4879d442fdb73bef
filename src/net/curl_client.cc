// libcurl implementation of HttpClient.
//
// Every call runs its transfers on one curl multi handle, on the calling thread: a small scheduler
// keeps up to max_parallel easy handles in flight, and puts failed attempts back in a queue with
// the time they may start again. Idle multi handles (and with them their connection caches) are
// pooled by the client, so a sequence of Get calls to one server reuses its connections while
// concurrent calls never share a handle.
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "base/fs.h"
#include "base/strings.h"
#include "net/http.h"
#include "net/retry.h"

namespace hardbase::net {
namespace {

// The longest exponential backoff between attempts.
constexpr std::chrono::milliseconds kMaxBackoff{30000};
// Get() keeps the body in memory; a server sending more than this is refused.
constexpr uint64_t kMaxDocumentBytes = uint64_t{256} << 20;
constexpr size_t kMaxIdleMultiHandles = 4;
// A response with more header fields than this is refused (curl bounds each field's size).
constexpr size_t kMaxHeaderFields = 1000;
// Send() runs on as many threads as a caller likes (parallel blob uploads); this many idle handles
// are kept for reuse.
constexpr size_t kMaxIdleEasyHandles = 16;

// The process's network bounds (see NetworkLimits), set from the command line.
std::mutex limits_mu;
NetworkLimits process_limits;

std::string TimedOut(const NetworkLimits& limits) {
  return "timed out: the command's --timeout of " + std::to_string(limits.timeout.count()) +
         " s ran out";
}

// With a little slack: curl's timer for the deadline may fire a moment before it.
bool DeadlinePassed(const NetworkLimits& limits) {
  return limits.deadline &&
         std::chrono::steady_clock::now() + std::chrono::milliseconds(20) >= *limits.deadline;
}

Result<void> EnsureCurlInitialized() {
  static std::once_flag once;
  static CURLcode init_result = CURLE_OK;
  std::call_once(once, [] { init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_result != CURLE_OK) {
    return Fail(ErrorCode::kInternal,
                std::string("initialize libcurl: ") + curl_easy_strerror(init_result));
  }
  return {};
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// What the headers of the current response said. Reset at every status line: with redirects
// (and 1xx answers) one transfer sees several responses, and only the last one has the body.
struct ResponseHead {
  bool seen_status_line = false;  // false for file:// URLs, which have no headers
  long status = 0;
  std::optional<uint64_t> range_start;  // Content-Range: bytes START-END/TOTAL
  std::optional<uint64_t> range_total;  // TOTAL, unless "*"
  std::optional<std::chrono::milliseconds> retry_after;
};

void ParseHeaderLine(std::string_view line, ResponseHead* head) {
  line = Trim(line);
  if (line.starts_with("HTTP/")) {
    *head = ResponseHead{};
    head->seen_status_line = true;
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      auto code = ParseUint(line.substr(sp + 1, 3));
      if (code) head->status = static_cast<long>(*code);
    }
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string_view name = line.substr(0, colon);
  std::string_view value = Trim(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-range")) {
    if (value.size() < 6 || !EqualsIgnoreCase(value.substr(0, 6), "bytes ")) return;
    value.remove_prefix(6);
    size_t dash = value.find('-');
    size_t slash = value.find('/');
    if (slash == std::string_view::npos) return;
    if (dash != std::string_view::npos && dash < slash) {
      head->range_start = ParseUint(value.substr(0, dash));
    }
    head->range_total = ParseUint(value.substr(slash + 1));
  } else if (EqualsIgnoreCase(name, "retry-after")) {
    head->retry_after = ParseRetryAfter(value, std::chrono::system_clock::now());
  }
}

// Why a callback stopped a transfer (by returning a short count, which curl reports as
// CURLE_WRITE_ERROR); the attempt's outcome then comes from here rather than from curl.
enum class Abort { kNone, kIo, kIntegrity, kTooLarge, kRestart };

// One requested document or file, across all its attempts.
struct Transfer {
  // The request.
  std::string url;
  std::string dest_path;  // empty: the body goes to `memory`
  std::string part_path;
  uint64_t expected_size = 0;
  uint64_t max_size = 0;  // 0: no bound
  std::string* memory = nullptr;
  Progress* progress = nullptr;

  // Across attempts.
  int attempts = 0;
  bool restarted = false;  // a resume was refused once and the .part file dropped
  uint64_t progress_counted = 0;
  bool progress_total_added = false;
  std::optional<Result<void>> result;  // set when finished

  // The current attempt.
  CURL* easy = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::string range;        // CURLOPT_RANGE value, kept alive while the handle runs
  uint64_t range_from = 0;  // 0: no Range was sent
  ResponseHead head;
  bool body_started = false;
  bool discard_body = false;  // the body of an error response
  int fd = -1;
  uint64_t pos = 0;  // next write offset in the .part file
  Abort abort = Abort::kNone;
  std::string abort_message;

  bool to_memory() const { return memory != nullptr; }
  std::string Prefix() const { return "GET " + url + ": "; }

  void StopWith(Abort why, std::string message) {
    abort = why;
    abort_message = Prefix() + std::move(message);
  }

  void CountProgress() {
    if (progress && pos > progress_counted) {
      progress->Advance(pos - progress_counted);
      progress_counted = pos;
    }
  }

  void CloseFile() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void RemovePart() {
    CloseFile();
    if (!part_path.empty()) ::unlink(part_path.c_str());
  }
};

// Decides, at the first byte of the final response's body (or at its end when it had none),
// where the body goes. False stops the transfer (see Transfer::abort).
bool BeginBody(Transfer& t) {
  t.body_started = true;
  const bool http = t.head.seen_status_line;
  const long status = t.head.status;
  if (http && status != 200 && status != 206) {
    t.discard_body = true;
    return true;
  }
  curl_off_t length = -1;
  curl_easy_getinfo(t.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (t.to_memory()) {
    if (status == 206) {
      t.StopWith(Abort::kRestart,
                 "server sent a partial response (206) to a request without Range");
      return false;
    }
    t.memory->clear();
    if (length > 0 && static_cast<uint64_t>(length) > kMaxDocumentBytes) {
      t.StopWith(Abort::kTooLarge, "document of " + std::to_string(length) +
                                       " bytes is larger than the in-memory limit");
      return false;
    }
    return true;
  }

  // 206 continues at the offset the server names (which must be ours); 200 starts over; a
  // file:// URL honours the range it was given.
  uint64_t start = 0;
  std::optional<uint64_t> total;
  if (http && status == 206) {
    if (!t.head.range_start || *t.head.range_start != t.range_from) {
      t.StopWith(Abort::kRestart,
                 "server answered a request for bytes from " + std::to_string(t.range_from) +
                     " with " +
                     (t.head.range_start ? "bytes from " + std::to_string(*t.head.range_start)
                                         : std::string("no Content-Range")));
      return false;
    }
    start = t.range_from;
    if (t.head.range_total) {
      total = t.head.range_total;
    } else if (length >= 0) {
      total = start + static_cast<uint64_t>(length);
    }
  } else {
    start = http ? 0 : t.range_from;
    if (length >= 0) total = start + static_cast<uint64_t>(length);
  }
  if (t.expected_size && total && *total != t.expected_size) {
    t.StopWith(Abort::kIntegrity, "size mismatch: server announced " + std::to_string(*total) +
                                      " bytes, expected " + std::to_string(t.expected_size));
    return false;
  }
  if (t.max_size && total && *total > t.max_size) {
    t.StopWith(Abort::kIntegrity, "document of " + std::to_string(*total) +
                                      " bytes is larger than the limit of " +
                                      std::to_string(t.max_size) + " bytes");
    return false;
  }

  t.fd = ::open(t.part_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (t.fd < 0 || ::ftruncate(t.fd, static_cast<off_t>(start)) != 0) {
    t.StopWith(Abort::kIo, "open " + t.part_path + ": " + std::strerror(errno));
    return false;
  }
  t.pos = start;
  if (t.progress && !t.expected_size && total && !t.progress_total_added) {
    t.progress->AddToTotal(*total);
    t.progress_total_added = true;
  }
  t.CountProgress();
  return true;
}

size_t HeaderCallback(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nitems;
  ParseHeaderLine(std::string_view(data, n), &t->head);
  return n;
}

size_t WriteCallback(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  if (!t->body_started && !BeginBody(*t)) return 0;
  if (t->discard_body) return n;
  if (t->to_memory()) {
    if (t->memory->size() + n > kMaxDocumentBytes) {
      t->StopWith(Abort::kTooLarge, "document is larger than the in-memory limit of " +
                                        std::to_string(kMaxDocumentBytes) + " bytes");
      return 0;
    }
    t->memory->append(data, n);
    return n;
  }
  if (t->expected_size && t->pos + n > t->expected_size) {
    t->StopWith(Abort::kIntegrity, "size mismatch: received more than the expected " +
                                       std::to_string(t->expected_size) + " bytes");
    return 0;
  }
  if (t->max_size && t->pos + n > t->max_size) {
    t->StopWith(Abort::kIntegrity,
                "received more than the limit of " + std::to_string(t->max_size) + " bytes");
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(t->fd, data + done, n - done, static_cast<off_t>(t->pos + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t->StopWith(Abort::kIo, "write " + t->part_path + ": " + std::strerror(w < 0 ? errno : EIO));
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  t->pos += n;
  t->CountProgress();
  return n;
}

// Curl failures worth another attempt: the network or the server may do better next time.
bool IsTransient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    // A kept-alive connection died under a request whose streamed body cannot be replayed.
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

// What every transfer shares: limits on redirects, slow peers and the command's deadline,
// keep-alive, buffers, TLS.
void ApplyCommonOptions(CURL* e, const ClientOptions& options) {
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, options.limits.low_speed_limit);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, options.limits.low_speed_seconds);
  if (auto left = TimeLeft(options.limits)) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(left->count()));
  }
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 128L * 1024L);
  if (!options.tls_verify) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!options.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
  }
}

// What one finished attempt means for its transfer.
struct Outcome {
  enum class Kind { kDone, kRetry, kFailed } kind = Kind::kDone;
  Error error;                                     // kRetry: the error if no attempt is left
  std::optional<std::chrono::milliseconds> delay;  // kRetry: the server's Retry-After, or 0
};

Outcome Failed(ErrorCode code, std::string message) {
  return Outcome{Outcome::Kind::kFailed, Error{code, std::move(message)}, std::nullopt};
}
Outcome Retry(std::string message, std::optional<std::chrono::milliseconds> delay = {}) {
  return Outcome{Outcome::Kind::kRetry, Error{ErrorCode::kNetwork, std::move(message)}, delay};
}

// One Send() in flight: the request, the response being filled in, and why a callback stopped.
struct Exchange {
  const Request* request = nullptr;
  Response* response = nullptr;
  size_t body_offset = 0;  // into request->body
  uint64_t body_sent = 0;
  std::optional<Error> error;
};

size_t ExchangeHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  size_t n = size * nitems;
  std::string_view line = Trim(std::string_view(data, n));
  if (line.starts_with("HTTP/")) {
    x->response->headers.clear();
    x->response->status = 0;
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      if (auto code = ParseUint(line.substr(sp + 1, 3)))
        x->response->status = static_cast<long>(*code);
    }
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    if (x->response->headers.size() >= kMaxHeaderFields) {
      x->error =
          Error{ErrorCode::kNetwork,
                "response has more than " + std::to_string(kMaxHeaderFields) + " header fields"};
      return 0;
    }
    x->response->headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                      std::string(Trim(line.substr(colon + 1))));
  }
  return n;
}

size_t ExchangeWrite(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  size_t n = size * nmemb;
  if (x->request->body_sink && x->response->status / 100 == 2) {
    if (auto sunk = x->request->body_sink(*x->response, std::string_view(data, n)); !sunk) {
      x->error = std::move(sunk.error());
      return 0;
    }
    return n;
  }
  if (x->response->body.size() + n > x->request->max_body) {
    x->error = Error{ErrorCode::kNetwork, "response body is larger than " +
                                              std::to_string(x->request->max_body) + " bytes"};
    return 0;
  }
  x->response->body.append(data, n);
  return n;
}

// Lets curl replay an in-memory body (on a fresh connection when a kept-alive one died); a
// streamed body cannot be replayed here, so the caller sees a transient failure instead.
int ExchangeSeek(void* userdata, curl_off_t offset, int origin) {
  auto* x = static_cast<Exchange*>(userdata);
  if (x->request->body_reader || origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > x->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  x->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t ExchangeRead(char* buf, size_t size, size_t nitems, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  size_t want = size * nitems;
  const Request& r = *x->request;
  if (!r.body_reader) {
    size_t n = std::min(want, r.body.size() - x->body_offset);
    std::memcpy(buf, r.body.data() + x->body_offset, n);
    x->body_offset += n;
    return n;
  }
  want = static_cast<size_t>(std::min<uint64_t>(want, r.body_size - x->body_sent));
  if (want == 0) return 0;
  auto got = r.body_reader(buf, want);
  if (!got) {
    x->error = std::move(got.error());
    return CURL_READFUNC_ABORT;
  }
  if (*got == 0) {
    x->error = Error{ErrorCode::kIo, "request body ended after " + std::to_string(x->body_sent) +
                                         " of " + std::to_string(r.body_size) + " bytes"};
    return CURL_READFUNC_ABORT;
  }
  x->body_sent += *got;
  return *got;
}

// Runs a batch of transfers to completion on one multi handle.
class Scheduler {
 public:
  Scheduler(const ClientOptions& options, CURLM* multi, RetryPolicy* policy)
      : options_(options), multi_(multi), policy_(policy) {}

  void Run(std::vector<Transfer>& transfers) {
    std::deque<Transfer*> ready;
    std::multimap<std::chrono::steady_clock::time_point, Transfer*> delayed;
    size_t unfinished = 0;
    for (Transfer& t : transfers) {
      if (t.result) continue;  // rejected before starting
      ready.push_back(&t);
      ++unfinished;
    }
    const int max_parallel = std::max(1, options_.max_parallel);
    int active = 0;
    while (unfinished > 0) {
      auto now = std::chrono::steady_clock::now();
      while (!delayed.empty() && delayed.begin()->first <= now) {
        ready.push_back(delayed.begin()->second);
        delayed.erase(delayed.begin());
      }
      while (active < max_parallel && !ready.empty()) {
        Transfer* t = ready.front();
        ready.pop_front();
        if (auto started = StartAttempt(*t); !started) {
          t->result = Fail(std::move(started.error()));
          --unfinished;
        } else {
          ++active;
        }
      }
      if (unfinished == 0) break;

      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        Transfer* t = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
        --active;
        Outcome outcome = FinishAttempt(*t, rc);
        if (outcome.kind == Outcome::Kind::kRetry && !policy_->MayRetry(t->attempts)) {
          outcome = Failed(outcome.error.code, outcome.error.message + " (after " +
                                                   std::to_string(t->attempts) + " attempts)");
        }
        switch (outcome.kind) {
          case Outcome::Kind::kDone:
            t->result = Result<void>{};
            --unfinished;
            break;
          case Outcome::Kind::kFailed:
            t->result = Fail(std::move(outcome.error));
            --unfinished;
            break;
          case Outcome::Kind::kRetry: {
            auto delay = policy_->Delay(t->attempts, outcome.delay);
            if (auto left = TimeLeft(options_.limits); left && *left <= delay) {
              t->result = Fail(ErrorCode::kNetwork, outcome.error.message + " (" +
                                                        TimedOut(options_.limits) +
                                                        " before the next attempt)");
              --unfinished;
              break;
            }
            LogDebug("{} (attempt {} of {}), retrying in {} ms", outcome.error.message, t->attempts,
                     options_.max_attempts, delay.count());
            if (delay.count() <= 0) {
              ready.push_back(t);
            } else {
              delayed.emplace(std::chrono::steady_clock::now() + delay, t);
            }
            break;
          }
        }
      }
      if (unfinished == 0) break;
      if (!ready.empty() && active < max_parallel) continue;

      int timeout_ms = 1000;
      if (!delayed.empty()) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            delayed.begin()->first - std::chrono::steady_clock::now());
        timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 1000));
      }
      curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
    }
  }

 private:
  Result<void> StartAttempt(Transfer& t) {
    if (DeadlinePassed(options_.limits)) {
      return Fail(ErrorCode::kNetwork, t.Prefix() + TimedOut(options_.limits));
    }
    ++t.attempts;
    t.head = ResponseHead{};
    t.body_started = false;
    t.discard_body = false;
    t.fd = -1;
    t.pos = 0;
    t.abort = Abort::kNone;
    t.abort_message.clear();
    t.errbuf[0] = '\0';
    t.range.clear();
    t.range_from = 0;

    if (!t.to_memory()) {
      struct stat st {};
      if (::stat(t.part_path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
          return Fail(ErrorCode::kIo, t.Prefix() + t.part_path + " is not a regular file");
        }
        uint64_t have = static_cast<uint64_t>(st.st_size);
        if (t.expected_size && have > t.expected_size) {
          t.RemovePart();
          return Fail(ErrorCode::kIntegrity, t.Prefix() + "size mismatch: partial download " +
                                                 t.part_path + " has " + std::to_string(have) +
                                                 " bytes, expected " +
                                                 std::to_string(t.expected_size));
        }
        t.range_from = have;
      } else if (errno != ENOENT) {
        return Fail(ErrorCode::kIo,
                    t.Prefix() + "stat " + t.part_path + ": " + std::strerror(errno));
      }
    }

    t.easy = curl_easy_init();
    if (!t.easy) return Fail(ErrorCode::kInternal, t.Prefix() + "curl_easy_init failed");
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
    // A web server must not be able to send us to a local file.
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    ApplyCommonOptions(e, options_);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HeaderCallback);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &WriteCallback);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    if (t.range_from > 0) {
      t.range = std::to_string(t.range_from) + "-";
      curl_easy_setopt(e, CURLOPT_RANGE, t.range.c_str());
    }
    if (CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK) {
      curl_easy_cleanup(e);
      t.easy = nullptr;
      return Fail(ErrorCode::kInternal,
                  t.Prefix() + "curl_multi_add_handle: " + curl_multi_strerror(mc));
    }
    return {};
  }

  // Drops the .part file after a server refused to resume it; the next attempt starts from zero
  // without a Range. Allowed once per transfer and not charged as an attempt.
  Outcome Restart(Transfer& t, std::string message) {
    t.RemovePart();
    if (t.restarted || t.to_memory()) return Failed(ErrorCode::kNetwork, std::move(message));
    t.restarted = true;
    --t.attempts;
    LogDebug("{}; downloading again from the start", message);
    return Retry(std::move(message), std::chrono::milliseconds(0));
  }

  Outcome FinishAttempt(Transfer& t, CURLcode rc) {
    if (rc == CURLE_OK && !t.body_started && t.abort == Abort::kNone) BeginBody(t);

    long status = t.head.status;
    const bool http = t.head.seen_status_line;
    std::string where = t.Prefix();
    char* effective = nullptr;
    curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &effective);
    std::string redirected;
    if (effective && t.url != effective)
      redirected = std::string(" (redirected to ") + effective + ")";
    std::string curl_message = t.errbuf[0] ? t.errbuf : curl_easy_strerror(rc);
    curl_multi_remove_handle(multi_, t.easy);
    curl_easy_cleanup(t.easy);
    t.easy = nullptr;

    switch (t.abort) {
      case Abort::kNone:
        break;
      case Abort::kIo:
        t.CloseFile();
        return Failed(ErrorCode::kIo, t.abort_message);
      case Abort::kIntegrity:
        t.RemovePart();
        return Failed(ErrorCode::kIntegrity, t.abort_message + redirected);
      case Abort::kTooLarge:
        return Failed(ErrorCode::kNetwork, t.abort_message + redirected);
      case Abort::kRestart:
        return Restart(t, t.abort_message + redirected);
    }

    if (rc != CURLE_OK) {
      t.CloseFile();
      if (rc == CURLE_OPERATION_TIMEDOUT && DeadlinePassed(options_.limits)) {
        return Failed(ErrorCode::kNetwork, where + TimedOut(options_.limits) + redirected);
      }
      std::string message = where + curl_message + redirected;
      if (rc == CURLE_BAD_DOWNLOAD_RESUME || rc == CURLE_RANGE_ERROR) {
        return Restart(t, std::move(message));
      }
      if (rc == CURLE_FILE_COULDNT_READ_FILE || rc == CURLE_REMOTE_FILE_NOT_FOUND) {
        return Failed(ErrorCode::kNotFound, std::move(message));
      }
      if (IsTransient(rc)) return Retry(std::move(message));
      return Failed(ErrorCode::kNetwork, std::move(message));
    }

    if (!http || status == 200 || status == 206) {
      if (t.to_memory()) return Outcome{};
      bool close_failed = t.fd >= 0 && ::close(t.fd) != 0;
      int close_errno = errno;
      t.fd = -1;
      if (close_failed) {
        return Failed(ErrorCode::kIo,
                      where + "close " + t.part_path + ": " + std::strerror(close_errno));
      }
      if (t.expected_size && t.pos != t.expected_size) {
        t.RemovePart();
        return Failed(ErrorCode::kIntegrity, where + "size mismatch: received " +
                                                 std::to_string(t.pos) + " bytes, expected " +
                                                 std::to_string(t.expected_size) + redirected);
      }
      if (::rename(t.part_path.c_str(), t.dest_path.c_str()) != 0) {
        return Failed(ErrorCode::kIo, where + "rename " + t.part_path + " to " + t.dest_path +
                                          ": " + std::strerror(errno));
      }
      return Outcome{};
    }

    t.CloseFile();
    std::string message = where + "HTTP " + std::to_string(status) + redirected;
    if (status == 416 && t.range_from > 0) return Restart(t, std::move(message));
    if (status == 404 || status == 410) return Failed(ErrorCode::kNotFound, std::move(message));
    if (IsTransientStatus(status)) return Retry(std::move(message), t.head.retry_after);
    return Failed(ErrorCode::kNetwork, std::move(message));
  }

  const ClientOptions& options_;
  CURLM* multi_;
  RetryPolicy* policy_;
};

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(ClientOptions options)
      : options_(std::move(options)),
        policy_(RetryOptions{.max_attempts = options_.max_attempts,
                             .initial_backoff = options_.initial_backoff,
                             .max_backoff = kMaxBackoff,
                             .max_retry_after = kMaxRetryAfter,
                             .jitter = 0.25}) {}

  ~CurlClient() override {
    for (CURLM* m : idle_) curl_multi_cleanup(m);
    for (CURL* e : idle_easy_) curl_easy_cleanup(e);
  }

  Result<std::string> Get(const std::string& url) override {
    std::string body;
    std::vector<Transfer> transfers(1);
    transfers[0].url = url;
    transfers[0].memory = &body;
    if (auto ran = RunAll(transfers); !ran) return Fail(ran.error().Wrap("GET " + url));
    if (!*transfers[0].result) return Fail(std::move(transfers[0].result->error()));
    return body;
  }

  std::vector<Result<void>> Download(const std::vector<DownloadRequest>& requests,
                                     Progress* progress) override {
    std::vector<Transfer> transfers(requests.size());
    std::set<std::string> dests;
    for (size_t i = 0; i < requests.size(); ++i) {
      Transfer& t = transfers[i];
      t.url = requests[i].url;
      t.dest_path = requests[i].dest_path;
      t.part_path = t.dest_path + ".part";
      t.expected_size = requests[i].expected_size;
      t.max_size = requests[i].max_size;
      t.progress = progress;
      if (t.dest_path.empty()) {
        t.result = Fail(ErrorCode::kInternal, t.Prefix() + "download without a destination path");
      } else if (!dests.insert(t.dest_path).second) {
        t.result = Fail(ErrorCode::kInternal, t.Prefix() + "destination " + t.dest_path +
                                                  " requested twice in one batch");
      } else if (auto made = MakeDirs(DirName(t.dest_path)); !made) {
        t.result = Fail(made.error().Wrap("GET " + t.url));
      }
    }
    std::vector<Result<void>> results;
    results.reserve(transfers.size());
    if (auto ran = RunAll(transfers); !ran) {
      for (Transfer& t : transfers) {
        results.push_back(t.result ? *t.result : Fail(ran.error().Wrap("GET " + t.url)));
      }
      return results;
    }
    for (Transfer& t : transfers) results.push_back(std::move(*t.result));
    return results;
  }

  Result<Response> Send(const Request& request) override {
    HB_TRY_VOID(EnsureCurlInitialized());
    HB_TRY_VOID(CheckDeadline(options_.limits, request.method + " " + request.url));
    CURL* e = TakeIdle(idle_easy_);
    if (e) {
      curl_easy_reset(e);  // keeps the handle's open connections
    } else if (!(e = curl_easy_init())) {
      return Fail(ErrorCode::kInternal,
                  request.method + " " + request.url + ": curl_easy_init failed");
    }
    Response response;
    Exchange x;
    x.request = &request;
    x.response = &response;
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    // No "Expect: 100-continue" round trip before bodies.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
    ApplyCommonOptions(e, options_);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &ExchangeHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &ExchangeWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
    if (request.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      // Every other method sends a body (possibly empty) with a Content-Length.
      uint64_t size = request.body_reader ? request.body_size : request.body.size();
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
      curl_easy_setopt(e, CURLOPT_READFUNCTION, &ExchangeRead);
      curl_easy_setopt(e, CURLOPT_READDATA, &x);
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &ExchangeSeek);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, &x);
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(headers);
    if (char* effective = nullptr;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective) {
      response.effective_url = effective;
    }
    if (!KeepIdle(idle_easy_, e, kMaxIdleEasyHandles)) curl_easy_cleanup(e);
    if (x.error) {
      return Fail(x.error->Wrap(request.method + " " + request.url));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && DeadlinePassed(options_.limits)) {
      return Fail(ErrorCode::kNetwork,
                  request.method + " " + request.url + ": " + TimedOut(options_.limits));
    }
    if (rc != CURLE_OK) {
      response.status = 0;
      response.transport_error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      response.transient = IsTransient(rc);
    }
    return response;
  }

 private:
  Result<void> RunAll(std::vector<Transfer>& transfers) {
    HB_TRY_VOID(EnsureCurlInitialized());
    CURLM* multi = TakeIdle(idle_);
    if (!multi) multi = curl_multi_init();
    if (!multi) return Fail(ErrorCode::kInternal, "curl_multi_init failed");
    Scheduler(options_, multi, &policy_).Run(transfers);
    if (!KeepIdle(idle_, multi, kMaxIdleMultiHandles)) curl_multi_cleanup(multi);
    return {};
  }

  // Idle curl handles keep their open connections for the next call.
  template <class Handle>
  Handle* TakeIdle(std::vector<Handle*>& pool) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool.empty()) return nullptr;
    Handle* h = pool.back();
    pool.pop_back();
    return h;
  }
  // False when the pool is full (the caller cleans the handle up).
  template <class Handle>
  bool KeepIdle(std::vector<Handle*>& pool, Handle* h, size_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool.size() >= max) return false;
    pool.push_back(h);
    return true;
  }

  const ClientOptions options_;
  std::mutex mu_;
  RetryPolicy policy_;            // shared by every call's transfers
  std::vector<CURLM*> idle_;      // multi handles (and their open connections) between calls
  std::vector<CURL*> idle_easy_;  // Send()'s handles, likewise
};

}  // namespace

std::optional<std::string> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

NetworkLimits GetNetworkLimits() {
  std::lock_guard<std::mutex> lock(limits_mu);
  return process_limits;
}

void SetNetworkLimits(std::chrono::seconds timeout, long low_speed_limit, long low_speed_seconds) {
  std::lock_guard<std::mutex> lock(limits_mu);
  process_limits.timeout = timeout;
  process_limits.deadline.reset();
  if (timeout.count() > 0) process_limits.deadline = std::chrono::steady_clock::now() + timeout;
  process_limits.low_speed_limit = low_speed_limit;
  process_limits.low_speed_seconds = low_speed_seconds;
}

Result<void> CheckDeadline(const NetworkLimits& limits, std::string_view what) {
  if (!DeadlinePassed(limits)) return {};
  return Fail(ErrorCode::kNetwork, std::string(what) + ": " + TimedOut(limits));
}

std::optional<std::chrono::milliseconds> TimeLeft(const NetworkLimits& limits) {
  if (!limits.deadline) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*limits.deadline -
                                                           std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

std::unique_ptr<HttpClient> MakeCurlClient(ClientOptions options) {
  return std::make_unique<CurlClient>(std::move(options));
}

}  // namespace hardbase::net
