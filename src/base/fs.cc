#include "base/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "base/fs_safe.h"

namespace hardbase {
namespace {

Error ErrnoError(std::string_view what, const std::string& path, int err) {
  return Error{ErrorCode::kIo, std::string(what) + " " + path + ": " + std::strerror(err)};
}

}  // namespace

Result<void> ReadChunks(int fd, const std::string& path,
                        const std::function<void(std::string_view)>& chunk) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("read", path, errno));
    if (n == 0) return {};
    chunk(std::string_view(buf, static_cast<size_t>(n)));
  }
}

Result<std::string> ReadFile(const std::string& path) {
  // Only regular files, so a FIFO or a device where a file was expected fails at once instead of
  // blocking or filling memory; callers with a tighter bound use ReadRegularFile (fs_safe.h).
  constexpr uint64_t kMaxReadFile = uint64_t{1} << 30;
  return ReadRegularFile(path, kMaxReadFile);
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

namespace {

// Writes to what is at `path` as it is: a device or a pipe (`-o /dev/null`, `-o /dev/stdout`)
// must not be replaced by a regular file.
Result<void> WriteInPlace(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrnoError("open", path, errno));
  Result<void> written = WriteAll(fd, path, data);
  ::close(fd);
  return written;
}

}  // namespace

Result<void> WriteAll(int fd, const std::string& path, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(ErrnoError("write", path, n < 0 ? errno : EIO));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return WriteInPlace(path, data);
  }
  HB_TRY(LockedTempFile temp, CreateTempFileBeside(path));
  // The descriptor is closed below with its error checked; the flock goes with it.
  int fd = temp.fd.Release();
  std::string tmp = std::move(temp.path);
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Fail(ErrnoError(what, path, err));
  };
  if (auto written = WriteAll(fd, path, data); !written) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return written;
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(ErrnoError("close", path, err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(ErrnoError("rename into place", path, err));
  }
  return {};
}

Result<void> MakeDirs(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Fail(ErrorCode::kIo, "create directory " + path + ": " + ec.message());
  (void)mode;
  return {};
}

Result<void> RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Fail(ErrorCode::kIo, "remove " + path + ": " + ec.message());
  return {};
}

namespace {

// The flock each live TempDir of this process holds on its directory (by path), which tells
// RemoveStaleTemps in other processes that it is in use. Kept here rather than in TempDir so that
// the class's layout, which half the code base sees, need not change.
std::mutex temp_locks_mutex;
std::map<std::string, int>& TempLocks() {
  static auto* locks = new std::map<std::string, int>();
  return *locks;
}

void RemoveTempDir(const std::string& path) {
  (void)RemoveAll(path);
  std::lock_guard<std::mutex> guard(temp_locks_mutex);
  auto it = TempLocks().find(path);
  if (it == TempLocks().end()) return;
  ::close(it->second);
  TempLocks().erase(it);
}

}  // namespace

// Named "<prefix><pid>-XXXXXX" and flock'ed while it lives, so that a run killed before it could
// remove its directory has it removed by the next run with the same prefix (RemoveStaleTemps).
Result<TempDir> TempDir::Create(std::string_view prefix, std::string parent) {
  if (parent.empty()) {
    const char* env = std::getenv("TMPDIR");
    parent = env && *env ? env : "/tmp";
  }
  RemoveStaleTemps(parent, prefix);
  std::string templ = parent + "/" + std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    return Fail(ErrnoError("create temporary directory in", parent, errno));
  }
  std::string path = name.data();
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    (void)RemoveAll(path);
    return Fail(ErrnoError("lock temporary directory", path, err));
  }
  std::lock_guard<std::mutex> guard(temp_locks_mutex);
  TempLocks()[path] = fd;
  return TempDir(std::move(path));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) RemoveTempDir(path_);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) RemoveTempDir(path_);
}

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(ErrnoError("open lock", path, errno));
  int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return Fail(ErrnoError("lock", path, err));
  }
  return FileLock(fd);
}

Result<std::optional<FileLock>> FileLock::TryAcquire(const std::string& path, Mode mode) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(ErrnoError("open lock", path, errno));
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::optional<FileLock>();
    return Fail(ErrnoError("lock", path, err));
  }
  return std::optional<FileLock>(FileLock(fd));
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<int64_t> FileMtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail(ErrnoError("stat", path, errno));
  return static_cast<int64_t>(st.st_mtime);
}

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string BaseName(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

}  // namespace hardbase
