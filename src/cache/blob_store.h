// The download cache: files stored by their sha256, shared safely by concurrent hardbase processes.
//
// Layout under the root (default $XDG_CACHE_HOME/hardbase):
//   blobs/sha256/<hex>   content-addressed files; a blob's bytes always hash to its name
//   meta/<key>           small mutable records (the last verified InRelease of each repository)
//   tmp/                 downloads in progress (<hex>.part, resumable) and temp files
//   locks/               per-blob lock files, so two processes never download the same blob at once
//   .lock                held shared by every user of the store, exclusively by `cache prune`
//
// Blobs are written to tmp/ and renamed into place, so readers never see a partial blob; every read
// re-hashes the blob, and one that does not match its name (disk corruption, tampering) is removed
// and reported as missing, so the caller fetches it again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/fs.h"

namespace hardbase::cache {

// $HARDBASE_CACHE_DIR, else $XDG_CACHE_HOME/hardbase, else $HOME/.cache/hardbase.
std::string DefaultCacheDir();

struct PruneStats {
  uint64_t blobs_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t blobs_kept = 0;
  uint64_t bytes_kept = 0;
};

class BlobStore {
 public:
  // Creates the layout if needed and takes the shared store lock for this object's lifetime.
  static Result<BlobStore> Open(const std::string& root);

  const std::string& root() const { return root_; }

  // Path of an intact blob, or nullopt when it is missing (or was corrupt and has been removed).
  // A found blob's mtime is refreshed, so prune by age removes the least recently used.
  Result<std::optional<std::string>> Find(std::string_view sha256);
  // The content of an intact blob, or nullopt when missing (a corrupt blob is removed). Hashes the
  // bytes once, as read.
  Result<std::optional<std::string>> Read(std::string_view sha256);
  // Stores `data` (hash computed here) and returns its sha256.
  Result<std::string> Put(std::string_view data);
  // Moves a finished file (e.g. a download in tmp/) into the store after checking that its bytes
  // hash to `expected_sha256`; on a mismatch the file is deleted and kIntegrity returned.
  Result<std::string> Adopt(const std::string& path, std::string_view expected_sha256,
                            std::string_view what);

  // Where a download of the blob should be written (the HTTP client resumes `path + ".part"`).
  std::string StagingPath(std::string_view sha256) const;
  // Per-blob exclusive lock, held while downloading it. Never call while holding it from another
  // BlobStore of the same process: flock would wait for itself.
  Result<FileLock> LockBlob(std::string_view sha256) const;

  // Small mutable records addressed by a key of [A-Za-z0-9._-] characters.
  Result<std::optional<std::string>> ReadMeta(std::string_view key) const;
  Result<void> WriteMeta(std::string_view key, std::string_view data) const;

  // `hardbase cache prune`: waits for every other user of the store to finish, then removes blobs
  // unused for longer than max_age_seconds (all of them with 0), and stale temporary files.
  static Result<PruneStats> Prune(const std::string& root, int64_t max_age_seconds);

 private:
  BlobStore(std::string root, FileLock lock) : root_(std::move(root)), lock_(std::move(lock)) {}
  std::string BlobPath(std::string_view sha256) const;
  // Reads the blob through one descriptor and checks its hash: the path when intact (with the
  // content if `content` is given), nullopt when missing. A corrupt blob is removed only if the
  // path still names the file that was read, so a good copy another process just moved into
  // place is never deleted.
  Result<std::optional<std::string>> Verify(std::string_view sha256, std::string* content);

  std::string root_;
  FileLock lock_;
};

// Turns an arbitrary string (a URL) into a meta key: readable prefix plus a hash for uniqueness.
std::string MetaKey(std::string_view kind, std::string_view text);

}  // namespace hardbase::cache
