#include "registry/authenticator.h"

#include <map>
#include <mutex>
#include <utility>

#include "base/base64.h"
#include "base/log.h"
#include "base/strings.h"
#include "net/url.h"

namespace hardbase::registry {
namespace {

using Clock = std::chrono::steady_clock;

std::string LoginHint(const std::string& host) {
  return host + " requires a login: run `hardbase login " + host + "` or pass --creds USER:PASS";
}

// The challenges of a 401 answer; kAuth when it has none.
Result<std::vector<registry::Challenge>> ChallengesOf(const std::string& host,
                                                      const net::Response& response) {
  auto header = response.Header("WWW-Authenticate");
  if (!header) {
    return Fail(ErrorCode::kAuth, host + " answered 401 without a WWW-Authenticate challenge");
  }
  return ParseWwwAuthenticate(*header);
}

Error Unspoken(const std::string& host, const net::Response& response) {
  return Error{ErrorCode::kAuth, host +
                                     " asks for an authentication scheme hardbase does not "
                                     "speak: " +
                                     response.Header("WWW-Authenticate").value_or("")};
}

const registry::Challenge* FindBearer(const std::vector<registry::Challenge>& challenges) {
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && c.params.count("realm")) return &c;
  }
  return nullptr;
}

bool HasBasic(const std::vector<registry::Challenge>& challenges) {
  for (const auto& c : challenges) {
    if (c.scheme == "basic") return true;
  }
  return false;
}

Result<std::optional<std::string>> UserOf(CredentialStore& store, const std::string& host) {
  HB_TRY(auto creds, store.Find(host));
  if (!creds) return std::optional<std::string>();
  return std::optional<std::string>(creds->username);
}

// --- credential stores --------------------------------------------------------------------------

class FixedStore final : public CredentialStore {
 public:
  explicit FixedStore(std::optional<Credentials> credentials)
      : credentials_(std::move(credentials)) {}
  Result<std::optional<Credentials>> Find(std::string_view) override { return credentials_; }

 private:
  const std::optional<Credentials> credentials_;
};

class AuthFileStore final : public CredentialStore {
 public:
  explicit AuthFileStore(std::string auth_file) : auth_file_(std::move(auth_file)) {}

  Result<std::optional<Credentials>> Find(std::string_view host) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = found_.find(host);
    if (it != found_.end()) return it->second;
    HB_TRY(auto loaded, LoadCredentials(host, auth_file_));
    found_.emplace(std::string(host), loaded);
    return loaded;
  }

 private:
  const std::string auth_file_;
  std::mutex mu_;
  std::map<std::string, std::optional<Credentials>, std::less<>> found_;
};

// --- authenticators -----------------------------------------------------------------------------

class AnonymousAuthenticator final : public Authenticator {
 public:
  explicit AnonymousAuthenticator(std::string host) : host_(std::move(host)) {}
  Result<std::optional<std::string>> Authorization(const std::string&, bool) override {
    return std::optional<std::string>();
  }
  Result<void> Challenge(const net::Response&) override {
    return Fail(ErrorCode::kAuth, LoginHint(host_));
  }
  void Forget(const std::string&) override {}
  Result<std::optional<std::string>> User() override { return std::optional<std::string>(); }
  Stats stats() override { return {}; }

 private:
  const std::string host_;
};

class BasicAuthenticator final : public Authenticator {
 public:
  BasicAuthenticator(std::string host, std::shared_ptr<CredentialStore> store)
      : host_(std::move(host)), store_(std::move(store)) {}

  Result<std::optional<std::string>> Authorization(const std::string&, bool) override {
    HB_TRY(auto creds, store_->Find(host_));
    if (!creds) return Fail(ErrorCode::kAuth, LoginHint(host_));
    return std::optional<std::string>("Basic " +
                                      Base64Encode(creds->username + ":" + creds->password));
  }
  Result<void> Challenge(const net::Response& response) override {
    HB_TRY(auto challenges, ChallengesOf(host_, response));
    if (!HasBasic(challenges)) return Fail(Unspoken(host_, response));
    return {};
  }
  void Forget(const std::string&) override {}
  Result<std::optional<std::string>> User() override { return UserOf(*store_, host_); }
  Stats stats() override { return {}; }

 private:
  const std::string host_;
  const std::shared_ptr<CredentialStore> store_;
};

class BearerAuthenticator final : public Authenticator {
 public:
  BearerAuthenticator(std::string host, std::string realm, std::string service,
                      std::shared_ptr<CredentialStore> store, TokenTransport transport)
      : host_(std::move(host)),
        store_(std::move(store)),
        transport_(std::move(transport)),
        policy_(transport_.retry),
        realm_(std::move(realm)),
        service_(std::move(service)) {}

  Result<std::optional<std::string>> Authorization(const std::string& scope,
                                                   bool refresh) override {
    if (!refresh) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tokens_.find(scope);
      if (it != tokens_.end() && transport_.now() + kTokenMargin < it->second.expires) {
        return std::optional<std::string>("Bearer " + it->second.token);
      }
    }
    HB_TRY(std::string token, FetchToken(scope));
    return std::optional<std::string>("Bearer " + token);
  }

  // A challenge naming another realm or service starts over with it.
  Result<void> Challenge(const net::Response& response) override {
    HB_TRY(auto challenges, ChallengesOf(host_, response));
    const registry::Challenge* bearer = FindBearer(challenges);
    if (!bearer) return Fail(Unspoken(host_, response));
    std::string realm = bearer->params.at("realm");
    std::string service = bearer->params.count("service") ? bearer->params.at("service") : "";
    std::lock_guard<std::mutex> lock(mu_);
    if (realm != realm_ || service != service_) {
      realm_ = std::move(realm);
      service_ = std::move(service);
      tokens_.clear();
    }
    return {};
  }

  void Forget(const std::string& scope) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_.erase(scope);
  }

  Result<std::optional<std::string>> User() override { return UserOf(*store_, host_); }

  Stats stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  struct CachedToken {
    std::string token;
    Clock::time_point expires;
  };

  // One request to the token service for `scope` (retried when it fails transiently).
  Result<std::string> FetchToken(const std::string& scope) {
    std::string realm, service;
    {
      std::lock_guard<std::mutex> lock(mu_);
      realm = realm_;
      service = service_;
    }
    HB_TRY(auto creds, store_->Find(host_));
    std::string query;
    if (!service.empty()) query += "service=" + PercentEncode(service);
    for (size_t start = 0; start < scope.size();) {
      size_t sp = scope.find(' ', start);
      if (sp == std::string::npos) sp = scope.size();
      if (!query.empty()) query += '&';
      query += "scope=" + PercentEncode(scope.substr(start, sp - start));
      start = sp + 1;
    }
    net::Request request;
    if (creds && !creds->identity_token.empty()) {
      // OAuth2 refresh-token grant (docker/distribution's token spec).
      request.method = "POST";
      request.url = realm;
      request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      request.body = query + "&grant_type=refresh_token&client_id=hardbase&refresh_token=" +
                     PercentEncode(creds->identity_token);
    } else {
      request.url = query.empty() ? realm : net::AppendQuery(realm, query);
      if (creds) {
        request.headers.emplace_back(
            "Authorization", "Basic " + Base64Encode(creds->username + ":" + creds->password));
      }
    }
    request.max_body = kMaxTokenResponseBytes;
    const std::string what = "token from " + realm;
    for (int attempt = 1;; ++attempt) {
      HB_TRY(net::Response response, transport_.http->Send(request));
      if (net::IsTransient(response) && policy_.MayRetry(attempt)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++stats_.retries;
        }
        auto delay = policy_.Delay(attempt, response);
        LogDebug(
            "{}: {}; trying again in {} ms", what,
            response.status ? "HTTP " + std::to_string(response.status) : response.transport_error,
            delay.count());
        net::PauseWithin(transport_.limits, delay);
        continue;
      }
      if (response.status == 0) {
        return Fail(ErrorCode::kNetwork, what + ": " + response.transport_error);
      }
      if (response.status == 401 || response.status == 403) {
        return Fail(ErrorCode::kAuth,
                    what + ": credentials " +
                        (creds ? "of user " + creds->username + " refused" : "required") +
                        " (HTTP " + std::to_string(response.status) + ")");
      }
      if (response.status != 200) {
        return Fail(ErrorCode::kNetwork, what + ": HTTP " + std::to_string(response.status));
      }
      HB_TRY(Token token, WithContext(ParseTokenResponse(response.body), what));
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.tokens_fetched;
      tokens_[scope] = {token.token, transport_.now() + token.expires_in};
      return token.token;
    }
  }

  const std::string host_;
  const std::shared_ptr<CredentialStore> store_;
  const TokenTransport transport_;
  net::RetryPolicy policy_;
  std::mutex mu_;
  std::string realm_, service_;
  std::map<std::string, CachedToken> tokens_;  // by scope
  Stats stats_;
};

class ChallengeAuthenticator final : public Authenticator {
 public:
  ChallengeAuthenticator(std::string host, std::shared_ptr<CredentialStore> store,
                         TokenTransport transport)
      : host_(std::move(host)),
        store_(std::move(store)),
        transport_(std::move(transport)),
        current_(std::make_shared<AnonymousAuthenticator>(host_)) {}

  Result<std::optional<std::string>> Authorization(const std::string& scope,
                                                   bool refresh) override {
    return Current()->Authorization(scope, refresh);
  }

  Result<void> Challenge(const net::Response& response) override {
    HB_TRY(auto challenges, ChallengesOf(host_, response));
    std::lock_guard<std::mutex> lock(mu_);
    if (const registry::Challenge* bearer = FindBearer(challenges)) {
      std::pair<std::string, std::string> key{
          bearer->params.at("realm"),
          bearer->params.count("service") ? bearer->params.at("service") : ""};
      auto& slot = bearers_[key];
      if (!slot) {
        slot =
            std::make_shared<BearerAuthenticator>(host_, key.first, key.second, store_, transport_);
      }
      current_ = slot;
      return {};
    }
    if (HasBasic(challenges)) {
      if (!basic_) basic_ = std::make_shared<BasicAuthenticator>(host_, store_);
      current_ = basic_;
      return {};
    }
    return Fail(Unspoken(host_, response));
  }

  void Forget(const std::string& scope) override { Current()->Forget(scope); }

  // The store's user, whatever the scheme: an anonymous first request that was refused is
  // explained by who would have been presented.
  Result<std::optional<std::string>> User() override { return UserOf(*store_, host_); }

  Stats stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stats sum;
    for (const auto& [key, bearer] : bearers_) {
      Stats one = bearer->stats();
      sum.tokens_fetched += one.tokens_fetched;
      sum.retries += one.retries;
    }
    return sum;
  }

 private:
  std::shared_ptr<Authenticator> Current() {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

  const std::string host_;
  const std::shared_ptr<CredentialStore> store_;
  const TokenTransport transport_;
  std::mutex mu_;
  std::shared_ptr<Authenticator> current_;
  std::shared_ptr<Authenticator> basic_;
  // One per token service, so its tokens outlive a challenge naming another and back.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Authenticator>> bearers_;
};

}  // namespace

std::shared_ptr<CredentialStore> FixedCredentials(std::optional<Credentials> credentials) {
  return std::make_shared<FixedStore>(std::move(credentials));
}

std::shared_ptr<CredentialStore> AuthFileCredentials(std::string auth_file) {
  return std::make_shared<AuthFileStore>(std::move(auth_file));
}

std::unique_ptr<Authenticator> MakeAnonymousAuthenticator(std::string host) {
  return std::make_unique<AnonymousAuthenticator>(std::move(host));
}

std::unique_ptr<Authenticator> MakeBasicAuthenticator(std::string host,
                                                      std::shared_ptr<CredentialStore> store) {
  return std::make_unique<BasicAuthenticator>(std::move(host), std::move(store));
}

std::unique_ptr<Authenticator> MakeBearerAuthenticator(std::string host, std::string realm,
                                                       std::string service,
                                                       std::shared_ptr<CredentialStore> store,
                                                       TokenTransport transport) {
  return std::make_unique<BearerAuthenticator>(std::move(host), std::move(realm),
                                               std::move(service), std::move(store),
                                               std::move(transport));
}

std::unique_ptr<Authenticator> MakeChallengeAuthenticator(std::string host,
                                                          std::shared_ptr<CredentialStore> store,
                                                          TokenTransport transport) {
  return std::make_unique<ChallengeAuthenticator>(std::move(host), std::move(store),
                                                  std::move(transport));
}

}  // namespace hardbase::registry
