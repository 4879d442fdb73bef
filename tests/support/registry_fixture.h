// Real OCI registries on loopback for tests: Debian's `docker-registry` (distribution 2.8.2) run
// as a child process without auth, with htpasswd Basic auth or with token auth, optionally over
// TLS; a token issuer that signs ES256 JWTs the registry accepts; and a fault-injecting HTTP proxy
// to put in front of a registry.
//
// These share no code with hardbase's registry client, so a test that pushes with hardbase and
// reads back with ListTags/GetManifest (plain libcurl) or skopeo checks hardbase against an
// independent implementation of the distribution protocol.
//
// Every server listens on 127.0.0.1 on a port chosen at start, keeps its files in a private
// temporary directory and is stopped (its process killed and reaped, its threads joined, its
// directory removed) when its object dies.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "support/http_server.h"

namespace hardbase::testing {

// Absolute path of `name` found in $PATH, or empty when it is not installed.
std::string FindInPath(const std::string& name);
// Skips the test where Debian's docker-registry, which RegistryServer starts, is not installed.
#define SKIP_WITHOUT_REGISTRY()                                                          \
  if (::hardbase::testing::FindInPath("docker-registry").empty()) {                      \
    GTEST_SKIP() << "docker-registry is not installed (scripts/install-deps.sh --test)"; \
  }

// A port that was free a moment ago on 127.0.0.1 (bound to port 0, read back, closed), for a
// server a test starts (a registry, a container's published port).
Result<uint16_t> FreeLoopbackPort();

// ---------------------------------------------------------------------------------------------
// Plain HTTP requests made with libcurl, for fixtures and test assertions.

struct CurlReply {
  int status = 0;
  HttpHeaders headers;  // of the final response (after any 100 Continue), names as sent
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

struct CurlOptions {
  std::string method = "GET";
  HttpHeaders headers = {};
  std::optional<std::string> body = {};  // sent with Content-Length when set (even when empty)
  std::string basic_user = {};           // HTTP Basic credentials when not empty
  std::string basic_password = {};
  // TLS: trust this CA file (PEM); when empty, the peer's certificate is not verified at all.
  std::string ca_file = {};
  long timeout_seconds = 30;
};

// One request with a fresh curl easy handle; redirects are not followed. Fails with kNetwork
// when no response arrived (connection refused, reset, empty reply, timeout).
Result<CurlReply> CurlRequest(const std::string& url, const CurlOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Self-signed certificates.

struct SelfSignedCertificate {
  std::string cert_path;  // PEM certificate, CA:TRUE, usable as its own trust anchor
  std::string key_path;   // PEM PKCS#8 private key (ECDSA P-256)
  std::string cert_der;   // the certificate's DER bytes
};

// Generates an ECDSA P-256 key and a certificate for it valid from an hour ago for a day, with
// subjectAltName IP:127.0.0.1 and DNS:localhost, and writes both as PEM into `dir` as
// NAME.crt and NAME.key. Made with the OpenSSL C API.
Result<SelfSignedCertificate> WriteSelfSignedCertificate(const std::string& dir,
                                                         const std::string& name,
                                                         const std::string& common_name);

// ---------------------------------------------------------------------------------------------
// TokenIssuer: the token server of the Docker token authentication scheme.

struct TokenIssuerOptions {
  std::string user = "user";
  std::string password = "pass";
  // Requests without Authorization get a token granting only `pull` (else they get 401).
  bool allow_anonymous_pull = false;
  // The "expires_in" of each answer, in seconds.
  int expires_in = 300;
  // The JWT's exp is iat + this; nullopt: expires_in. A negative value (below -60, the registry's
  // leeway) makes tokens the registry refuses at once.
  std::optional<int> jwt_lifetime = {};
  // The first this many tokens are issued already expired (an hour ago, beyond the registry's
  // leeway) although expires_in says otherwise: a registry refuses them as it refuses tokens that
  // expired while a client held them, which the client must answer with a fresh one.
  int stale_tokens = 0;
  std::string issuer = "test-issuer";
  std::string service = "test-registry";
};

// One /token request, as the issuer saw it.
struct TokenRequest {
  std::string account;              // the Basic user, or empty for anonymous requests
  std::string service;              // the `service` parameter
  std::vector<std::string> scopes;  // every `scope` parameter, split at spaces
  int status = 0;                   // 200 when a token was issued
};

// Answers `GET /token?service=...&scope=repository:NAME:ACTIONS...` with
// {"token", "access_token", "expires_in", "issued_at"}. The token is a JWT signed with ES256 by a
// key generated at Start, whose self-signed certificate is in the JWT header's x5c and in
// cert_path() (the registry's `rootcertbundle`). An authenticated user is granted every action
// asked for; an anonymous one only `pull` (when allowed). Thread-safe.
class TokenIssuer {
 public:
  explicit TokenIssuer(TokenIssuerOptions options = {});
  ~TokenIssuer();
  TokenIssuer(const TokenIssuer&) = delete;
  TokenIssuer& operator=(const TokenIssuer&) = delete;

  // Generates the key and certificate, writes the certificate and starts serving.
  Result<void> Start();
  void Stop();

  const TokenIssuerOptions& options() const { return options_; }
  // "http://127.0.0.1:PORT/token": the realm to configure in the registry.
  std::string realm() const;
  // PEM file holding the signing certificate.
  const std::string& cert_path() const { return cert_.cert_path; }
  HttpServer& server() { return server_; }

  // Tokens issued so far (200 answers).
  int TokensIssued() const;
  // Every request to /token, refused ones included, in arrival order.
  std::vector<TokenRequest> Requests() const;
  // Every scope asked for in requests that got a token, in order.
  std::vector<std::string> Scopes() const;
  // Signs a token for `account` granting `scopes` (for tests that need one without a request).
  // `lifetime`: seconds until exp (default: jwt_lifetime, else expires_in).
  Result<std::string> MakeToken(const std::string& account, const std::vector<std::string>& scopes,
                                std::optional<int> lifetime = {}) const;

 private:
  std::optional<HttpResponse> Handle(const HttpRequest& request);

  const TokenIssuerOptions options_;
  HttpServer server_;
  std::optional<TempDir> dir_;
  SelfSignedCertificate cert_;
  struct Key;
  std::unique_ptr<Key> key_;  // the EVP_PKEY behind cert_
  mutable std::mutex mu_;
  std::vector<TokenRequest> requests_;
  int tokens_issued_ = 0;
};

// ---------------------------------------------------------------------------------------------
// RegistryServer: `docker-registry serve CONFIG` as a child process.

struct RegistryOptions {
  enum class Auth { kNone, kHtpasswd, kToken };
  Auth auth = Auth::kNone;
  // kHtpasswd: the one account of the htpasswd file (made with `htpasswd -Bbn`).
  std::string user = "user";
  std::string password = "pass";
  // kToken: a started issuer; it must outlive the registry. Its user and password are the ones
  // user()/password() return.
  const TokenIssuer* token_issuer = nullptr;
  // Serve HTTPS with a self-signed certificate for 127.0.0.1 (see ca_file()).
  bool tls = false;
  // How long to wait for `GET /v2/` to answer.
  int start_timeout_seconds = 15;
};

// A manifest as the registry serves it.
struct FetchedManifest {
  std::string media_type;  // the Content-Type header
  std::string digest;      // the Docker-Content-Digest header
  std::string body;
};

// The registry runs until Stop or destruction: it gets SIGTERM, then SIGKILL after a second, and
// is reaped; its storage and log are removed with its directory. The child also gets SIGKILL if
// the thread that started it dies (PR_SET_PDEATHSIG), so a crashed test leaves no registry behind;
// start it from a thread that outlives it (the test's own thread).
class RegistryServer {
 public:
  // Writes the config (and htpasswd file or certificate), picks a free port and starts the
  // registry; retries with another port when the registry exits before answering.
  static Result<std::unique_ptr<RegistryServer>> Start(RegistryOptions options = {});
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // Kills and reaps the registry. Idempotent; the destructor calls it. The directory stays until
  // destruction, so log() still works.
  void Stop();

  uint16_t port() const { return port_; }
  // "127.0.0.1:PORT": the registry part of an image reference.
  std::string host() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT", no trailing slash.
  std::string base_url() const;
  bool tls() const { return options_.tls; }
  // PEM certificate to trust for TLS (the server certificate itself); empty without TLS. Point
  // SSL_CERT_FILE / CURL_CA_BUNDLE at it, or pass it to skopeo as --cert-dir's ca.crt (see
  // cert_dir()).
  std::string ca_file() const { return tls() ? cert_.cert_path : ""; }
  // A directory holding only ca.crt (the server certificate), for skopeo --cert-dir.
  std::string cert_dir() const { return tls() ? dir_.path() + "/certs.d" : ""; }
  const std::string& dir() const { return dir_.path(); }
  std::string storage_dir() const { return dir_.path() + "/storage"; }
  std::string config_path() const { return dir_.path() + "/config.yml"; }
  // The registry's stdout and stderr so far.
  std::string log() const;
  RegistryOptions::Auth auth() const { return options_.auth; }
  // Credentials that the registry (or its token issuer) accepts; empty for kNone.
  std::string user() const;
  std::string password() const;
  // "user:pass" for skopeo --creds / --dest-creds; empty for kNone.
  std::string creds() const;
  pid_t pid() const { return pid_; }

  // Independent readers of the registry's content (libcurl; for token auth a token is fetched
  // from the issuer with the credentials). Tags of a repository, sorted as the registry lists
  // them; a repository that does not exist is a kNotFound error.
  Result<std::vector<std::string>> ListTags(const std::string& repo) const;
  // GET /v2/REPO/manifests/REFERENCE accepting OCI and Docker manifests and indexes.
  Result<FetchedManifest> GetManifest(const std::string& repo, const std::string& reference) const;
  // GET /v2/REPO/blobs/DIGEST (following the registry's redirect, if any).
  Result<std::string> GetBlob(const std::string& repo, const std::string& digest) const;
  // Any GET against the registry with its credentials: `path` starts with "/v2/". `scope`
  // (token auth only) is the scope to ask for, e.g. "repository:foo:pull".
  Result<CurlReply> AuthorizedGet(const std::string& path, const std::string& scope,
                                  const HttpHeaders& headers = {}) const;

 private:
  RegistryServer(RegistryOptions options, TempDir dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  Result<void> WriteFiles();
  // One attempt on one port: Ok when /v2/ answered, kNetwork when the process exited first.
  Result<void> Launch(uint16_t port);
  void KillChild();

  const RegistryOptions options_;
  TempDir dir_;
  SelfSignedCertificate cert_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// ---------------------------------------------------------------------------------------------
// FaultProxy: a reverse proxy with one-shot faults, to put between a client and a registry.

// One request that reached the proxy.
struct ProxyLogEntry {
  std::string method;
  std::string path;      // still percent-encoded, without the query
  std::string query;     // without '?'
  int status = 0;        // what the client got; 0 when the connection was dropped
  bool faulted = false;  // answered (or dropped) by a fault
  size_t request_body_bytes = 0;
};

// Forwards every request (method, target, end-to-end headers, body) to `upstream` with libcurl and
// returns the upstream's answer as it is, redirects included. The Host header sent upstream is the
// proxy's own "127.0.0.1:PORT" (and X-Forwarded-Proto "http"), so docker-registry writes Location
// URLs that point back at the proxy; Location headers that still name the upstream are rewritten
// as well. It speaks plain HTTP only and closes TLS connections at once, so clients that try
// HTTPS first (skopeo with --tls-verify=false) fall back to HTTP without a delay. Thread-safe.
class FaultProxy {
 public:
  // `upstream`: base URL such as registry.base_url(). `ca_file`: CA to verify an https upstream
  // with; empty: not verified.
  explicit FaultProxy(std::string upstream, std::string ca_file = "");
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  Result<void> Start();
  void Stop();

  uint16_t port() const { return server_.port(); }
  std::string host() const;      // "127.0.0.1:PORT"
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  // Faults, each used by the first request whose method equals `method` (empty: any method) and
  // whose path contains `path_substring`; faults are tried in the order they were added.
  //
  // Answers `status` with an empty body and `headers` (e.g. {"Retry-After", "0"}) without
  // forwarding.
  void FailOnce(const std::string& method, const std::string& path_substring, int status,
                HttpHeaders headers = {});
  // Forwards the request with only the first `forward_bytes` bytes of its body (Content-Length
  // and Content-Range adjusted, so the registry keeps exactly those bytes of a PATCH), discards
  // the upstream's answer and closes the client's connection without any response.
  // Note: docker-registry 2.8.2 then refuses the upload's old Location (its _state holds the old
  // offset): "upload resumed at wrong offest", 404 BLOB_UPLOAD_INVALID (seen for GET and PATCH).
  // A client must start a new upload rather than resume.
  void DropOnce(const std::string& method, const std::string& path_substring, size_t forward_bytes);
  // Faults not used yet.
  int PendingFaults() const;
  void ClearFaults();

  std::vector<ProxyLogEntry> Log() const;
  // Requests whose method equals `method` (empty: any) and whose path contains `path_substring`.
  int Count(const std::string& method, const std::string& path_substring) const;
  void ClearLog();

 private:
  struct Fault {
    std::string method;
    std::string path_substring;
    bool drop = false;
    int status = 0;
    HttpHeaders headers;
    size_t forward_bytes = 0;
  };
  std::optional<HttpResponse> Handle(const HttpRequest& request);
  HttpResponse Forward(const HttpRequest& request, const std::string& body);

  std::string upstream_;  // without a trailing slash
  const std::string ca_file_;
  HttpServer server_;
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  std::vector<ProxyLogEntry> log_;
};

}  // namespace hardbase::testing
