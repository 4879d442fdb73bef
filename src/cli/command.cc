#include "cli/command.h"

namespace hardbase::cli {

std::string CacheDir(const GlobalOptions& global) {
  return global.cache_dir.empty() ? cache::DefaultCacheDir() : global.cache_dir;
}

Result<cache::BlobStore> OpenCache(const GlobalOptions& global) {
  return cache::BlobStore::Open(CacheDir(global));
}

}  // namespace hardbase::cli
