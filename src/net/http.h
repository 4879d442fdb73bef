// HTTP(S) and file:// access for repositories: small documents into memory, large files to disk.
//
// HttpClient is the seam tests use to inject faults; the real implementation is libcurl. Transient
// failures (timeouts, resets, 5xx, 429) are retried with exponential backoff; 404/410 are final and
// reported as ErrorCode::kNotFound; an unreachable host ends as ErrorCode::kNetwork.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
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
};

struct ClientOptions {
  int max_parallel = 8;
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{250};
  long connect_timeout_seconds = 15;
  // A transfer slower than 1 KiB/s for this long is aborted and retried.
  long low_speed_seconds = 30;
  std::string user_agent = "hardbase";
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
};

// The libcurl client (http://, https://, file://). A 429 or 5xx answer with Retry-After waits
// that long (at most 30 s) instead of the exponential backoff.
std::unique_ptr<HttpClient> MakeCurlClient(ClientOptions options = {});

}  // namespace hardbase::net
