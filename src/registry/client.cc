#include "registry/client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_limits.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "net/retry.h"
#include "net/url.h"
#include "oci/image_ref.h"
#include "oci/manifest.h"
#include "registry/responses.h"

namespace hardbase::registry {

const char kManifestAccept[] =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

namespace {

// The longest exponential backoff between attempts (a registry's Retry-After may ask for more,
// up to net::kMaxRetryAfter).
constexpr std::chrono::milliseconds kMaxBackoff{10000};
// Tag lists longer than this many pages or tags are cut (a registry paging forever).
constexpr int kMaxTagPages = 1000;
constexpr size_t kMaxTags = 100000;
// Referrer listings longer than this many pages are refused (see also kMaxReferrers).
constexpr int kMaxReferrerPages = 100;
// The distribution spec lets registries refuse manifests over 4 MiB; a client may as well.
constexpr uint64_t kMaxManifestBytes = uint64_t{4} << 20;
// Any other answer read into memory (pings, error documents, tag lists, upload replies).
constexpr uint64_t kMaxAnswerBytes = uint64_t{4} << 20;

using net::AppendQuery;

std::string RegistryErrorText(const net::Response& response) {
  return registry::RegistryErrorText(response.body);
}

std::optional<uint64_t> UploadedUpTo(const net::Response& response) {
  auto range = response.Header("Range");
  return range ? UploadOffset(*range) : std::nullopt;
}

}  // namespace

net::RetryOptions RetryOptionsOf(const RegistryOptions& options) {
  return net::RetryOptions{.max_attempts = options.max_attempts,
                           .initial_backoff = options.initial_backoff,
                           .max_backoff = kMaxBackoff,
                           .max_retry_after = net::kMaxRetryAfter,
                           .jitter = 0.25};
}

struct Registry::Impl {
  std::string host;
  RegistryOptions options;
  std::shared_ptr<net::HttpClient> http;
  std::unique_ptr<Authenticator> auth;
  net::RetryPolicy policy;
  net::NetworkLimits limits;  // the HTTP client's: no wait outlasts the command's deadline

  std::mutex ping_mu;  // held by the first call's ping (Base)
  std::mutex mu;
  std::string base;  // "https://host", decided by the first call
  std::map<std::string, std::set<std::string>> actions;  // repository -> actions wanted so far
  int retries = 0;

  Impl(std::string host, RegistryOptions options, std::shared_ptr<net::HttpClient> http,
       std::unique_ptr<Authenticator> auth, net::NetworkLimits limits)
      : host(std::move(host)),
        options(std::move(options)),
        http(std::move(http)),
        auth(std::move(auth)),
        policy(RetryOptionsOf(this->options)),
        limits(std::move(limits)) {}

  // Counts a retry and waits as the policy says after the `attempt`-th failed attempt (saying so
  // when `what` is given), no longer than the deadline leaves (the attempt then fails with the
  // timeout).
  void PauseBeforeRetry(int attempt, const net::Response& response, std::string_view what = {}) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++retries;
    }
    auto delay = policy.Delay(attempt, response);
    if (!what.empty()) {
      LogDebug(
          "{}: {}; trying again in {} ms", what,
          response.status ? "HTTP " + std::to_string(response.status) : response.transport_error,
          delay.count());
    }
    net::PauseWithin(limits, delay);
  }

  // The scope string for calls on these repositories with these actions; actions wanted earlier
  // for a repository are kept, so one token serves a whole push.
  std::string Scope(const std::vector<std::pair<std::string, std::string>>& wanted) {
    std::lock_guard<std::mutex> lock(mu);
    std::string scope;
    for (const auto& [repo, action_list] : wanted) {
      auto& set = actions[repo];
      for (size_t start = 0; start <= action_list.size();) {
        size_t comma = action_list.find(',', start);
        if (comma == std::string::npos) comma = action_list.size();
        if (comma > start) set.insert(action_list.substr(start, comma - start));
        start = comma + 1;
      }
      if (!scope.empty()) scope += ' ';
      scope += "repository:" + repo + ":";
      bool first = true;
      for (const auto& a : set) {
        if (!first) scope += ',';
        scope += a;
        first = false;
      }
    }
    return scope;
  }

  // GET /v2/ once: decides http or https and lets the authenticator learn the registry's
  // challenge.
  Result<std::string> Base() {
    // One ping, however many threads ask at once.
    std::lock_guard<std::mutex> ping_lock(ping_mu);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!base.empty()) return base;
    }
    std::vector<std::string> candidates;
    if (options.plain_http) {
      candidates = {"http://" + host};
    } else if (!options.tls_verify) {
      candidates = {"https://" + host, "http://" + host};
    } else {
      candidates = {"https://" + host};
    }
    std::string last_error;
    for (const std::string& candidate : candidates) {
      net::Request request;
      request.url = candidate + "/v2/";
      request.max_body = kMaxAnswerBytes;
      for (int attempt = 1;; ++attempt) {
        HB_TRY(net::Response response, http->Send(request));
        // Without TLS checks, a server that does not speak TLS is tried over http at once.
        bool try_next =
            response.status == 0 && candidate.starts_with("https://") && candidates.size() > 1;
        if (net::IsTransient(response) && !try_next && policy.MayRetry(attempt)) {
          PauseBeforeRetry(attempt, response);
          continue;
        }
        if (response.status == 0) {
          last_error = "GET " + request.url + ": " + response.transport_error;
          break;
        }
        if (response.status == 401) HB_TRY_VOID(auth->Challenge(response));
        if (response.status != 200 && response.status != 401) {
          return Fail(ErrorCode::kNetwork, "GET " + request.url + ": HTTP " +
                                               std::to_string(response.status) +
                                               " (not an OCI registry?)");
        }
        std::lock_guard<std::mutex> lock(mu);
        base = candidate;
        return base;
      }
    }
    return Fail(ErrorCode::kNetwork, last_error);
  }

  // Sends `request` (its url a path under /v2/ or an absolute URL) with the authorization
  // `scope` needs, answering one 401 by authenticating again, and trying again after 429, 5xx
  // and dropped connections unless `retry` is false (bodies read from a stream cannot be sent
  // twice). The registry's answer, whatever its status.
  Result<net::Response> Call(net::Request request, const std::string& scope, bool retry = true) {
    HB_TRY(std::string root, Base());
    if (request.url.starts_with("/")) request.url = root + request.url;
    request.max_body = std::min(request.max_body, kMaxAnswerBytes);
    const std::string what = request.method + " " + request.url;
    bool reauthenticated = false;
    bool refresh = false;
    const bool on_registry = OnRegistry(request.url);
    for (int attempt = 1;;) {
      net::Request sent = request;
      if (on_registry) {
        HB_TRY(auto authorization, auth->Authorization(scope, refresh));
        if (authorization) sent.headers.emplace_back("Authorization", *authorization);
      }
      HB_TRY(net::Response response, http->Send(sent));
      // A 401 from elsewhere (a storage redirect) says nothing about the registry's auth.
      const bool answered_by_registry =
          response.effective_url.empty() || OnRegistry(response.effective_url);
      if (response.status == 401 && !reauthenticated && on_registry && answered_by_registry &&
          (retry || !request.body_reader)) {
        // First contact with auth, or a token that expired or lacks this scope.
        reauthenticated = true;
        refresh = true;
        HB_TRY_VOID(auth->Challenge(response));
        continue;
      }
      refresh = false;
      if (response.status == 401 && request.body_reader && !retry) {
        // A streamed body cannot be sent again from here: forget the token and let the caller
        // (an upload, which knows how to start again) decide.
        auth->Forget(scope);
        return response;
      }
      if (response.status == 401 || response.status == 403) {
        HB_TRY(auto user, auth->User());
        std::string detail = RegistryErrorText(response);
        std::string why =
            user ? "access denied for user " + *user
                 : "authentication required (run `hardbase login " + host + "` or pass --creds)";
        if (!detail.empty()) why += " (" + detail + ")";
        return Fail(ErrorCode::kAuth, what + ": " + why);
      }
      if (net::IsTransient(response) && retry && policy.MayRetry(attempt)) {
        PauseBeforeRetry(attempt, response, what);
        ++attempt;
        continue;
      }
      // Without retries the caller decides what a failed exchange means (an upload asks the
      // registry where it stands).
      if (response.status == 0 && retry) {
        return Fail(ErrorCode::kNetwork, what + ": " + response.transport_error);
      }
      return response;
    }
  }

  Error Unexpected(const net::Response& response, const std::string& what) {
    std::string detail = RegistryErrorText(response);
    ErrorCode code = response.status == 404 ? ErrorCode::kNotFound : ErrorCode::kNetwork;
    return Error{code, what + ": HTTP " + std::to_string(response.status) +
                           (detail.empty() ? "" : " " + detail)};
  }

  // A Location or Link target as an absolute URL (RFC 3986): absolute as given, "//host/..."
  // with the base's scheme, "/path" on the base, "path" beside the request's own path.
  std::string Resolve(const std::string& location, const std::string& request_url) {
    if (location.starts_with("http://") || location.starts_with("https://")) return location;
    std::lock_guard<std::mutex> lock(mu);
    if (location.starts_with("//")) return base.substr(0, base.find("//")) + location;
    if (location.starts_with("/")) return base + location;
    std::string dir = request_url.substr(0, request_url.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    return dir + location;
  }

  // Whether `url` is on the registry itself: only there are credentials sent and challenges
  // learnt (an upload Location or a storage redirect may name any host).
  bool OnRegistry(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu);
    return url.starts_with(base + "/");
  }
};

Registry::Registry(std::string host, RegistryOptions options, std::shared_ptr<net::HttpClient> http,
                   std::unique_ptr<Authenticator> auth, net::NetworkLimits limits)
    : impl_(std::make_unique<Impl>(host, std::move(options), std::move(http), std::move(auth),
                                   std::move(limits))),
      host_(std::move(host)) {}

Registry::~Registry() = default;

Result<std::unique_ptr<Registry>> Registry::Open(std::string host, RegistryOptions options) {
  if (host.empty()) return Fail(ErrorCode::kUsage, "registry host is empty");
  net::ClientOptions http_options;
  http_options.tls_verify = options.tls_verify;
  http_options.ca_file = options.ca_file;
  std::shared_ptr<net::HttpClient> http = net::MakeCurlClient(http_options);
  // Login credentials (--creds, else the auth files) when there are any, anonymous otherwise;
  // the registry's challenge decides how they are presented.
  std::shared_ptr<CredentialStore> store = options.credentials
                                               ? FixedCredentials(options.credentials)
                                               : AuthFileCredentials(options.auth_file);
  auto auth = MakeChallengeAuthenticator(
      host, std::move(store), TokenTransport{http, RetryOptionsOf(options), http_options.limits});
  return std::unique_ptr<Registry>(new Registry(
      std::move(host), std::move(options), std::move(http), std::move(auth), http_options.limits));
}

Result<std::unique_ptr<Registry>> Registry::Open(std::string host, RegistryOptions options,
                                                 std::shared_ptr<net::HttpClient> http,
                                                 std::unique_ptr<Authenticator> auth) {
  if (host.empty()) return Fail(ErrorCode::kUsage, "registry host is empty");
  if (!http || !auth) return Fail(ErrorCode::kInternal, "registry " + host + ": no transport");
  return std::unique_ptr<Registry>(new Registry(std::move(host), std::move(options),
                                                std::move(http), std::move(auth),
                                                net::GetNetworkLimits()));
}

std::string Registry::BaseUrl() {
  auto base = impl_->Base();
  return base ? *base : "https://" + host_;
}

Registry::Stats Registry::stats() {
  Authenticator::Stats auth = impl_->auth->stats();
  std::lock_guard<std::mutex> lock(impl_->mu);
  return Stats{auth.tokens_fetched, impl_->retries + auth.retries};
}

Result<void> Registry::CheckLogin() {
  // /v2/ with the credentials: Basic is checked by the registry, Bearer by the token service.
  HB_TRY(std::string base, impl_->Base());
  net::Request request;
  request.url = "/v2/";
  HB_TRY(net::Response response, impl_->Call(request, ""));
  if (response.status != 200) return Fail(impl_->Unexpected(response, "GET " + base + "/v2/"));
  return {};
}

Result<ManifestBytes> Registry::GetManifest(std::string_view repository,
                                            std::string_view reference) {
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  net::Request request;
  request.url = "/v2/" + std::string(repository) + "/manifests/" + std::string(reference);
  request.headers.emplace_back("Accept", kManifestAccept);
  request.max_body = kMaxManifestBytes;
  const std::string what = host_ + "/" + std::string(repository) +
                           (oci::IsSha256Digest(reference) ? "@" : ":") + std::string(reference);
  HB_TRY(net::Response response, impl_->Call(request, scope));
  if (response.status == 404) {
    return Fail(ErrorCode::kNotFound, what + ": manifest unknown");
  }
  if (response.status != 200) return Fail(impl_->Unexpected(response, "get manifest " + what));
  ManifestBytes manifest;
  manifest.descriptor.digest = "sha256:" + Sha256Hex(response.body);
  manifest.descriptor.size = static_cast<int64_t>(response.body.size());
  manifest.descriptor.media_type =
      ManifestMediaType(response.body, response.Header("Content-Type").value_or(""));
  if (oci::IsSha256Digest(reference) && manifest.descriptor.digest != reference) {
    return Fail(ErrorCode::kIntegrity,
                what + ": the registry sent a manifest with digest " + manifest.descriptor.digest);
  }
  if (auto said = response.Header("Docker-Content-Digest");
      said && said->starts_with("sha256:") && *said != manifest.descriptor.digest) {
    return Fail(ErrorCode::kIntegrity, what + ": Docker-Content-Digest " + *said +
                                           " does not match the manifest's bytes (" +
                                           manifest.descriptor.digest + ")");
  }
  manifest.bytes = std::move(response.body);
  return manifest;
}

Result<std::optional<oci::Descriptor>> Registry::HeadManifest(std::string_view repository,
                                                              std::string_view reference) {
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  net::Request request;
  request.method = "HEAD";
  request.url = "/v2/" + std::string(repository) + "/manifests/" + std::string(reference);
  request.headers.emplace_back("Accept", kManifestAccept);
  HB_TRY(net::Response response, impl_->Call(request, scope));
  if (response.status == 404) return std::optional<oci::Descriptor>();
  if (response.status != 200) {
    return Fail(impl_->Unexpected(
        response,
        "head manifest " + host_ + "/" + std::string(repository) + ":" + std::string(reference)));
  }
  auto digest = response.Header("Docker-Content-Digest");
  auto type = response.Header("Content-Type");
  auto length = response.Header("Content-Length");
  if (!digest || !oci::IsSha256Digest(*digest) || !type || !length ||
      type->starts_with("application/json")) {
    // Not enough said to trust; the manifest itself tells.
    HB_TRY(ManifestBytes manifest, GetManifest(repository, reference));
    return std::optional<oci::Descriptor>(manifest.descriptor);
  }
  if (oci::IsSha256Digest(reference) && *digest != reference) {
    return Fail(ErrorCode::kIntegrity, "head manifest " + host_ + "/" + std::string(repository) +
                                           "@" + std::string(reference) +
                                           ": the registry answered for " + *digest);
  }
  oci::Descriptor d;
  d.digest = *digest;
  d.media_type = type->substr(0, type->find(';'));
  d.size = std::strtoll(length->c_str(), nullptr, 10);
  return std::optional<oci::Descriptor>(d);
}

Result<oci::Descriptor> Registry::PutManifest(std::string_view repository,
                                              std::string_view reference,
                                              const std::string& media_type,
                                              const std::string& bytes,
                                              bool* subject_acknowledged) {
  std::string scope = impl_->Scope({{std::string(repository), "pull,push"}});
  net::Request request;
  request.method = "PUT";
  request.url = "/v2/" + std::string(repository) + "/manifests/" + std::string(reference);
  request.headers.emplace_back("Content-Type", media_type);
  request.body = bytes;
  const std::string what = "push manifest " + host_ + "/" + std::string(repository) +
                           (oci::IsSha256Digest(reference) ? "@" : ":") + std::string(reference);
  HB_TRY(net::Response response, impl_->Call(request, scope));
  if (response.status != 201 && response.status != 200) {
    return Fail(impl_->Unexpected(response, what));
  }
  oci::Descriptor d;
  d.media_type = media_type;
  d.digest = "sha256:" + Sha256Hex(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  if (auto said = response.Header("Docker-Content-Digest");
      said && said->starts_with("sha256:") && *said != d.digest) {
    return Fail(ErrorCode::kIntegrity,
                what + ": the registry stored digest " + *said + " for bytes of " + d.digest);
  }
  if (subject_acknowledged) *subject_acknowledged = response.Header("OCI-Subject").has_value();
  return d;
}

Result<bool> Registry::HasBlob(std::string_view repository, std::string_view digest) {
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  net::Request request;
  request.method = "HEAD";
  request.url = "/v2/" + std::string(repository) + "/blobs/" + std::string(digest);
  request.follow_redirects = true;
  HB_TRY(net::Response response, impl_->Call(request, scope));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return Fail(impl_->Unexpected(
      response, "head blob " + host_ + "/" + std::string(repository) + "@" + std::string(digest)));
}

Result<void> Registry::GetBlob(std::string_view repository, const oci::Descriptor& blob,
                               const std::function<Result<void>(std::string_view)>& sink) {
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  const std::string what = "get blob " + host_ + "/" + std::string(repository) + "@" + blob.digest;
  uint64_t received = 0;
  for (int attempt = 1;; ++attempt) {
    net::Request request;
    request.url = "/v2/" + std::string(repository) + "/blobs/" + blob.digest;
    request.follow_redirects = true;
    const uint64_t asked_from = received;
    if (asked_from > 0) {
      request.headers.emplace_back("Range", "bytes=" + std::to_string(asked_from) + "-");
    }
    // A server that ignores Range starts over: skip what the sink already has.
    uint64_t skip = 0;
    bool first = true;
    request.body_sink = [&](const net::Response& head, std::string_view data) -> Result<void> {
      if (first) {
        first = false;
        skip = head.status == 206 ? 0 : asked_from;
        if (head.status == 206) {
          auto range = head.Header("Content-Range");
          if (!range || range->find("bytes " + std::to_string(asked_from) + "-") != 0) {
            return Fail(ErrorCode::kNetwork, "the registry resumed at another offset");
          }
        }
      }
      size_t drop = static_cast<size_t>(std::min<uint64_t>(skip, data.size()));
      skip -= drop;
      data.remove_prefix(drop);
      if (data.empty()) return {};
      if (blob.size >= 0 && received + data.size() > static_cast<uint64_t>(blob.size)) {
        return Fail(ErrorCode::kIntegrity,
                    "more than the " + std::to_string(blob.size) + " bytes the descriptor says");
      }
      received += data.size();
      return sink(data);
    };
    HB_TRY(net::Response response, impl_->Call(std::move(request), scope, false));
    if (response.status == 200 || response.status == 206) {
      if (received == static_cast<uint64_t>(blob.size)) return {};
      if (!impl_->policy.MayRetry(attempt)) {
        return Fail(ErrorCode::kNetwork, what + ": ended after " + std::to_string(received) +
                                             " of " + std::to_string(blob.size) + " bytes");
      }
    } else if (response.status == 0) {
      if (!response.transient || !impl_->policy.MayRetry(attempt)) {
        return Fail(ErrorCode::kNetwork, what + ": " + response.transport_error);
      }
    } else if (net::IsTransientStatus(response.status) && impl_->policy.MayRetry(attempt)) {
    } else if (response.status == 404) {
      return Fail(ErrorCode::kNotFound, what + ": blob unknown");
    } else {
      return Fail(impl_->Unexpected(response, what));
    }
    impl_->PauseBeforeRetry(attempt, response);
  }
}

Result<bool> Registry::MountBlob(std::string_view repository, std::string_view digest,
                                 std::string_view from_repository) {
  std::string scope = impl_->Scope(
      {{std::string(repository), "pull,push"}, {std::string(from_repository), "pull"}});
  net::Request request;
  request.method = "POST";
  request.url = "/v2/" + std::string(repository) +
                "/blobs/uploads/?mount=" + PercentEncode(digest) +
                "&from=" + PercentEncode(from_repository);
  HB_TRY(net::Response response, impl_->Call(request, scope));
  if (response.status == 201) return true;
  if (response.status == 202) {
    // The registry opened an upload session instead; close it so it does not linger.
    if (auto location = response.Header("Location")) {
      net::Request cancel;
      cancel.method = "DELETE";
      cancel.url = impl_->Resolve(*location, request.url);
      (void)impl_->Call(cancel, scope, false);
    }
    return false;
  }
  return Fail(impl_->Unexpected(
      response, "mount " + std::string(digest) + " from " + std::string(from_repository)));
}

Result<void> Registry::PutBlob(std::string_view repository, const oci::Descriptor& blob,
                               const ByteOpener& open, Progress* progress) {
  std::string scope = impl_->Scope({{std::string(repository), "pull,push"}});
  const std::string what =
      "push blob " + blob.digest + " to " + host_ + "/" + std::string(repository);
  const uint64_t size = static_cast<uint64_t>(blob.size);
  const uint64_t chunk = std::max<uint64_t>(impl_->options.chunk_size, 1);
  const bool chunked = size > chunk;
  uint64_t reported = 0;  // progress already counted, so retried bytes count once

  auto start_session = [&]() -> Result<std::string> {
    net::Request post;
    post.method = "POST";
    post.url = "/v2/" + std::string(repository) + "/blobs/uploads/";
    HB_TRY(net::Response response, impl_->Call(post, scope));
    auto location = response.Header("Location");
    if (response.status != 202 || !location) {
      return Fail(impl_->Unexpected(response, what + ": start upload"));
    }
    return impl_->Resolve(*location, post.url);
  };
  // A request whose body is bytes [offset, offset + length) of the blob.
  auto body_request = [&](std::string method, std::string url, uint64_t offset,
                          uint64_t length) -> Result<net::Request> {
    HB_TRY(ByteReader reader, open(offset));
    net::Request request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    request.body_size = length;
    auto position = std::make_shared<uint64_t>(offset);
    request.body_reader = [reader, position, progress, &reported](char* buf,
                                                                  size_t n) -> Result<size_t> {
      HB_TRY(size_t got, reader(buf, n));
      *position += got;
      if (progress && *position > reported) {
        progress->Advance(*position - reported);
        reported = *position;
      }
      return got;
    };
    return request;
  };

  int failures = 0;
  auto give_up_or_wait = [&](const net::Response& response,
                             const std::string& step) -> Result<void> {
    // 401 here is a token that expired during the upload (Call already forgot it).
    bool transient = net::IsTransient(response) || response.status == 401;
    if (!transient) {
      if (response.status == 0) {
        return Fail(ErrorCode::kNetwork, what + ": " + step + ": " + response.transport_error);
      }
      return Fail(impl_->Unexpected(response, what + ": " + step));
    }
    if (!impl_->policy.MayRetry(++failures)) {
      return Fail(ErrorCode::kNetwork,
                  what + ": " + step + ": " +
                      (response.status ? "HTTP " + std::to_string(response.status)
                                       : response.transport_error) +
                      " (after " + std::to_string(failures) + " attempts)");
    }
    impl_->PauseBeforeRetry(failures, response, what + ": " + step);
    return {};
  };

  if (!chunked) {
    for (;;) {
      HB_TRY(std::string location, start_session());
      HB_TRY(net::Request put,
             body_request("PUT", AppendQuery(location, "digest=" + PercentEncode(blob.digest)), 0,
                          size));
      HB_TRY(net::Response response, impl_->Call(std::move(put), scope, false));
      if (response.status == 201 || response.status == 204) return {};
      HB_TRY(bool arrived, HasBlob(repository, blob.digest));  // only the answer was lost?
      if (arrived) return {};
      HB_TRY_VOID(give_up_or_wait(response, "upload"));
    }
  }

  // Rounds of a whole chunked upload: a registry that loses an upload (see below) gets another.
  for (int round = 1;; ++round) {
    HB_TRY(std::string location, start_session());
    uint64_t offset = 0;
    while (offset < size) {
      uint64_t length = std::min(chunk, size - offset);
      HB_TRY(net::Request patch, body_request("PATCH", location, offset, length));
      patch.headers.emplace_back(
          "Content-Range", std::to_string(offset) + "-" + std::to_string(offset + length - 1));
      HB_TRY(net::Response response, impl_->Call(std::move(patch), scope, false));
      if (response.status == 202) {
        if (auto next = response.Header("Location")) location = impl_->Resolve(*next, location);
        uint64_t reached = UploadedUpTo(response).value_or(offset + length);
        if (reached > offset) {
          offset = reached;
          continue;
        }
        // The registry says the chunk did not move the upload on: not progress, a failure.
        if (!impl_->policy.MayRetry(++failures)) {
          return Fail(ErrorCode::kNetwork, what + ": the registry keeps the upload at " +
                                               std::to_string(reached) + " bytes");
        }
        offset = reached;
        continue;
      }
      if (response.status != 416) {
        HB_TRY_VOID(give_up_or_wait(response, "upload chunk"));
      } else if (!impl_->policy.MayRetry(++failures)) {
        return Fail(impl_->Unexpected(response, what + ": upload chunk"));
      }
      // Where does the upload stand? The registry may hold part of the chunk that failed.
      net::Request status;
      status.url = location;
      HB_TRY(net::Response stand, impl_->Call(status, scope));
      if (stand.status == 204 || stand.status == 200) {
        if (auto next = stand.Header("Location")) location = impl_->Resolve(*next, location);
        offset = UploadedUpTo(stand).value_or(0);
        LogDebug("{}: the registry holds {} bytes; going on from there", what, offset);
      } else {
        // The registry dropped the upload: docker/distribution does when bytes of the failed
        // chunk reached it (its upload state no longer matches). Start again from the beginning.
        LogDebug("{}: the registry lost the upload (HTTP {}); starting again", what, stand.status);
        HB_TRY(location, start_session());
        offset = 0;
      }
    }
    for (;;) {
      net::Request put;
      put.method = "PUT";
      put.url = AppendQuery(location, "digest=" + PercentEncode(blob.digest));
      put.headers.emplace_back("Content-Type", "application/octet-stream");
      HB_TRY(net::Response response, impl_->Call(put, scope, false));
      if (response.status == 201 || response.status == 204) return {};
      // A lost answer may hide a finished upload (the request replayed then finds none).
      HB_TRY(bool arrived, HasBlob(repository, blob.digest));
      if (arrived) return {};
      if (response.status == 404 && impl_->policy.MayRetry(round)) break;
      HB_TRY_VOID(give_up_or_wait(response, "finish upload"));
    }
  }
}

Result<std::vector<std::string>> Registry::Tags(std::string_view repository) {
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  std::vector<std::string> tags;
  std::string url = "/v2/" + std::string(repository) + "/tags/list";
  int pages = 0;
  while (!url.empty()) {
    net::Request request;
    request.url = url;
    HB_TRY(net::Response response, impl_->Call(request, scope));
    if (response.status == 404) return tags;
    if (response.status != 200) {
      return Fail(
          impl_->Unexpected(response, "list tags of " + host_ + "/" + std::string(repository)));
    }
    auto json = ParseUntrustedJsonOrDiscarded(response.body);
    if (!json.is_object()) {
      return Fail(ErrorCode::kSpec, "list tags of " + host_ + "/" + std::string(repository) +
                                        ": the answer is not a JSON object");
    }
    if (json.contains("tags") && json["tags"].is_array()) {
      for (const auto& t : json["tags"]) {
        if (t.is_string() && tags.size() < kMaxTags) tags.push_back(t.get<std::string>());
      }
    }
    // Pagination: Link: </v2/name/tags/list?n=100&last=x>; rel="next". A registry that keeps
    // answering with more pages is stopped at a bound.
    url.clear();
    if (auto link = response.Header("Link")) {
      if (auto next = NextLink(*link); next && ++pages < kMaxTagPages && tags.size() < kMaxTags) {
        url = impl_->Resolve(*next, response.effective_url);
      }
    }
  }
  return tags;
}

Result<std::optional<std::vector<oci::Descriptor>>> Registry::Referrers(std::string_view repository,
                                                                        std::string_view digest) {
  using Found = std::optional<std::vector<oci::Descriptor>>;
  std::string scope = impl_->Scope({{std::string(repository), "pull"}});
  std::vector<oci::Descriptor> referrers;
  std::string url = "/v2/" + std::string(repository) + "/referrers/" + std::string(digest);
  const std::string what =
      "referrers of " + host_ + "/" + std::string(repository) + "@" + std::string(digest);
  for (int page = 1; !url.empty(); ++page) {
    if (page > kMaxReferrerPages) {
      return Fail(ErrorCode::kSpec,
                  what + ": more than " + std::to_string(kMaxReferrerPages) + " pages");
    }
    net::Request request;
    request.url = url;
    request.headers.emplace_back("Accept", "application/vnd.oci.image.index.v1+json");
    HB_TRY(net::Response response, impl_->Call(request, scope));
    if (page == 1 && (response.status == 404 || response.status == 405 || response.status == 400)) {
      return Found();
    }
    if (response.status != 200) {
      return Fail(impl_->Unexpected(response, "referrers of " + std::string(digest)));
    }
    auto index = oci::ParseIndex(response.body);
    // A registry that routes /referrers/ elsewhere (an HTML page, say) has no referrers API.
    if (!index) {
      if (page == 1) return Found();
      return Fail(index.error().Wrap("referrers of " + std::string(digest)));
    }
    if (referrers.size() + index->manifests.size() > kMaxReferrers) {
      return Fail(ErrorCode::kSpec,
                  what + ": more than " + std::to_string(kMaxReferrers) + " entries");
    }
    for (auto& m : index->manifests) referrers.push_back(std::move(m));
    // The answer may come in pages (Link rel="next"), bounded above.
    url.clear();
    if (auto link = response.Header("Link")) {
      if (auto next = NextLink(*link)) {
        url = impl_->Resolve(*next, response.effective_url);
      }
    }
  }
  return Found(std::move(referrers));
}

}  // namespace hardbase::registry
