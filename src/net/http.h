// HTTP(S) and file:// access for repositories: small documents into memory, large files to disk.
//
// HttpClient is the seam tests use to inject faults (FakeHttp in net/fake_http.h scripts one); the
// real implementation is libcurl. Transient failures (timeouts, resets, 5xx, 429) are retried
// under net::RetryPolicy (net/retry.h); 404/410 are final and reported as ErrorCode::kNotFound; an
// unreachable host ends as ErrorCode::kNetwork.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/log.h"

namespace hardbase::net {

struct DownloadRequest {
  std::string url;
  // Where the complete body ends up. Bytes arrive in `dest_path + ".part"`, which a later attempt
  // (or a later process) resumes with a Range request; the .part file is renamed into place only
  // when the transfer completed and, if given, the size matched.
  std::string dest_path;
  uint64_t expected_size = 0;  // 0 when unknown
  // The most bytes the caller accepts when the size is not known in advance (0: no bound): a
  // body announced or grown past it fails with ErrorCode::kIntegrity and leaves nothing behind.
  uint64_t max_size = 0;
};

// Header fields in order; names compared case-insensitively by FindHeader.
using Headers = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string> FindHeader(const Headers& headers, std::string_view name);

struct Response {
  long status = 0;  // 0: no answer (see transport_error)
  Headers headers;  // of the last response when redirects were followed
  std::string body;
  std::string effective_url;
  // Why no complete answer arrived (connection refused or reset, timeout, TLS failure), and
  // whether trying again may help (false for a certificate that does not verify, say).
  std::string transport_error;
  bool transient = false;
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// One HTTP exchange with any method, for protocols richer than fetching files (the OCI
// distribution API): the caller decides what a status means and whether to try again.
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  // The body: `body`, or when `body_reader` is set `body_size` bytes read from it in pieces
  // (it returns how many bytes it put in the buffer; an error stops the exchange with that error).
  std::string body;
  std::function<Result<size_t>(char* buf, size_t size)> body_reader;
  uint64_t body_size = 0;
  // Registries send blob downloads to their storage with redirects; API calls are not followed.
  bool follow_redirects = false;
  // A 2xx response's body goes to `body_sink` when set, which sees the response's status and
  // headers (an error stops the exchange with that error); other bodies, or all when no sink is
  // set, go into Response::body, of which more than `max_body` bytes is an error.
  std::function<Result<void>(const Response& head, std::string_view data)> body_sink;
  uint64_t max_body = uint64_t{64} << 20;
};

// Bounds on how long a peer may hold this process, set once from the global command-line flags
// (--timeout, --low-speed-limit, --low-speed-time) before any client is made. A server that
// trickles bytes just fast enough to pass the low-speed check is stopped by the deadline.
struct NetworkLimits {
  // No exchange runs past this point: the whole command's deadline (unset: none). An exchange cut
  // by it fails with kNetwork "... : timed out: the command's --timeout of N s ran out" and is
  // not retried.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::chrono::seconds timeout{0};  // what `deadline` was computed from, for messages
  // A transfer slower than `low_speed_limit` bytes/s for `low_speed_seconds` is aborted (and
  // retried like any dropped connection).
  long low_speed_limit = 1024;
  long low_speed_seconds = 30;
};
NetworkLimits GetNetworkLimits();
// Sets the deadline `timeout` from now (0: none) and the low-speed bounds.
void SetNetworkLimits(std::chrono::seconds timeout, long low_speed_limit, long low_speed_seconds);
// kNetwork "WHAT: timed out: ..." when the deadline of `limits` has passed.
Result<void> CheckDeadline(const NetworkLimits& limits, std::string_view what);
// How long until the deadline of `limits` (at least 1 ms), or nullopt without one.
std::optional<std::chrono::milliseconds> TimeLeft(const NetworkLimits& limits);

struct ClientOptions {
  int max_parallel = 8;
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{250};
  long connect_timeout_seconds = 15;
  // Deadline and low-speed bounds; the process's (GetNetworkLimits) unless a caller overrides.
  NetworkLimits limits = GetNetworkLimits();
  std::string user_agent = "hardbase";
  // Check TLS certificates (against `ca_file` when set, else the system's store).
  bool tls_verify = true;
  std::string ca_file;
};

// Thread-safe: Get and Download may run concurrently from several threads. Every error message
// starts with "GET <url>: ". Redirects are followed (to http and https only, never to file://).
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Fetches a small document (a Release file) into memory.
  virtual Result<std::string> Get(const std::string& url) = 0;

  // Downloads every request, up to max_parallel at once, and returns one result per request in the
  // same order. Progress, when given, advances by bytes received.
  //
  // Parent directories of dest_path are created. Destinations must differ within one call, and
  // two processes must not download to the same destination at once (callers hold a FileLock):
  // the .part file is not locked. A .part file is trusted to be a prefix of the document; only
  // the size is checked here, the content hash is the caller's to verify. A size mismatch is
  // ErrorCode::kIntegrity and removes the .part file.
  virtual std::vector<Result<void>> Download(const std::vector<DownloadRequest>& requests,
                                             Progress* progress) = 0;

  // One exchange, one attempt, on the calling thread (connections are kept open and reused
  // between calls). Any HTTP status is a Response; a failed connection is a Response with status
  // 0 and transport_error. Errors are the caller's own: a failing body_reader or body_sink, a body
  // over max_body (kNetwork), or an invalid request (kInternal).
  virtual Result<Response> Send(const Request& request) = 0;
};

// The libcurl client (http://, https://, file://). A transient answer with Retry-After waits that
// long (at most kMaxRetryAfter, 30 s) instead of the exponential backoff (at most 30 s).
std::unique_ptr<HttpClient> MakeCurlClient(ClientOptions options = {});

}  // namespace hardbase::net
