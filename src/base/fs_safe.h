// Files others may have put in hardbase's way: inputs that must be regular files of a bounded
// size (a FIFO would block the open or the read for ever, /dev/zero would fill memory), and
// temporary files and directories that a killed run leaves behind, found and removed by the next
// run without touching those of a process still at work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase {

// An open file descriptor, closed when this object dies.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int Release();

 private:
  int fd_ = -1;
};

// A regular file opened for reading and its size at the time it was opened.
struct RegularFile {
  UniqueFd fd;
  uint64_t size = 0;
};

// What kind of file an st_mode is, for messages: "a FIFO", "a character device", "a directory".
std::string_view FileTypeName(unsigned mode);

// openat(2) with openat2's `resolve` flags (RESOLVE_BENEATH, RESOLVE_IN_ROOT, ...): `path` below
// the directory `dir_fd`, O_CLOEXEC added to `flags`. The descriptor, or -1 with errno set.
int OpenAt2(int dir_fd, const std::string& path, int flags, uint64_t resolve);

// Opens `path` (symlinks followed) for reading when it is a regular file. The open does not
// block (O_NONBLOCK, cleared afterwards) and the check is fstat(2) on what was opened, so a FIFO,
// a device or a socket put where a file was expected is refused at once: kIo "open PATH: not a
// regular file (a FIFO)", and kIo with strerror when it cannot be opened at all.
Result<RegularFile> OpenRegularFile(const std::string& path);

// The whole of the regular file `path` (as OpenRegularFile), refusing one larger than
// `max_bytes` with kSpec "PATH: more than N bytes"; the read itself stops there too, so a file
// growing under it cannot exceed the bound either.
Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes);

// A temporary file beside `target`, named ".<base>.tmp-<pid>-XXXXXX" and held under an flock(2)
// for as long as `fd` is open, so that RemoveStaleTemps in a later run can tell it from the temp
// file of a run still at work. The stale temp files of every target in its directory are removed
// the first time this process writes there.
struct LockedTempFile {
  UniqueFd fd;
  std::string path;
};
Result<LockedTempFile> CreateTempFileBeside(const std::string& target);

// The prefix of CreateTempFileBeside's names for `target` (".<base>.tmp-").
std::string TempPrefixFor(const std::string& target);

// Removes the entries "<dir>/<prefix><pid>-XXXXXX" (files or directory trees) left by processes
// that are gone: the pid in the name no longer runs and nobody holds the entry's flock. Entries
// of live processes, and whatever does not match the pattern, are kept. Best effort: failures
// are ignored, as they only leave a stale entry for later.
void RemoveStaleTemps(const std::string& dir, std::string_view prefix);

}  // namespace hardbase
