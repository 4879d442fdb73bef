#include "apt/blob_fetch.h"

#include <fmt/core.h>

#include <algorithm>
#include <optional>

#include "base/log.h"

namespace hardbase::apt {

Result<BlobFetchStats> EnsureBlobs(std::vector<BlobRequest> blobs, net::HttpClient& http,
                                   cache::BlobStore& store, const std::string& progress_label) {
  std::sort(blobs.begin(), blobs.end(),
            [](const BlobRequest& a, const BlobRequest& b) { return a.sha256 < b.sha256; });
  blobs.erase(
      std::unique(blobs.begin(), blobs.end(),
                  [](const BlobRequest& a, const BlobRequest& b) { return a.sha256 == b.sha256; }),
      blobs.end());

  std::vector<FileLock> locks;
  std::vector<const BlobRequest*> pending;
  uint64_t total = 0;
  for (const BlobRequest& b : blobs) {
    if (b.urls.empty()) return Fail(ErrorCode::kInternal, b.what + ": no URL to fetch it from");
    HB_TRY(FileLock lock, store.LockBlob(b.sha256));
    locks.push_back(std::move(lock));
    HB_TRY(auto found, store.Find(b.sha256));
    if (found) continue;
    pending.push_back(&b);
    total += b.size;
  }
  BlobFetchStats stats;
  if (pending.empty()) return stats;

  Progress progress(fmt::format("{}: {}", progress_label, pending.size()), total,
                    Progress::Unit::kBytes);
  std::optional<Error> first_error;
  for (size_t attempt = 0; !pending.empty(); ++attempt) {
    std::vector<net::DownloadRequest> requests;
    for (const BlobRequest* b : pending) {
      requests.push_back({b->urls[attempt], store.StagingPath(b->sha256), b->size});
    }
    auto results = http.Download(requests, &progress);
    std::vector<const BlobRequest*> next;
    for (size_t k = 0; k < results.size(); ++k) {
      const BlobRequest& b = *pending[k];
      if (!results[k]) {
        if (results[k].error().code == ErrorCode::kNotFound && attempt + 1 < b.urls.size()) {
          next.push_back(&b);
        } else if (!first_error) {
          first_error = std::move(results[k].error()).Wrap(b.what);
        }
        continue;
      }
      auto adopted = store.Adopt(requests[k].dest_path, b.sha256, b.what);
      if (!adopted) {
        if (!first_error) first_error = std::move(adopted.error());
        continue;
      }
      ++stats.files;
      stats.bytes += b.size;
    }
    pending = std::move(next);
  }
  progress.Finish();
  if (first_error) return Fail(std::move(*first_error));
  return stats;
}

}  // namespace hardbase::apt
