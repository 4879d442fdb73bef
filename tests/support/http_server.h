// A small HTTP/1.1 server on 127.0.0.1 for tests: serves a directory, injects faults per path, and
// lets a test answer any request itself (fake registries, token issuers).
//
// One thread accepts connections and one thread serves each connection (keep-alive is supported;
// a fault that truncates a body closes its connection). All public methods are thread-safe and may
// be called while the server runs. The destructor (or Stop) shuts every socket down and joins
// every thread, so a test never leaks a thread or a descriptor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.h"

namespace hardbase::testing {

// Header fields in the order they arrived (request) or are sent (response). Names keep their
// spelling; look-ups through FindHeader are case-insensitive.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Value of the first header named `name` (case-insensitive), or nullopt.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;   // "GET", "HEAD", "POST", ...
  std::string path;     // the target up to '?', as sent (still percent-encoded)
  std::string query;    // after '?', without it; empty when absent
  std::string version;  // "HTTP/1.1"
  HttpHeaders headers;
  std::string body;  // read by Content-Length or chunked Transfer-Encoding

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

struct HttpResponse {
  int status = 200;
  // Content-Length and Connection are added by the server; do not set them here.
  HttpHeaders headers;
  std::string body;
  // Send no Content-Length and close the connection after the body (HTTP/1.0 style), so the
  // client cannot know the size in advance.
  bool close_delimited = false;
  // Close the connection without sending anything (as a server that dies or a connection that is
  // reset after the request arrived); the other fields are ignored.
  bool drop_connection = false;
  // For an answer to HEAD: the Content-Length to announce (the size a GET would send) instead of
  // the body's size, which is 0. Ignored for other methods.
  std::optional<uint64_t> head_content_length = std::nullopt;
};

// Parses a request line and its header fields (everything before the blank line, which is not
// included). Pure: no IO. Fails with kSpec on malformed input.
Result<HttpRequest> ParseHttpRequestHead(std::string_view head);

// Reason phrase for a status code ("Not Found"); "Unknown" for codes it does not know.
std::string_view HttpReasonPhrase(int status);

class HttpServer {
 public:
  using Request = HttpRequest;
  using Response = HttpResponse;
  // Answers a request, or returns nullopt to let the server serve it from the root directory.
  // Called concurrently from connection threads, so it must be thread-safe.
  using Handler = std::function<std::optional<Response>(const Request&)>;

  // Serves files under `root` (empty: no files, every unhandled request is 404).
  explicit HttpServer(std::string root = "");
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds 127.0.0.1 on an ephemeral port and starts accepting. Call once.
  Result<void> Start();
  // The same on another IPv4 address of this host, e.g. the gateway of podman's bridge network,
  // which containers reach and 127.0.0.1 is not. The address may not be up yet (IP_FREEBIND): the
  // bridge appears with the first container on it.
  Result<void> Start(const std::string& ipv4_address);
  // Stops accepting, shuts down open connections (interrupting injected delays) and joins all
  // threads. Idempotent; the destructor calls it.
  void Stop();

  uint16_t port() const { return port_; }
  // "http://ADDRESS:PORT" (127.0.0.1 unless Start was given another address), no trailing slash.
  std::string base_url() const;
  // base_url() + path; `path` starts with '/'.
  std::string Url(std::string_view path) const;

  void SetHandler(Handler handler);
  // Closes at once every new connection whose first byte opens a TLS handshake (0x16), instead
  // of waiting for a request head that never comes. Clients such as skopeo try HTTPS first on a
  // registry they may not verify and fall back to HTTP only after an error, so without this they
  // wait for their handshake timeout (10 s). Off by default.
  void SetRejectTlsClients(bool reject);

  // Faults for the next `times` requests to `path` (exact match on the path without query).
  // Faults queue per path in the order they were added; each request consumes one unit of the
  // first queued fault, and requests after the queue is empty are served normally.
  //
  // Answers with `status` and an empty body, plus `headers` (e.g. {"Retry-After", "0"}).
  void InjectStatus(const std::string& path, int status, int times = 1, HttpHeaders headers = {});
  // Sends the normal response headers (full Content-Length) but only the first `bytes` bytes of
  // the body, then closes the connection.
  void InjectTruncation(const std::string& path, size_t bytes, int times = 1);
  // Waits `delay` before producing the normal response.
  void InjectDelay(const std::string& path, std::chrono::milliseconds delay, int times = 1);
  void ClearFaults();

  // Requests seen for `path` (all methods, faulted ones included).
  int RequestCount(const std::string& path) const;
  int TotalRequests() const;
  // The last request for `path`, with its headers and body; nullopt when none came.
  std::optional<Request> LastRequest(const std::string& path) const;
  // Most requests that were being answered at the same moment since Start.
  int MaxConcurrentRequests() const;

 private:
  struct Fault {
    enum class Kind { kStatus, kTruncate, kDelay };
    Kind kind = Kind::kStatus;
    int remaining = 1;
    int status = 0;
    HttpHeaders headers;
    size_t bytes = 0;
    std::chrono::milliseconds delay{0};
  };
  struct Connection {
    int fd = -1;
    bool done = false;
    std::thread thread;
  };

  void AcceptLoop();
  void ServeConnection(Connection* conn);
  // Produces the answer to one request; sets `truncate_at` when a truncation fault applies.
  // Returns false when the server is stopping (the connection should close without answering).
  bool Answer(const Request& request, Response* response, std::optional<size_t>* truncate_at);
  Response ServeFile(const Request& request) const;
  void ReapFinishedLocked();

  const std::string root_;
  std::string address_ = "127.0.0.1";
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;  // wakes injected delays on Stop
  bool started_ = false;
  bool stopping_ = false;
  bool reject_tls_ = false;
  std::list<Connection> connections_;
  std::shared_ptr<const Handler> handler_;
  std::map<std::string, std::deque<Fault>> faults_;
  std::map<std::string, int> counts_;
  std::map<std::string, Request> last_requests_;
  int total_requests_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

}  // namespace hardbase::testing
