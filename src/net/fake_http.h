// FakeHttp: an HttpClient that answers from a script, for tests of any module that talks HTTP
// through net::HttpClient (registry auth, repository fetching, orchestration). Nothing touches a
// socket; Download writes real files (to the paths the caller gives).
//
// Routes. A test says how `METHOD URL` is answered:
//   fake.Route("GET", "http://repo.test/dists/stable/InRelease", FakeResponse::Ok(text));
//   fake.RouteSequence("GET", url, {FakeResponse::Status(503), FakeResponse::Ok(body)});
//   fake.RouteHandler("GET", "http://registry.test/v2/*",
//                     [](const RecordedRequest& r) { return FakeResponse::Ok(r.url); });
// A sequence answers in order, then repeats its last answer. A URL is matched exactly (query
// included) first, then without its query, then by the longest route ending in '*' that is a
// prefix of it. The method "*" matches any method. An unrouted request is answered 404 (and
// recorded, so a test can see what was asked). A later route for the same method and URL
// replaces the earlier one. Sequences are shared by Get, Download and Send.
//
// Faults a response can script: any status with any headers (Retry-After, WWW-Authenticate,
// Location -- followed when the call follows redirects), no answer at all (`transport_error`,
// transient or not), and a body cut after `truncate_at` bytes (the connection dropped mid-body).
//
// What the calls do with answers follows the HttpClient contract (see http.h):
// - Send: one exchange, no retries. A body_reader body is read in full (and recorded); a 2xx body
//   goes to body_sink when set; a truncated body ends as status 0 with a transient
//   transport_error, as libcurl reports it. Redirects are followed only when the request asks.
// - Get and Download: redirects followed; 404/410 are kNotFound; transient failures are tried
//   again under a RetryPolicy (options below) -- the waits it asks for are recorded, not slept,
//   so a test of Retry-After or backoff runs in no time; other statuses are kNetwork.
//   Download writes DEST.part and renames it into place when complete and of the expected size
//   (a mismatch is kIntegrity and removes the .part); after a truncated body the next attempt
//   asks for the rest with a Range header and a 200 answer is served as 206 from that offset
//   (unless the response sets `ignore_range`). A body over max_size is kIntegrity.
// Every request is recorded (method, URL, headers, body) in order; `requests()` returns them.
//
// Thread-safe: calls may run from several threads. Handlers are called without the fake's lock
// held, so they may be called concurrently (and may route or inspect the fake themselves); a
// handler's captured state is kept between calls (a `mutable` lambda counts its calls).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"
#include "net/retry.h"

namespace hardbase::net {

// One scripted answer.
struct FakeResponse {
  long status = 200;
  Headers headers;
  std::string body;
  // Deliver only this many bytes of the body, then drop the connection.
  std::optional<size_t> truncate_at;
  // Not empty: no answer at all (status 0), as a refused or reset connection or a timeout;
  // `transient` says whether trying again may help.
  std::string transport_error;
  bool transient = true;
  // Answer a request with Range with the whole body (200), as servers without range support do.
  bool ignore_range = false;

  static FakeResponse Ok(std::string body, Headers headers = {});
  static FakeResponse Status(long status, Headers headers = {}, std::string body = {});
  static FakeResponse Dropped(std::string why = "Connection reset by peer", bool transient = true);
  // `body` delivered up to `bytes` bytes, then the connection drops.
  static FakeResponse Truncated(std::string body, size_t bytes);
  static FakeResponse Redirect(std::string location, long status = 307);
};

// A request as the fake received it.
struct RecordedRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;  // the body, or what body_reader gave
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

using FakeHandler = std::function<FakeResponse(const RecordedRequest&)>;

class FakeHttp final : public HttpClient {
 public:
  // The retry policy Get and Download follow (Send leaves retries to its caller); by default as
  // the libcurl client's, without jitter.
  explicit FakeHttp(RetryOptions retry = {.max_attempts = 5,
                                          .initial_backoff = std::chrono::milliseconds(250),
                                          .max_backoff = std::chrono::milliseconds(30000),
                                          .max_retry_after = kMaxRetryAfter,
                                          .jitter = 0});

  void Route(std::string method, std::string url, FakeResponse response);
  void RouteSequence(std::string method, std::string url, std::vector<FakeResponse> responses);
  void RouteHandler(std::string method, std::string url, FakeHandler handler);
  // Forgets every route (recorded requests stay).
  void ClearRoutes();

  // Every request received so far, in order (redirects followed count as requests of their own).
  std::vector<RecordedRequest> requests() const;
  // How many requests with this method (or "*") went to `url` (a trailing '*': any URL with
  // that prefix).
  int Count(std::string_view method, std::string_view url) const;
  // The waits Get and Download asked for between attempts, in order.
  std::vector<std::chrono::milliseconds> waits() const;

  Result<std::string> Get(const std::string& url) override;
  std::vector<Result<void>> Download(const std::vector<DownloadRequest>& requests,
                                     Progress* progress) override;
  Result<Response> Send(const Request& request) override;

 private:
  struct RouteEntry {
    std::vector<FakeResponse> responses;
    size_t next = 0;
    std::shared_ptr<FakeHandler> handler;  // shared: a handler's own state persists across calls
  };
  // Records `request` and picks its answer.
  FakeResponse Answer(RecordedRequest request);
  // One exchange with redirects followed when `follow`; `final_url` is where it ended.
  FakeResponse Exchange(RecordedRequest request, bool follow, std::string* final_url);
  Result<void> DownloadOne(const DownloadRequest& request, Progress* progress);
  // After an attempt that failed with `message`: kNetwork when the failure is not transient or
  // no attempt is left; else the wait before the next attempt is recorded and {} returned.
  Result<void> AfterFailure(const FakeResponse& answer, int attempt, const std::string& message,
                            bool transient);
  // After a status other than 200: kNotFound for 404 and 410, else as AfterFailure.
  Result<void> AfterStatus(const FakeResponse& answer, int attempt, const std::string& prefix);

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, RouteEntry> routes_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::chrono::milliseconds> waits_;
  RetryPolicy policy_;
};

}  // namespace hardbase::net
