#include "pipeline/fetch_debs.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "base/log.h"

namespace hardbase::pipeline {

Result<FetchStats> FetchDebs(const spec::Lock& lock, const std::vector<SuiteSource>& sources,
                             net::HttpClient& http, cache::BlobStore& store) {
  FetchStats stats;
  struct Wanted {
    const spec::LockedPackage* pkg;
    std::string url;
  };
  std::vector<Wanted> wanted;
  std::set<std::string> seen;
  for (const spec::ArchLock& arch : lock.archs) {
    for (const spec::LockedPackage& p : arch.packages) {
      ++stats.packages;
      if (!seen.insert(p.sha256).second) continue;  // an `all` package shared by two archs
      HB_TRY(auto found, store.Find(p.sha256));
      if (found) continue;
      auto source = std::find_if(sources.begin(), sources.end(), [&](const SuiteSource& s) {
        return s.suite == p.repository.suite &&
               std::find(s.components.begin(), s.components.end(), p.repository.component) !=
                   s.components.end();
      });
      if (source == sources.end()) {
        return Fail(ErrorCode::kNotFound,
                    fmt::format("{} {}: no configured repository serves suite {} component {}",
                                p.name, p.version, p.repository.suite, p.repository.component));
      }
      wanted.push_back({&p, source->uri + "/" + p.filename});
    }
  }
  if (wanted.empty()) return stats;

  // Lock each blob in hash order (no deadlock between processes), then skip what another process
  // fetched meanwhile.
  std::sort(wanted.begin(), wanted.end(),
            [](const Wanted& a, const Wanted& b) { return a.pkg->sha256 < b.pkg->sha256; });
  std::vector<FileLock> locks;
  std::vector<net::DownloadRequest> requests;
  std::vector<const spec::LockedPackage*> requested;
  uint64_t total = 0;
  for (const Wanted& w : wanted) {
    HB_TRY(FileLock lock, store.LockBlob(w.pkg->sha256));
    locks.push_back(std::move(lock));
    HB_TRY(auto found, store.Find(w.pkg->sha256));
    if (found) continue;
    requests.push_back({w.url, store.StagingPath(w.pkg->sha256), w.pkg->size});
    requested.push_back(w.pkg);
    total += w.pkg->size;
  }
  if (requests.empty()) return stats;
  Progress progress(fmt::format("fetching {} packages", requests.size()), total,
                    Progress::Unit::kBytes);
  auto results = http.Download(requests, &progress);
  progress.Finish();
  for (size_t i = 0; i < results.size(); ++i) {
    const spec::LockedPackage& p = *requested[i];
    std::string what = fmt::format("{} {} ({})", p.name, p.version, p.filename);
    if (!results[i]) return Fail(std::move(results[i].error()).Wrap(what));
    HB_TRY_VOID(store.Adopt(requests[i].dest_path, p.sha256, what));
    ++stats.downloaded;
    stats.downloaded_bytes += p.size;
  }
  return stats;
}

}  // namespace hardbase::pipeline
