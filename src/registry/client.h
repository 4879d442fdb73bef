// A client of the OCI distribution API (opencontainers/distribution-spec): what `push`, `pull`,
// `copy`, `pin`, `inspect` and `login` say to a registry, with the behaviour registries expect
// of a good client.
//
// - Authentication is an Authenticator's (authenticator.h): the client asks it for each request's
//   Authorization (for exactly the scopes the call needs), hands it the registry's 401 challenges
//   and tries a refused request once more with a fresh authorization. By default anonymous first,
//   then Basic or Bearer tokens as the challenge says, with the given or stored credentials.
//   Credentials go to the registry only, never to hosts an upload Location or a redirect names.
// - Transport: https with verified certificates by default; `tls_verify = false` accepts any
//   certificate and falls back to plain http when the server does not speak TLS (as
//   containers/image does), `plain_http` uses http only.
// - Retries: 429, 5xx and dropped connections are tried again under net::RetryPolicy
//   (RetryOptionsOf below; Retry-After honoured); uploads resume where the registry says the
//   upload stands.
//
// A Registry is thread-safe: parallel blob transfers share one, and with it its tokens.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "net/http.h"
#include "net/retry.h"
#include "oci/image.h"
#include "registry/auth.h"
#include "registry/authenticator.h"

namespace hardbase::registry {

struct RegistryOptions {
  bool plain_http = false;
  bool tls_verify = true;
  std::string ca_file;                     // trust these certificates instead of the system's (PEM)
  std::string auth_file;                   // --authfile: where credentials are read (see auth.h)
  std::optional<Credentials> credentials;  // --creds, overriding any file
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  // Blobs larger than this are uploaded in chunks of this size, each resumable; smaller ones in
  // one request (restarted from zero if it fails).
  uint64_t chunk_size = uint64_t{32} << 20;
};

// The retry policy of a registry's requests (and its token requests): `max_attempts` and
// `initial_backoff` of `options`, the backoff capped at 10 s, Retry-After at 30 s.
net::RetryOptions RetryOptionsOf(const RegistryOptions& options);

// Referrers of one subject beyond this many are refused, from the referrers API and from the
// tag fallback alike (cosign caps the signatures it reads at 1,000 too).
inline constexpr size_t kMaxReferrers = 1000;

// Accept header for manifests: OCI manifest and index, Docker manifest and manifest list.
extern const char kManifestAccept[];

// A manifest as the registry holds it: its exact bytes and their descriptor.
struct ManifestBytes {
  oci::Descriptor descriptor;  // media type from the document (else Content-Type), digest, size
  std::string bytes;
};

// Bytes read in pieces: how many were put in the buffer, 0 at the end.
using ByteReader = std::function<Result<size_t>(char* buf, size_t size)>;
// Where an upload's bytes come from: a reader positioned at `offset`, opened afresh for each
// attempt (a resumed upload starts where the registry says it stands).
using ByteOpener = std::function<Result<ByteReader>(uint64_t offset)>;

class Registry {
 public:
  // `host` as in an image reference ("127.0.0.1:5000", "registry.example"). Nothing is sent yet.
  // Requests go through libcurl; credentials are `options.credentials`, else those the auth
  // files hold for `host`, else none, presented as the registry's challenge asks.
  static Result<std::unique_ptr<Registry>> Open(std::string host, RegistryOptions options);
  // The same over a given HTTP client and authenticator (tests pass net::FakeHttp; other
  // credential sources their own authenticator, usually sharing `http` for token requests).
  // The transport fields of `options` (plain_http, tls_verify, ca_file) still decide the scheme;
  // auth_file and credentials are the authenticator's business and not read.
  static Result<std::unique_ptr<Registry>> Open(std::string host, RegistryOptions options,
                                                std::shared_ptr<net::HttpClient> http,
                                                std::unique_ptr<Authenticator> auth);
  ~Registry();

  const std::string& host() const { return host_; }
  // "https://host" or "http://host", once the first call decided.
  std::string BaseUrl();

  // GET /v2/: whether the registry is there and these credentials are accepted for it (for
  // `login`). kAuth when refused, kNetwork when unreachable.
  Result<void> CheckLogin();

  // The manifest `reference` (a tag or "sha256:<hex>") names; kNotFound when absent. Fetched by
  // digest, the bytes are checked against it; by tag, the registry's Docker-Content-Digest must
  // match the bytes when it sends one.
  Result<ManifestBytes> GetManifest(std::string_view repository, std::string_view reference);
  // Just the descriptor (HEAD); nullopt when absent.
  Result<std::optional<oci::Descriptor>> HeadManifest(std::string_view repository,
                                                      std::string_view reference);
  // Stores `bytes` exactly as given under `reference` (a tag, or the bytes' digest), with
  // Content-Type `media_type`. Returns the descriptor; kIntegrity when the registry reports
  // another digest. `subject_acknowledged` is set when the registry answered OCI-Subject (it
  // indexes referrers itself).
  Result<oci::Descriptor> PutManifest(std::string_view repository, std::string_view reference,
                                      const std::string& media_type, const std::string& bytes,
                                      bool* subject_acknowledged = nullptr);

  Result<bool> HasBlob(std::string_view repository, std::string_view digest);
  // Writes the blob to `sink` in pieces, resuming with Range after a dropped connection (the
  // bytes already given to the sink are not sent again). The caller checks the content.
  Result<void> GetBlob(std::string_view repository, const oci::Descriptor& blob,
                       const std::function<Result<void>(std::string_view)>& sink);
  // Asks the registry to link a blob from another repository on it; false when it will not (then
  // upload it).
  Result<bool> MountBlob(std::string_view repository, std::string_view digest,
                         std::string_view from_repository);
  // Uploads a blob of `blob.size` bytes read from `open()`: one PUT for small blobs, chunked
  // PATCHes for large ones. After a failure, a chunked upload asks the registry how far it got
  // and goes on from there.
  Result<void> PutBlob(std::string_view repository, const oci::Descriptor& blob,
                       const ByteOpener& open, Progress* progress);

  Result<std::vector<std::string>> Tags(std::string_view repository);
  // The referrers of `digest` from the referrers API; nullopt when the registry has no such API
  // (it answers 404 or 405 rather than an image index).
  Result<std::optional<std::vector<oci::Descriptor>>> Referrers(std::string_view repository,
                                                                std::string_view digest);

  // How many tokens were fetched and requests retried (for tests and --verbose).
  struct Stats {
    int tokens_fetched = 0;
    int retries = 0;
  };
  Stats stats();

 private:
  Registry(std::string host, RegistryOptions options, std::shared_ptr<net::HttpClient> http,
           std::unique_ptr<Authenticator> auth, net::NetworkLimits limits);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string host_;
};

}  // namespace hardbase::registry
