// How a registry client proves who it is: an Authenticator gives the Authorization header for each
// request and learns from the registry's 401 challenges, apart from the transport (client.h), which
// only sends requests. Credentials come from a CredentialStore, so that other sources (docker
// credential helpers, cloud keychains) can be added without touching either.
//
// The authenticators:
// - Anonymous: sends nothing; a registry asking for credentials is a kAuth error.
// - Basic: `Basic base64(user:password)` with the store's credentials.
// - Bearer (the token dance of docker/distribution's token spec): a token for exactly the scope a
//   request needs, from the challenge's realm (and service), asked with Basic credentials, with
//   an OAuth2 refresh token (identity token), or anonymously when the store has none; cached per
//   scope until shortly before it expires, and fetched again when the registry refuses it.
// - ChallengeAuthenticator (what Registry::Open uses): anonymous until the registry answers 401,
//   then Basic or Bearer as the challenge says (Bearer preferred when both are offered).
//
// Scopes are docker/distribution's: space-separated "repository:NAME:ACTIONS" entries (ACTIONS
// comma-separated: "pull,push"); "" for requests about the registry itself (GET /v2/).
//
// Every authenticator and store here is thread-safe: parallel blob transfers share one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "net/http.h"
#include "net/retry.h"
#include "registry/auth.h"

namespace hardbase::registry {

// Where the credentials for a registry come from.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // The credentials to present to `host` ("127.0.0.1:5000", "registry.example"), or nullopt to
  // stay anonymous. Asked whenever credentials are needed: a store caches what is costly to find.
  virtual Result<std::optional<Credentials>> Find(std::string_view host) = 0;
};

// Always the given credentials (--creds, `login`), or none.
std::shared_ptr<CredentialStore> FixedCredentials(std::optional<Credentials> credentials);
// The auth files of auth.h (LoadCredentials with `auth_file`: --authfile, else
// $REGISTRY_AUTH_FILE, else the docker config), read once per host when first needed; a malformed
// file is an error each time it is asked.
std::shared_ptr<CredentialStore> AuthFileCredentials(std::string auth_file);

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // The Authorization header value for a request to the registry that needs `scope`, or nullopt
  // to send none. `refresh`: the registry refused the value given last, so a cached token is not
  // used again. kAuth when the registry wants credentials there are none of, or a token service
  // refuses them; kNetwork when a token service cannot be reached.
  virtual Result<std::optional<std::string>> Authorization(const std::string& scope,
                                                           bool refresh) = 0;
  // Learns from a 401 answer of the registry (its WWW-Authenticate challenge) how to authorize
  // from now on. kAuth when there is no challenge or none this authenticator speaks.
  virtual Result<void> Challenge(const net::Response& response) = 0;
  // Drops what is cached for `scope` (a token refused on a request the caller cannot send again
  // at once; the next Authorization for it starts afresh).
  virtual void Forget(const std::string& scope) = 0;
  // The user whose credentials are presented, for messages ("access denied for user alice");
  // nullopt when anonymous.
  virtual Result<std::optional<std::string>> User() = 0;

  // How many tokens were fetched and token requests retried.
  struct Stats {
    int tokens_fetched = 0;
    int retries = 0;
  };
  virtual Stats stats() = 0;
};

// How token services are reached: the registry's HTTP client (shared with it), the retry policy
// for token requests, the command's deadline for waits, and the clock tokens expire by.
struct TokenTransport {
  std::shared_ptr<net::HttpClient> http;
  net::RetryOptions retry;
  net::NetworkLimits limits = net::GetNetworkLimits();
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
};

// A token is fetched again this long before it expires, so no request carries a stale one.
inline constexpr std::chrono::seconds kTokenMargin{5};

// `host` names the registry in messages ("HOST requires a login: ...") and to the store.
std::unique_ptr<Authenticator> MakeAnonymousAuthenticator(std::string host);
std::unique_ptr<Authenticator> MakeBasicAuthenticator(std::string host,
                                                      std::shared_ptr<CredentialStore> store);
// `realm` and `service` from the registry's Bearer challenge.
std::unique_ptr<Authenticator> MakeBearerAuthenticator(std::string host, std::string realm,
                                                       std::string service,
                                                       std::shared_ptr<CredentialStore> store,
                                                       TokenTransport transport);
std::unique_ptr<Authenticator> MakeChallengeAuthenticator(std::string host,
                                                          std::shared_ptr<CredentialStore> store,
                                                          TokenTransport transport);

}  // namespace hardbase::registry
