// Making files known by sha256 present in the cache: the one path by which anything downloaded
// (package indexes, .debs) enters it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"

namespace hardbase::apt {

struct BlobRequest {
  std::string sha256;
  uint64_t size = 0;
  // Where to get it, tried in order: the next URL only when a server says it has no such file
  // (a mirror without by-hash files, a repository that does not carry the package).
  std::vector<std::string> urls;
  std::string what;  // names the file in messages: "bookworm (…): main/binary-amd64/Packages.xz"
};

struct BlobFetchStats {
  uint64_t files = 0;  // downloaded by this call
  uint64_t bytes = 0;
};

// Downloads every requested blob that the store lacks, in parallel, and adopts each into the store
// only after its sha256 matched. Blobs are locked in hash order, so concurrent processes never
// fetch one twice nor deadlock; a blob another process fetched meanwhile is not fetched again.
// Every download that succeeded is kept even when another fails (a rerun resumes, not restarts);
// the first failure is returned.
Result<BlobFetchStats> EnsureBlobs(std::vector<BlobRequest> blobs, net::HttpClient& http,
                                   cache::BlobStore& store, const std::string& progress_label);

}  // namespace hardbase::apt
