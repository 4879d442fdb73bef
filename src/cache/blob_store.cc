#include "cache/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "base/sha256.h"

namespace hardbase::cache {
namespace {

namespace fs = std::filesystem;

Result<void> CheckHex(std::string_view sha256) {
  if (!IsSha256Hex(sha256)) {
    return Fail(ErrorCode::kInternal, "not a sha256 digest: '" + std::string(sha256) + "'");
  }
  return {};
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* dir = std::getenv("HARDBASE_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/hardbase";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/hardbase";
}

std::string MetaKey(std::string_view kind, std::string_view text) {
  std::string readable;
  for (char c : text.substr(0, 80)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-';
    readable += ok ? c : '_';
  }
  return std::string(kind) + "-" + readable + "-" + Sha256Hex(text).substr(0, 16);
}

Result<BlobStore> BlobStore::Open(const std::string& root) {
  for (const char* sub : {"blobs/sha256", "meta", "tmp", "locks"}) {
    HB_TRY_VOID(WithContext(MakeDirs(root + "/" + sub), "open cache " + root));
  }
  HB_TRY(FileLock lock, FileLock::Acquire(root + "/.lock", FileLock::Mode::kShared));
  return BlobStore(root, std::move(lock));
}

std::string BlobStore::BlobPath(std::string_view sha256) const {
  return root_ + "/blobs/sha256/" + std::string(sha256);
}

std::string BlobStore::StagingPath(std::string_view sha256) const {
  return root_ + "/tmp/" + std::string(sha256);
}

Result<std::optional<FileLock>> BlobStore::TryLockBlob(std::string_view sha256) const {
  HB_TRY_VOID(CheckHex(sha256));
  return FileLock::TryAcquire(root_ + "/locks/" + std::string(sha256), FileLock::Mode::kExclusive);
}

Result<FileLock> BlobStore::LockBlob(std::string_view sha256) const {
  HB_TRY_VOID(CheckHex(sha256));
  return FileLock::Acquire(root_ + "/locks/" + std::string(sha256), FileLock::Mode::kExclusive);
}

Result<std::optional<std::string>> BlobStore::Find(std::string_view sha256) {
  HB_TRY_VOID(CheckHex(sha256));
  std::string path = BlobPath(sha256);
  if (!PathExists(path)) return std::optional<std::string>();
  auto actual = Sha256File(path);
  if (!actual) {
    // Removed by a concurrent prune between the check and the read: simply missing.
    if (!PathExists(path)) return std::optional<std::string>();
    return Fail(std::move(actual.error()).Wrap("read cache"));
  }
  if (*actual != sha256) {
    ::unlink(path.c_str());
    return std::optional<std::string>();
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return std::optional<std::string>(path);
}

Result<std::optional<std::string>> BlobStore::Read(std::string_view sha256) {
  HB_TRY_VOID(CheckHex(sha256));
  std::string path = BlobPath(sha256);
  if (!PathExists(path)) return std::optional<std::string>();
  auto data = ReadFile(path);
  if (!data) {
    if (!PathExists(path)) return std::optional<std::string>();  // pruned meanwhile
    return Fail(std::move(data.error()).Wrap("read cache"));
  }
  if (Sha256Hex(*data) != sha256) {
    ::unlink(path.c_str());
    return std::optional<std::string>();
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return std::optional<std::string>(std::move(*data));
}

Result<std::string> BlobStore::Put(std::string_view data) {
  std::string hex = Sha256Hex(data);
  std::string path = BlobPath(hex);
  if (PathExists(path)) {
    HB_TRY(auto found, Find(hex));
    if (found) return hex;
  }
  HB_TRY_VOID(WithContext(WriteFileAtomic(path, data, 0644), "write cache"));
  return hex;
}

Result<std::string> BlobStore::Adopt(const std::string& path, std::string_view expected_sha256,
                                     std::string_view what) {
  HB_TRY_VOID(CheckHex(expected_sha256));
  HB_TRY(std::string actual, Sha256File(path));
  if (actual != expected_sha256) {
    ::unlink(path.c_str());
    return Fail(ErrorCode::kIntegrity, std::string(what) + ": sha256 mismatch: expected " +
                                           std::string(expected_sha256) + ", got " + actual);
  }
  ::chmod(path.c_str(), 0644);
  std::string dest = BlobPath(expected_sha256);
  if (::rename(path.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return Fail(ErrorCode::kIo, "move " + path + " into cache: " + std::strerror(err));
  }
  return dest;
}

Result<std::optional<std::string>> BlobStore::ReadMeta(std::string_view key) const {
  std::string path = root_ + "/meta/" + std::string(key);
  if (!PathExists(path)) return std::optional<std::string>();
  HB_TRY(std::string data, ReadFile(path));
  return std::optional<std::string>(std::move(data));
}

Result<void> BlobStore::WriteMeta(std::string_view key, std::string_view data) const {
  return WithContext(WriteFileAtomic(root_ + "/meta/" + std::string(key), data),
                     "write cache");
}

Result<PruneStats> BlobStore::Prune(const std::string& root, int64_t max_age_seconds) {
  if (!PathExists(root + "/blobs/sha256")) return PruneStats{};
  HB_TRY(FileLock lock, FileLock::Acquire(root + "/.lock", FileLock::Mode::kExclusive));
  PruneStats stats;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root + "/blobs/sha256", ec)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (max_age_seconds == 0 || now - st.st_mtime > max_age_seconds) {
      if (::unlink(entry.path().c_str()) == 0) {
        ++stats.blobs_removed;
        stats.bytes_removed += size;
        continue;
      }
    }
    ++stats.blobs_kept;
    stats.bytes_kept += size;
  }
  if (ec) return Fail(ErrorCode::kIo, "prune " + root + ": " + ec.message());
  // With the exclusive lock held nobody is downloading: every temporary file is stale.
  for (const char* sub : {"tmp", "locks"}) {
    for (const auto& entry : fs::directory_iterator(root + "/" + sub, ec)) {
      fs::remove_all(entry.path(), ec);
    }
  }
  return stats;
}

}  // namespace hardbase::cache
