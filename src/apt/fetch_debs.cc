#include "apt/fetch_debs.h"

#include <fmt/core.h>

#include <algorithm>

#include "apt/blob_fetch.h"
#include "spec/path_checks.h"

namespace hardbase::apt {

Result<FetchStats> FetchDebs(const spec::Lock& lock, const std::vector<SuiteSource>& sources,
                             net::HttpClient& http, cache::BlobStore& store) {
  FetchStats stats;
  std::vector<BlobRequest> blobs;
  for (const spec::ArchLock& arch : lock.archs) {
    for (const spec::LockedPackage& p : arch.packages) {
      ++stats.packages;
      HB_TRY(auto found, store.Find(p.sha256));
      if (found) continue;
      // Every configured repository of the package's suite and component may serve it; the lock's
      // sha256, not the server, decides what is accepted.
      BlobRequest b{p.sha256, p.size, {}, fmt::format("{} {} ({})", p.name, p.version, p.filename)};
      // Joined to each repository's URI below: it must name a file inside the repository.
      HB_TRY_VOID(WithContext(spec::CheckRepositoryPath(p.filename),
                              fmt::format("{} {}: filename", p.name, p.version)));
      for (const SuiteSource& s : sources) {
        bool serves_arch = s.architectures.empty() ||
                           std::find(s.architectures.begin(), s.architectures.end(), arch.arch) !=
                               s.architectures.end();
        if (s.suite == p.repository.suite && serves_arch &&
            std::find(s.components.begin(), s.components.end(), p.repository.component) !=
                s.components.end()) {
          b.urls.push_back(s.uri + "/" + p.filename);
        }
      }
      if (b.urls.empty()) {
        return Fail(ErrorCode::kNotFound,
                    fmt::format("{}: no configured repository serves suite {} component {}", b.what,
                                p.repository.suite, p.repository.component));
      }
      blobs.push_back(std::move(b));
    }
  }
  HB_TRY(BlobFetchStats fetched, EnsureBlobs(std::move(blobs), http, store, "fetching packages"));
  stats.downloaded = fetched.files;
  stats.downloaded_bytes = fetched.bytes;
  return stats;
}

}  // namespace hardbase::apt
