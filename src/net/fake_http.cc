#include "net/fake_http.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "base/strings.h"

namespace hardbase::net {
namespace {

// Bodies reach a body_sink in pieces of this size, as a transport delivers them.
constexpr size_t kSinkPiece = 16 * 1024;
constexpr int kMaxRedirects = 10;

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// "scheme://host[:port]" of an absolute URL ("" when it is not one).
std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  return url.substr(0, url.find('/', scheme + 3));
}

// A Location against the URL it answered: absolute, "//host/..." (scheme kept), "/path" (origin
// kept) or relative to the request's directory.
std::string ResolveLocation(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.starts_with("//")) return base.substr(0, base.find("://") + 1) + location;
  if (location.starts_with("/")) return Origin(base) + location;
  std::string dir = base.substr(0, base.find('?'));
  return dir.substr(0, dir.rfind('/') + 1) + location;
}

bool Truncates(const FakeResponse& r, size_t size) {
  return r.truncate_at && *r.truncate_at < size;
}

std::string Closed(size_t remaining) {
  return "transfer closed with " + std::to_string(remaining) + " bytes remaining to read";
}

std::optional<std::chrono::milliseconds> RetryAfterOf(const FakeResponse& r,
                                                      std::chrono::milliseconds cap) {
  auto value = FindHeader(r.headers, "Retry-After");
  if (!value) return std::nullopt;
  return ParseRetryAfter(*value, std::chrono::system_clock::now(), cap);
}

}  // namespace

FakeResponse FakeResponse::Ok(std::string body, Headers headers) {
  return FakeResponse{200, std::move(headers), std::move(body), std::nullopt, "", true, false};
}

FakeResponse FakeResponse::Status(long status, Headers headers, std::string body) {
  return FakeResponse{status, std::move(headers), std::move(body), std::nullopt, "", true, false};
}

FakeResponse FakeResponse::Dropped(std::string why, bool transient) {
  return FakeResponse{0, {}, "", std::nullopt, std::move(why), transient, false};
}

FakeResponse FakeResponse::Truncated(std::string body, size_t bytes) {
  return FakeResponse{200, {}, std::move(body), bytes, "", true, false};
}

FakeResponse FakeResponse::Redirect(std::string location, long status) {
  return FakeResponse{status, {{"Location", std::move(location)}}, "", std::nullopt, "", true,
                      false};
}

FakeHttp::FakeHttp(RetryOptions retry) : policy_(retry, 1) {}

void FakeHttp::Route(std::string method, std::string url, FakeResponse response) {
  RouteSequence(std::move(method), std::move(url), {std::move(response)});
}

void FakeHttp::RouteSequence(std::string method, std::string url,
                             std::vector<FakeResponse> responses) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[{std::move(method), std::move(url)}] = RouteEntry{std::move(responses), 0, nullptr};
}

void FakeHttp::RouteHandler(std::string method, std::string url, FakeHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[{std::move(method), std::move(url)}] =
      RouteEntry{{}, 0, std::make_shared<FakeHandler>(std::move(handler))};
}

void FakeHttp::ClearRoutes() {
  std::lock_guard<std::mutex> lock(mu_);
  routes_.clear();
}

std::vector<RecordedRequest> FakeHttp::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeHttp::Count(std::string_view method, std::string_view url) const {
  std::lock_guard<std::mutex> lock(mu_);
  const bool prefix = url.ends_with('*');
  if (prefix) url.remove_suffix(1);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const auto& r) {
    return (method == "*" || r.method == method) &&
           (prefix ? std::string_view(r.url).starts_with(url) : r.url == url);
  }));
}

std::vector<std::chrono::milliseconds> FakeHttp::waits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waits_;
}

FakeResponse FakeHttp::Answer(RecordedRequest request) {
  std::shared_ptr<FakeHandler> handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    const std::string without_query = request.url.substr(0, request.url.find('?'));
    RouteEntry* entry = nullptr;
    for (const std::string& url : {request.url, without_query}) {
      for (const std::string& method : {request.method, std::string("*")}) {
        auto it = routes_.find({method, url});
        if (!entry && it != routes_.end()) entry = &it->second;
      }
    }
    if (!entry) {
      size_t longest = 0;
      for (auto& [key, route] : routes_) {
        const auto& [method, url] = key;
        if (!url.ends_with('*') || (method != "*" && method != request.method)) continue;
        std::string_view prefix(url.data(), url.size() - 1);
        if (std::string_view(request.url).starts_with(prefix) &&
            (!entry || prefix.size() > longest)) {
          entry = &route;
          longest = prefix.size();
        }
      }
    }
    if (!entry)
      return FakeResponse::Status(404, {}, "no route for " + request.method + " " + request.url);
    if (!entry->handler) {
      if (entry->responses.empty()) return FakeResponse::Status(404);
      size_t i = std::min(entry->next, entry->responses.size() - 1);
      ++entry->next;
      return entry->responses[i];
    }
    handler = entry->handler;
  }
  return (*handler)(request);
}

FakeResponse FakeHttp::Exchange(RecordedRequest request, bool follow, std::string* final_url) {
  for (int hops = 0;; ++hops) {
    *final_url = request.url;
    FakeResponse answer = Answer(request);
    auto location = FindHeader(answer.headers, "Location");
    if (!follow || !answer.transport_error.empty() || !IsRedirect(answer.status) || !location ||
        hops >= kMaxRedirects) {
      return answer;
    }
    std::string next = ResolveLocation(request.url, *location);
    if (answer.status == 303 && request.method != "HEAD") {
      request.method = "GET";
      request.body.clear();
    }
    // As libcurl: credentials go to the host they were meant for only.
    if (Origin(next) != Origin(request.url)) {
      std::erase_if(request.headers,
                    [](const auto& h) { return EqualsIgnoreCase(h.first, "Authorization"); });
    }
    request.url = std::move(next);
  }
}

Result<Response> FakeHttp::Send(const Request& request) {
  const std::string what = request.method + " " + request.url;
  RecordedRequest recorded{request.method, request.url, request.headers, request.body};
  if (request.body_reader) {
    recorded.body.clear();
    std::string buf(64 * 1024, '\0');
    while (recorded.body.size() < request.body_size) {
      size_t want = static_cast<size_t>(
          std::min<uint64_t>(buf.size(), request.body_size - recorded.body.size()));
      auto got = request.body_reader(buf.data(), want);
      if (!got) return Fail(got.error().Wrap(what));
      if (*got == 0) {
        return Fail(ErrorCode::kIo, what + ": request body ended after " +
                                        std::to_string(recorded.body.size()) + " of " +
                                        std::to_string(request.body_size) + " bytes");
      }
      recorded.body.append(buf.data(), *got);
    }
  }
  Response response;
  FakeResponse answer =
      Exchange(std::move(recorded), request.follow_redirects, &response.effective_url);
  if (!answer.transport_error.empty()) {
    response.transport_error = answer.transport_error;
    response.transient = answer.transient;
    return response;
  }
  response.status = answer.status;
  response.headers = answer.headers;
  if (request.method == "HEAD") return response;
  std::string_view body = answer.body;
  const bool truncated = Truncates(answer, body.size());
  if (truncated) body = body.substr(0, *answer.truncate_at);
  if (request.body_sink && response.status / 100 == 2) {
    for (size_t at = 0; at < body.size(); at += kSinkPiece) {
      if (auto sunk = request.body_sink(response, body.substr(at, kSinkPiece)); !sunk) {
        return Fail(sunk.error().Wrap(what));
      }
    }
  } else {
    if (body.size() > request.max_body) {
      return Fail(ErrorCode::kNetwork, what + ": response body is larger than " +
                                           std::to_string(request.max_body) + " bytes");
    }
    response.body = std::string(body);
  }
  if (truncated) {
    response.status = 0;
    response.transport_error = Closed(answer.body.size() - body.size());
    response.transient = true;
  }
  return response;
}

Result<std::string> FakeHttp::Get(const std::string& url) {
  const std::string prefix = "GET " + url + ": ";
  for (int attempt = 1;; ++attempt) {
    std::string final_url;
    FakeResponse answer = Exchange(RecordedRequest{"GET", url, {}, ""}, true, &final_url);
    if (!answer.transport_error.empty()) {
      HB_TRY_VOID(AfterFailure(answer, attempt, prefix + answer.transport_error, answer.transient));
    } else if (answer.status != 200) {
      HB_TRY_VOID(AfterStatus(answer, attempt, prefix));
    } else if (Truncates(answer, answer.body.size())) {
      HB_TRY_VOID(AfterFailure(answer, attempt,
                               prefix + Closed(answer.body.size() - *answer.truncate_at), true));
    } else {
      return answer.body;
    }
  }
}

Result<void> FakeHttp::AfterFailure(const FakeResponse& answer, int attempt,
                                    const std::string& message, bool transient) {
  if (!transient) return Fail(ErrorCode::kNetwork, message);
  if (!policy_.MayRetry(attempt)) {
    return Fail(ErrorCode::kNetwork, message + " (after " + std::to_string(attempt) + " attempts)");
  }
  auto wait = policy_.Delay(attempt, RetryAfterOf(answer, policy_.options().max_retry_after));
  std::lock_guard<std::mutex> lock(mu_);
  waits_.push_back(wait);
  return {};
}

Result<void> FakeHttp::AfterStatus(const FakeResponse& answer, int attempt,
                                   const std::string& prefix) {
  std::string message = prefix + "HTTP " + std::to_string(answer.status);
  if (answer.status == 404 || answer.status == 410) return Fail(ErrorCode::kNotFound, message);
  return AfterFailure(answer, attempt, message, IsTransientStatus(answer.status));
}

std::vector<Result<void>> FakeHttp::Download(const std::vector<DownloadRequest>& requests,
                                             Progress* progress) {
  std::vector<Result<void>> results;
  std::set<std::string> dests;
  for (const DownloadRequest& request : requests) {
    if (request.dest_path.empty()) {
      results.push_back(Fail(ErrorCode::kInternal,
                             "GET " + request.url + ": download without a destination path"));
    } else if (!dests.insert(request.dest_path).second) {
      results.push_back(Fail(ErrorCode::kInternal, "GET " + request.url + ": destination " +
                                                       request.dest_path +
                                                       " requested twice in one batch"));
    } else {
      results.push_back(DownloadOne(request, progress));
    }
  }
  return results;
}

Result<void> FakeHttp::DownloadOne(const DownloadRequest& request, Progress* progress) {
  const std::string prefix = "GET " + request.url + ": ";
  const std::string part = request.dest_path + ".part";
  HB_TRY_VOID(WithContext(MakeDirs(DirName(request.dest_path)), "GET " + request.url));
  auto remove_part = [&] { ::unlink(part.c_str()); };
  bool restarted = false;
  for (int attempt = 1;; ++attempt) {
    std::string have;
    if (PathExists(part)) {
      HB_TRY(have, WithContext(ReadFile(part), "GET " + request.url));
    }
    if (request.expected_size && have.size() > request.expected_size) {
      remove_part();
      return Fail(ErrorCode::kIntegrity, prefix + "size mismatch: partial download " + part +
                                             " has " + std::to_string(have.size()) +
                                             " bytes, expected " +
                                             std::to_string(request.expected_size));
    }
    RecordedRequest sent{"GET", request.url, {}, ""};
    if (!have.empty())
      sent.headers.emplace_back("Range", "bytes=" + std::to_string(have.size()) + "-");
    std::string final_url;
    FakeResponse answer = Exchange(std::move(sent), true, &final_url);
    if (!answer.transport_error.empty()) {
      HB_TRY_VOID(AfterFailure(answer, attempt, prefix + answer.transport_error, answer.transient));
    } else if (answer.status != 200) {
      HB_TRY_VOID(AfterStatus(answer, attempt, prefix));
    } else {
      std::string_view data = answer.body;
      if (!have.empty() && !answer.ignore_range) {
        if (have.size() > data.size()) {  // 416: what is held is not a prefix; start over
          remove_part();
          if (restarted) return Fail(ErrorCode::kNetwork, prefix + "HTTP 416");
          restarted = true;
          --attempt;
          continue;
        }
        data.remove_prefix(have.size());
      } else {
        have.clear();
      }
      const bool truncated = Truncates(answer, data.size());
      const size_t remaining = truncated ? data.size() - *answer.truncate_at : 0;
      if (truncated) data = data.substr(0, *answer.truncate_at);
      have.append(data);
      if (progress) progress->Advance(data.size());
      if (request.max_size && have.size() > request.max_size) {
        remove_part();
        return Fail(ErrorCode::kIntegrity, prefix + "larger than the " +
                                               std::to_string(request.max_size) + " bytes allowed");
      }
      HB_TRY_VOID(WithContext(WriteFileAtomic(part, have), "GET " + request.url));
      if (!truncated) {
        if (request.expected_size && have.size() != request.expected_size) {
          remove_part();
          return Fail(ErrorCode::kIntegrity, prefix + "size mismatch: received " +
                                                 std::to_string(have.size()) + " bytes, expected " +
                                                 std::to_string(request.expected_size));
        }
        if (::rename(part.c_str(), request.dest_path.c_str()) != 0) {
          return Fail(ErrorCode::kIo, prefix + "rename " + part + " to " + request.dest_path +
                                          ": " + std::strerror(errno));
        }
        return {};
      }
      HB_TRY_VOID(AfterFailure(answer, attempt, prefix + Closed(remaining), true));
    }
  }
}

}  // namespace hardbase::net
