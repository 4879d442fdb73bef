// Fetching a lock's .deb files into the cache, each checked against the lock's size and sha256.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apt/repositories.h"
#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "spec/lock.h"

namespace hardbase::apt {

struct FetchStats {
  uint64_t packages = 0;
  uint64_t downloaded = 0;  // how many were not in the cache yet
  uint64_t downloaded_bytes = 0;
};

// Makes every .deb of every architecture of `lock` present and intact in `store`. A lock names no
// mirror: each package's repository (origin, suite) is looked up among `sources`, the spec's or the
// host's repositories, and its repository-relative filename fetched from there.
Result<FetchStats> FetchDebs(const spec::Lock& lock, const std::vector<SuiteSource>& sources,
                             net::HttpClient& http, cache::BlobStore& store);

}  // namespace hardbase::apt
