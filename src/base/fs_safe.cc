#include "base/fs_safe.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

#include "base/fs.h"

namespace hardbase {
namespace {

// The pid in "<prefix><pid>-XXXXXX", or 0 when `name` does not have that form.
pid_t TempOwner(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return 0;
  name.remove_prefix(prefix.size());
  size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 9 || name.size() != dash + 7) {
    return 0;
  }
  pid_t pid = 0;
  for (char c : name.substr(0, dash)) {
    if (c < '0' || c > '9') return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

bool Running(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Removes the entries of `dir` that a dead process left: those named "<prefix><pid>-XXXXXX" for
// the prefix `prefix_of` gives the name ("" for a name that is no temporary), whose pid no longer
// runs and whose flock nobody holds.
void RemoveStale(const std::string& dir,
                 const std::function<std::string_view(std::string_view)>& prefix_of) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string_view prefix = prefix_of(e->d_name);
    if (prefix.empty()) continue;
    pid_t pid = TempOwner(e->d_name, prefix);
    if (pid <= 0 || pid == ::getpid() || Running(pid)) continue;
    std::string path = dir + "/" + e->d_name;
    // Not following a symlink: only what a run itself made is a candidate.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // someone still holds it
    stale.push_back(std::move(path));
  }
  ::closedir(d);
  for (const auto& path : stale) (void)RemoveAll(path);
}

// The temporary files of every target in `dir` (".<base>.tmp-<pid>-XXXXXX") that dead processes
// left, removed the first time this process writes into `dir`: once, not on every write, since a
// blob directory holds thousands of files and gets one write per blob.
void SweepTempFilesOnce(const std::string& dir) {
  static std::mutex mutex;
  static auto* swept = new std::set<std::string>();
  {
    std::lock_guard<std::mutex> guard(mutex);
    if (!swept->insert(dir).second) return;
  }
  RemoveStale(dir, [](std::string_view name) -> std::string_view {
    size_t tmp = name.rfind(".tmp-");
    return name.starts_with('.') && tmp != std::string_view::npos ? name.substr(0, tmp + 5)
                                                                  : std::string_view();
  });
}

}  // namespace

std::string_view FileTypeName(unsigned mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a file";
}

int OpenAt2(int dir_fd, const std::string& path, int flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<RegularFile> OpenRegularFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kIo, "open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Fail(ErrorCode::kIo, "stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kIo, "open " + path + ": not a regular file (" +
                                    std::string(FileTypeName(st.st_mode)) + ")");
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Fail(ErrorCode::kIo, "fcntl " + path + ": " + std::strerror(errno));
  }
  return RegularFile{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes) {
  HB_TRY(RegularFile file, OpenRegularFile(path));
  auto too_big = [&] {
    return Fail(ErrorCode::kSpec, path + ": more than " + std::to_string(max_bytes) + " bytes");
  };
  if (file.size > max_bytes) return too_big();
  std::string out;
  out.reserve(static_cast<size_t>(file.size));
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(file.fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kIo, "read " + path + ": " + std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + static_cast<uint64_t>(n) > max_bytes) return too_big();
    out.append(buf.data(), static_cast<size_t>(n));
  }
}

std::string TempPrefixFor(const std::string& target) { return "." + BaseName(target) + ".tmp-"; }

Result<LockedTempFile> CreateTempFileBeside(const std::string& target) {
  std::string dir = DirName(target);
  std::string prefix = TempPrefixFor(target);
  SweepTempFilesOnce(dir);
  std::string name = dir + "/" + prefix + std::to_string(::getpid()) + "-XXXXXX";
  UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kIo,
                "create temporary file beside " + target + ": " + std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::unlink(name.c_str());
    return Fail(ErrorCode::kIo, "lock " + name + ": " + std::strerror(err));
  }
  return LockedTempFile{std::move(fd), std::move(name)};
}

void RemoveStaleTemps(const std::string& dir, std::string_view prefix) {
  RemoveStale(dir, [prefix](std::string_view) { return prefix; });
}

}  // namespace hardbase
