#include "cache/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "base/log.h"
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

Result<FileLock> BlobStore::LockBlob(std::string_view sha256) const {
  HB_TRY_VOID(CheckHex(sha256));
  return FileLock::Acquire(root_ + "/locks/" + std::string(sha256), FileLock::Mode::kExclusive);
}

Result<std::optional<std::string>> BlobStore::Verify(std::string_view sha256,
                                                     std::string* content) {
  HB_TRY_VOID(CheckHex(sha256));
  std::string path = BlobPath(sha256);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Fail(ErrorCode::kIo, "read cache " + path + ": " + std::strerror(errno));
  }
  Sha256 hasher;
  std::string data;
  struct stat st {};
  if (content && ::fstat(fd, &st) == 0) data.reserve(static_cast<size_t>(st.st_size));
  auto read = ReadChunks(fd, path, [&](std::string_view c) {
    hasher.Update(c);
    if (content) data.append(c);
  });
  if (!read) {
    ::close(fd);
    return Fail(std::move(read.error()).Wrap("read cache"));
  }
  if (hasher.HexDigest() != sha256) {
    struct stat read_st {
    }, path_st{};
    if (::fstat(fd, &read_st) == 0 && ::lstat(path.c_str(), &path_st) == 0 &&
        read_st.st_dev == path_st.st_dev && read_st.st_ino == path_st.st_ino) {
      ::unlink(path.c_str());
    }
    ::close(fd);
    return std::optional<std::string>();
  }
  ::futimens(fd, nullptr);  // last use, for prune
  ::close(fd);
  if (content) *content = std::move(data);
  return std::optional<std::string>(std::move(path));
}

Result<std::optional<std::string>> BlobStore::Find(std::string_view sha256) {
  return Verify(sha256, nullptr);
}

Result<std::optional<std::string>> BlobStore::Read(std::string_view sha256) {
  std::string content;
  HB_TRY(auto path, Verify(sha256, &content));
  if (!path) return std::optional<std::string>();
  return std::optional<std::string>(std::move(content));
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
  HB_TRY(std::string actual, WithContext(Sha256File(path), what));
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
  return WithContext(WriteFileAtomic(root_ + "/meta/" + std::string(key), data), "write cache");
}

Result<PruneStats> BlobStore::Prune(const std::string& root, int64_t max_age_seconds) {
  if (!PathExists(root + "/blobs/sha256")) return PruneStats{};
  HB_TRY(auto lock, FileLock::TryAcquire(root + "/.lock", FileLock::Mode::kExclusive));
  if (!lock) {
    LogInfo("waiting for other hardbase processes to finish with {}", root);
    HB_TRY(FileLock waited, FileLock::Acquire(root + "/.lock", FileLock::Mode::kExclusive));
    lock.emplace(std::move(waited));
  }
  PruneStats stats;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::error_code ec;
  auto fail = [&](const std::string& dir) {
    return Fail(ErrorCode::kIo, "prune " + dir + ": " + ec.message());
  };
  std::string blobs = root + "/blobs/sha256";
  for (fs::directory_iterator it(blobs, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    bool stray = !IsSha256Hex(it->path().filename().string());  // an interrupted write's temp file
    if (stray || max_age_seconds == 0 || now - st.st_mtime > max_age_seconds) {
      if (::unlink(it->path().c_str()) == 0) {
        ++stats.blobs_removed;
        stats.bytes_removed += size;
        continue;
      }
    }
    ++stats.blobs_kept;
    stats.bytes_kept += size;
  }
  if (ec) return fail(blobs);
  // With the exclusive lock held nobody is downloading: every temporary file is stale.
  for (const char* sub : {"tmp", "locks"}) {
    std::string dir = root + "/" + sub;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      fs::remove_all(it->path(), ec);
      if (ec) break;
    }
    if (ec) return fail(dir);
  }
  return stats;
}

}  // namespace hardbase::cache
