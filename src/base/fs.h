// Local file access: whole-file reads, atomic writes, temporary directories and advisory locks.
//
// Every output hardbase writes goes through WriteFileAtomic (or a temp file + Commit), so an
// interrupted or failed run leaves the previous file in place.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase {

Result<std::string> ReadFile(const std::string& path);
// Reads an open descriptor to its end, handing each chunk to `chunk`; `path` names it in errors.
Result<void> ReadChunks(int fd, const std::string& path,
                        const std::function<void(std::string_view)>& chunk);
bool PathExists(const std::string& path);
// Writes all of `data` to an open descriptor (retrying short writes and EINTR); `path` names it
// in errors.
Result<void> WriteAll(int fd, const std::string& path, std::string_view data);

// Writes `data` to a temporary file beside `path`, fsyncs it and renames it over `path`.
Result<void> WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);

// Creates `path` and its missing parents (like mkdir -p).
Result<void> MakeDirs(const std::string& path, int mode = 0755);

// Removes a file or a whole directory tree; a missing path is not an error.
Result<void> RemoveAll(const std::string& path);

// A uniquely named directory, removed with its contents when this object dies.
class TempDir {
 public:
  // Creates "<parent>/<prefix>XXXXXX"; parent defaults to $TMPDIR or /tmp.
  static Result<TempDir> Create(std::string_view prefix, std::string parent = "");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// An flock(2) held on a lock file for this object's lifetime. Shared locks let many readers in;
// an exclusive lock waits for all of them. Works across processes sharing a directory.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is granted; creates the lock file if needed.
  static Result<FileLock> Acquire(const std::string& path, Mode mode);
  // Like Acquire, but returns an empty optional at once when another holder is in the way.
  static Result<std::optional<FileLock>> TryAcquire(const std::string& path, Mode mode);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Seconds since the epoch of the file's last modification, or an error.
Result<int64_t> FileMtime(const std::string& path);

// Directory name and base name of a path ("a/b/c.txt" -> "a/b", "c.txt").
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);

}  // namespace hardbase
