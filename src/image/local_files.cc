#include "image/local_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "spec/path_checks.h"

namespace hardbase::image {
namespace {

namespace fs = std::filesystem;

// Opens `name` relative to the directory `dir_fd` without following a symlink in its last
// component, and with RESOLVE_BENEATH (when `beneath`) refusing with EXDEV every path, '..' or
// symlink on the way that would leave `dir_fd`; magic links (/proc/self/fd/N) are never followed.
// -1 with errno set on failure.
int OpenNoFollow(int dir_fd, const std::string& name, int flags, bool beneath) {
  return OpenAt2(dir_fd, name, flags | O_NOFOLLOW,
                 RESOLVE_NO_MAGICLINKS | (beneath ? RESOLVE_BENEATH : 0));
}

// Reads the spec's `files:` entries from disk, one source tree at a time, through descriptors:
// every entry is opened O_PATH|O_NOFOLLOW (which has no side effect even on a device or FIFO),
// inspected with fstat, and only a regular file is opened for reading (O_NONBLOCK, and checked to
// be the same inode). Symlinks are copied as symlinks and never followed, so nothing outside the
// named source is read.
class LocalFileReader {
 public:
  LocalFileReader(const spec::FileEntry& entry, std::string where, std::string shown,
                  std::vector<LocalFile>& out)
      : entry_(entry), where_(std::move(where)), shown_(std::move(shown)), out_(out) {}

  // Adds `name` below `dir_fd` (a directory recursively) at image path `dest`; `rel` is its path
  // below the source, for messages ("" for the source itself).
  Result<void> Add(int dir_fd, const std::string& name, bool beneath, const std::string& dest,
                   const std::string& rel) {
    const std::string shown = rel.empty() ? shown_ : shown_ + "/" + rel;
    if (auto limits = spec::CheckPathLimits(dest); !limits) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: {}: image {}", where_, shown, limits.error().message));
    }
    UniqueFd fd(OpenNoFollow(dir_fd, name, O_PATH, beneath));
    if (fd.get() < 0) return OpenError(errno, shown);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return IoError("stat", shown);
    LocalFile lf;
    lf.path = dest;
    lf.mode = entry_.mode;
    lf.user = entry_.user;
    lf.group = entry_.group;
    lf.where = where_;
    if (S_ISLNK(st.st_mode)) {
      std::string target(spec::kMaxPathBytes + 1, '\0');
      ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
      if (n < 0) return IoError("read symbolic link", shown);
      target.resize(static_cast<size_t>(n));
      if (auto limits = spec::CheckPathLimits(target); !limits) {
        return Fail(ErrorCode::kSpec, fmt::format("{}: files: {}: symbolic link target: {}", where_,
                                                  shown, limits.error().message));
      }
      lf.type = oci::LayerEntryType::kSymlink;
      lf.link_target = std::move(target);
      out_.push_back(std::move(lf));
      return {};
    }
    if (S_ISREG(st.st_mode)) {
      UniqueFd file(OpenNoFollow(dir_fd, name, O_RDONLY | O_NONBLOCK, beneath));
      struct stat opened {};
      if (file.get() < 0) return OpenError(errno, shown);
      if (::fstat(file.get(), &opened) != 0) return IoError("stat", shown);
      if (!S_ISREG(opened.st_mode) || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev) {
        return Fail(ErrorCode::kIo,
                    fmt::format("{}: files: {} was replaced while it was read", where_, shown));
      }
      std::string content;
      HB_TRY_VOID(ReadChunks(file.get(), shown,
                             [&content](std::string_view chunk) { content.append(chunk); }));
      lf.content = std::make_shared<const std::string>(std::move(content));
      lf.executable = (st.st_mode & S_IXUSR) != 0;
      out_.push_back(std::move(lf));
      return {};
    }
    if (!S_ISDIR(st.st_mode)) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: {} is not a file, directory or symbolic link ({})",
                              where_, shown, FileTypeName(st.st_mode)));
    }
    lf.type = oci::LayerEntryType::kDirectory;
    out_.push_back(std::move(lf));
    UniqueFd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return IoError("open directory", shown);
    std::vector<std::string> names;
    {
      DIR* stream = ::fdopendir(::dup(dir.get()));
      if (!stream) return IoError("read directory", shown);
      errno = 0;
      while (const dirent* e = ::readdir(stream)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
      }
      int read_errno = errno;
      ::closedir(stream);
      if (read_errno != 0) return IoError("read directory", shown, read_errno);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      HB_TRY_VOID(Add(dir.get(), n, /*beneath=*/true, dest == "/" ? "/" + n : dest + "/" + n,
                      rel.empty() ? n : rel + "/" + n));
    }
    return {};
  }

 private:
  tl::unexpected<Error> IoError(std::string_view what, const std::string& shown,
                                int err = errno) const {
    return Fail(ErrorCode::kIo,
                fmt::format("{}: files: {} {}: {}", where_, what, shown, std::strerror(err)));
  }

  tl::unexpected<Error> OpenError(int err, const std::string& shown) const {
    if (err == ENOENT) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: source {} does not exist", where_, shown));
    }
    if (err == ELOOP) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: source {}: too many symbolic links or a /proc magic "
                              "link on the way",
                              where_, shown));
    }
    if (err == EXDEV) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: source {} leads outside the spec's directory through "
                              "a symbolic link; pass --allow-outside-files to allow that",
                              where_, shown));
    }
    return IoError("open", shown, err);
  }

  const spec::FileEntry& entry_;
  std::string where_;
  std::string shown_;
  std::vector<LocalFile>& out_;
};

}  // namespace

Result<std::vector<LocalFile>> LoadLocalFiles(const spec::ImageSpec& spec, bool allow_outside) {
  std::vector<LocalFile> out;
  if (spec.files.empty()) return out;
  const std::string base = spec.base_dir.empty() ? "." : spec.base_dir;
  UniqueFd base_fd(::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!allow_outside && base_fd.get() < 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: open the spec's directory: {}", spec.source_file,
                                            std::strerror(errno)));
  }
  for (const auto& f : spec.files) {
    std::string where = spec.Locate(f.where);
    std::string src = spec.ResolvePath(f.src);
    LocalFileReader reader(f, where, src, out);
    if (allow_outside) {
      HB_TRY_VOID(reader.Add(AT_FDCWD, src, /*beneath=*/false, f.dest, ""));
      continue;
    }
    std::string rel = fs::path(f.src).lexically_normal().string();
    if (fs::path(rel).is_absolute() || rel == ".." || rel.starts_with("../")) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: files: source {} is outside the spec's directory {}; pass "
                              "--allow-outside-files to allow that",
                              where, src, base));
    }
    HB_TRY_VOID(reader.Add(base_fd.get(), rel, /*beneath=*/true, f.dest, ""));
  }
  return out;
}

}  // namespace hardbase::image
