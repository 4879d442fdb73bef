#include "support/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/fs.h"
#include "base/strings.h"

namespace hardbase::testing {
namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;

bool ContainsTokenIgnoreCase(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
    if (EqualsIgnoreCase(Trim(item), token)) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Percent-decodes a URL path; nullopt on a malformed escape or an encoded NUL.
std::optional<std::string> DecodePath(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (ec != std::errc() || ptr != in.data() + i + 3 || v == 0) return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

bool HasDotDotSegment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (seg == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Buffered reads from a connected socket; false from any method means the peer closed, the
// socket was shut down, or the input exceeded a limit.
class SocketReader {
 public:
  explicit SocketReader(int fd) : fd_(fd) {}

  // Reads up to and excluding the blank line that ends a request head.
  bool ReadHead(std::string* head) {
    for (;;) {
      size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        head->assign(buf_, 0, end);
        buf_.erase(0, end + 4);
        return true;
      }
      if (buf_.size() > kMaxHeadBytes || !Fill()) return false;
    }
  }

  bool ReadLine(std::string* line) {
    for (;;) {
      size_t end = buf_.find("\r\n");
      if (end != std::string::npos) {
        line->assign(buf_, 0, end);
        buf_.erase(0, end + 2);
        return true;
      }
      if (buf_.size() > kMaxHeadBytes || !Fill()) return false;
    }
  }

  bool ReadExact(size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

 private:
  bool Fill() {
    char tmp[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string buf_;
};

bool ReadChunkedBody(SocketReader& reader, std::string* body) {
  for (;;) {
    std::string line;
    if (!reader.ReadLine(&line)) return false;
    std::string_view size_text = Trim(std::string_view(line).substr(0, line.find(';')));
    uint64_t size = 0;
    auto [ptr, ec] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || ptr != size_text.data() + size_text.size()) return false;
    if (size == 0) {
      // Trailer fields, then the blank line.
      do {
        if (!reader.ReadLine(&line)) return false;
      } while (!line.empty());
      return true;
    }
    if (!reader.ReadExact(size, body)) return false;
    std::string crlf;
    if (!reader.ReadExact(2, &crlf) || crlf != "\r\n") return false;
  }
}

std::string SerializeHead(const HttpResponse& response, bool keep_alive, bool head = false) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(HttpReasonPhrase(response.status)) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection")) continue;
    out += name + ": " + value + "\r\n";
  }
  if (response.status != 204 && response.status != 304 && !response.close_delimited) {
    uint64_t length =
        head && response.head_content_length ? *response.head_content_length : response.body.size();
    out += "Content-Length: " + std::to_string(length) + "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

Result<HttpRequest> ParseHttpRequestHead(std::string_view head) {
  HttpRequest req;
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);

  size_t sp1 = request_line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      request_line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(ErrorCode::kSpec,
                "malformed HTTP request line '" + std::string(request_line) + "'");
  }
  req.method = std::string(request_line.substr(0, sp1));
  std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.version = std::string(request_line.substr(sp2 + 1));
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
    return Fail(ErrorCode::kSpec, "unsupported HTTP version '" + req.version + "'");
  }
  // Absolute form (sent to proxies): keep only the path and query.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (!target.starts_with("/")) {
    return Fail(ErrorCode::kSpec, "unsupported HTTP request target '" + std::string(target) + "'");
  }
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));

  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t' || Trim(line.substr(0, colon)).size() != colon) {
      return Fail(ErrorCode::kSpec, "malformed HTTP header line '" + std::string(line) + "'");
    }
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(Trim(line.substr(colon + 1))));
  }
  return req;
}

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

HttpServer::HttpServer(std::string root) : root_(std::move(root)) {}

HttpServer::~HttpServer() { Stop(); }

Result<void> HttpServer::Start() { return Start("127.0.0.1"); }

Result<void> HttpServer::Start(const std::string& ipv4_address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Fail(ErrorCode::kInternal, "HttpServer::Start called twice");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, ipv4_address.c_str(), &addr.sin_addr) != 1) {
    return Fail(ErrorCode::kInternal, "test server: not an IPv4 address: " + ipv4_address);
  }
  addr.sin_port = 0;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Fail(ErrorCode::kIo, std::string("test server socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kIo,
                "test server bind " + ipv4_address + ": " + std::string(std::strerror(err)));
  }
  address_ = ipv4_address;
  listen_fd_ = fd;
  port_ = ntohs(addr.sin_port);
  started_ = true;
  accept_thread_ = std::thread(&HttpServer::AcceptLoop, this);
  return {};
}

void HttpServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (!started_) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    for (Connection& c : connections_) {
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
  stop_cv_.notify_all();
  accept_thread_.join();
  // The accept thread is gone, so the list no longer changes shape; connection threads only
  // touch their own node, under mu_.
  for (Connection& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  connections_.clear();
  ::close(listen_fd_);
  listen_fd_ = -1;
}

std::string HttpServer::base_url() const {
  return "http://" + address_ + ":" + std::to_string(port_);
}

std::string HttpServer::Url(std::string_view path) const { return base_url() + std::string(path); }

void HttpServer::SetHandler(Handler handler) {
  auto shared = handler ? std::make_shared<const Handler>(std::move(handler)) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(shared);
}

void HttpServer::SetRejectTlsClients(bool reject) {
  std::lock_guard<std::mutex> lock(mu_);
  reject_tls_ = reject;
}

void HttpServer::InjectStatus(const std::string& path, int status, int times, HttpHeaders headers) {
  Fault f;
  f.kind = Fault::Kind::kStatus;
  f.remaining = times;
  f.status = status;
  f.headers = std::move(headers);
  std::lock_guard<std::mutex> lock(mu_);
  if (times > 0) faults_[path].push_back(std::move(f));
}

void HttpServer::InjectTruncation(const std::string& path, size_t bytes, int times) {
  Fault f;
  f.kind = Fault::Kind::kTruncate;
  f.remaining = times;
  f.bytes = bytes;
  std::lock_guard<std::mutex> lock(mu_);
  if (times > 0) faults_[path].push_back(std::move(f));
}

void HttpServer::InjectDelay(const std::string& path, std::chrono::milliseconds delay, int times) {
  Fault f;
  f.kind = Fault::Kind::kDelay;
  f.remaining = times;
  f.delay = delay;
  std::lock_guard<std::mutex> lock(mu_);
  if (times > 0) faults_[path].push_back(std::move(f));
}

void HttpServer::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

int HttpServer::RequestCount(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

int HttpServer::TotalRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_requests_;
}

std::optional<HttpRequest> HttpServer::LastRequest(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_requests_.find(path);
  if (it == last_requests_.end()) return std::nullopt;
  return it->second;
}

int HttpServer::MaxConcurrentRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

void HttpServer::ReapFinishedLocked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->done) {
      // The thread set `done` as its last action under mu_, which we now hold: it has released
      // the lock and is returning, so this join is short and cannot deadlock.
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::AcceptLoop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or similar: back off briefly instead of spinning.
      stop_cv_.wait_for(lock, std::chrono::milliseconds(10));
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ReapFinishedLocked();
    connections_.emplace_back();
    Connection* conn = &connections_.back();
    conn->fd = fd;
    conn->thread = std::thread(&HttpServer::ServeConnection, this, conn);
  }
}

void HttpServer::ServeConnection(Connection* conn) {
  int fd;
  bool reject_tls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = conn->fd;
    reject_tls = reject_tls_;
  }
  SocketReader reader(fd);
  unsigned char first_byte = 0;
  ssize_t peeked = 0;
  if (reject_tls) {
    do {
      peeked = ::recv(fd, &first_byte, 1, MSG_PEEK);
    } while (peeked < 0 && errno == EINTR);
  }
  // A TLS ClientHello (record type 22) gets the connection closed, which the client sees as a
  // failed handshake.
  const bool skip = reject_tls && (peeked != 1 || first_byte == 0x16);
  for (; !skip;) {
    std::string head;
    if (!reader.ReadHead(&head)) break;
    auto parsed = ParseHttpRequestHead(head);
    if (!parsed) {
      HttpResponse bad{400, {}, parsed.error().message + "\n"};
      SendAll(fd, SerializeHead(bad, false) + bad.body);
      break;
    }
    HttpRequest request = std::move(*parsed);

    auto expect = request.Header("Expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue")) {
      if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
    }
    auto transfer_encoding = request.Header("Transfer-Encoding");
    if (transfer_encoding && ContainsTokenIgnoreCase(*transfer_encoding, "chunked")) {
      if (!ReadChunkedBody(reader, &request.body)) break;
    } else if (auto length_text = request.Header("Content-Length")) {
      auto length = ParseUint(*length_text);
      if (!length) break;
      if (!reader.ReadExact(*length, &request.body)) break;
    }

    auto connection = request.Header("Connection");
    bool keep_alive = request.version == "HTTP/1.1"
                          ? !(connection && ContainsTokenIgnoreCase(*connection, "close"))
                          : (connection && ContainsTokenIgnoreCase(*connection, "keep-alive"));

    {
      std::lock_guard<std::mutex> lock(mu_);
      ++in_flight_;
      if (in_flight_ > max_in_flight_) max_in_flight_ = in_flight_;
    }
    HttpResponse response;
    std::optional<size_t> truncate_at;
    bool answer = Answer(request, &response, &truncate_at);
    bool sent = false;
    if (answer && response.drop_connection) {
      answer = false;  // close below without a word
    } else if (answer) {
      if (truncate_at || response.close_delimited) keep_alive = false;
      std::string out = SerializeHead(response, keep_alive, request.method == "HEAD");
      if (request.method != "HEAD") {
        size_t n =
            truncate_at ? std::min(*truncate_at, response.body.size()) : response.body.size();
        out.append(response.body, 0, n);
      }
      sent = SendAll(fd, out);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
    if (!answer || !sent || !keep_alive) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  ::close(fd);
  conn->fd = -1;
  conn->done = true;
}

bool HttpServer::Answer(const Request& request, Response* response,
                        std::optional<size_t>* truncate_at) {
  std::optional<Fault> fault;
  std::shared_ptr<const Handler> handler;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++counts_[request.path];
    ++total_requests_;
    last_requests_[request.path] = request;
    auto it = faults_.find(request.path);
    if (it != faults_.end() && !it->second.empty()) {
      Fault& front = it->second.front();
      fault = front;
      if (--front.remaining <= 0) it->second.pop_front();
      if (it->second.empty()) faults_.erase(it);
    }
    handler = handler_;
    if (fault && fault->kind == Fault::Kind::kDelay) {
      if (stop_cv_.wait_for(lock, fault->delay, [this] { return stopping_; })) return false;
    }
  }
  if (fault && fault->kind == Fault::Kind::kStatus) {
    *response = Response{fault->status, fault->headers, ""};
    return true;
  }
  std::optional<Response> handled;
  if (handler) handled = (*handler)(request);
  *response = handled ? std::move(*handled) : ServeFile(request);
  if (fault && fault->kind == Fault::Kind::kTruncate) *truncate_at = fault->bytes;
  return true;
}

HttpResponse HttpServer::ServeFile(const Request& request) const {
  HttpResponse not_found{404, {{"Content-Type", "text/plain"}}, "not found\n"};
  if (request.method != "GET" && request.method != "HEAD") {
    return HttpResponse{405, {{"Allow", "GET, HEAD"}}, ""};
  }
  if (root_.empty()) return not_found;
  auto path = DecodePath(request.path);
  if (!path || HasDotDotSegment(*path)) return not_found;
  std::string full = root_ + *path;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return not_found;
  auto content = ReadFile(full);
  if (!content) return HttpResponse{500, {}, content.error().message + "\n"};

  HttpResponse response{200,
                        {{"Content-Type", "application/octet-stream"}, {"Accept-Ranges", "bytes"}},
                        std::move(*content)};
  // Single ranges only: "bytes=N-" and "bytes=N-M". Anything else is ignored (full body), which
  // is what a server is allowed to do.
  auto range = request.Header("Range");
  if (!range || !range->starts_with("bytes=")) return response;
  std::string_view spec = std::string_view(*range).substr(6);
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return response;
  auto first = ParseUint(spec.substr(0, dash));
  std::string_view last_text = spec.substr(dash + 1);
  auto last = last_text.empty() ? std::optional<uint64_t>(UINT64_MAX) : ParseUint(last_text);
  if (!first || !last || *last < *first) return response;
  uint64_t size = response.body.size();
  if (*first >= size) {
    return HttpResponse{416, {{"Content-Range", "bytes */" + std::to_string(size)}}, ""};
  }
  uint64_t end = std::min<uint64_t>(*last, size - 1);
  response.status = 206;
  response.headers.emplace_back(
      "Content-Range",
      "bytes " + std::to_string(*first) + "-" + std::to_string(end) + "/" + std::to_string(size));
  response.body = response.body.substr(*first, end - *first + 1);
  return response;
}

}  // namespace hardbase::testing
