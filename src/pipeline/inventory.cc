#include "pipeline/inventory.h"

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
#include "image/installed_packages.h"
#include "oci/image_source.h"
#include "pipeline/attach.h"
#include "pipeline/describe_image.h"
#include "registry/registry_source.h"

namespace hardbase::pipeline {
namespace {

bool IsOsRelease(std::string_view path) {
  return path == "etc/os-release" || path == "usr/lib/os-release";
}

// Opens `rel` in the root filesystem whose directory is `root_fd` with every symlink resolved
// inside that root, as the image would see it (RESOLVE_IN_ROOT): an absolute or ".." link in a
// scanned directory never reaches the host's files. -1 with errno set on failure.
int OpenInRoot(int root_fd, const std::string& rel, int flags) {
  return OpenAt2(root_fd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

// The regular file at `rel` inside the root; nullopt when it is absent, not a regular file (a
// FIFO is opened without blocking and then passed over) or larger than a package database gets.
std::optional<std::string> ReadRootFile(int root_fd, const std::string& rel,
                                        int64_t* mtime = nullptr) {
  constexpr int64_t kMaxRootFile = int64_t{256} << 20;
  int fd = OpenInRoot(root_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= kMaxRootFile &&
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0) {
    std::string bytes;
    if (ReadChunks(fd, rel, [&bytes](std::string_view chunk) { bytes.append(chunk); })) {
      text = std::move(bytes);
      if (mtime) *mtime = std::max<int64_t>(*mtime, st.st_mtim.tv_sec);
    }
  }
  ::close(fd);
  return text;
}

Result<void> ReadDirectory(const std::string& root, const InventoryOptions& options,
                           Inventory& inventory, std::map<std::string, std::string>& files) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::kNotFound, fmt::format("{}: not a directory", root));
  }
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return Fail(ErrorCode::kIo, fmt::format("open {}: {}", root, strerror(errno)));
  int64_t mtime = 0;
  if (auto status = ReadRootFile(root_fd, std::string(image::kDpkgStatusFile), &mtime)) {
    files[std::string(image::kDpkgStatusFile)] = std::move(*status);
  }
  std::string status_dir(image::kDpkgStatusDir);
  if (int dir_fd = OpenInRoot(root_fd, status_dir, O_RDONLY | O_DIRECTORY); dir_fd >= 0) {
    std::vector<std::string> names;
    if (DIR* dir = ::fdopendir(dir_fd)) {
      while (const dirent* e = ::readdir(dir)) names.emplace_back(e->d_name);
      ::closedir(dir);
    } else {
      ::close(dir_fd);
    }
    for (const auto& name : names) {
      std::string rel = status_dir + "/" + name;
      if (!image::IsPackageDatabasePath(rel)) continue;
      if (auto text = ReadRootFile(root_fd, rel, &mtime)) files[rel] = std::move(*text);
    }
  }
  for (std::string_view rel : {"etc/os-release", "usr/lib/os-release"}) {
    if (auto text = ReadRootFile(root_fd, std::string(rel))) {
      files[std::string(rel)] = std::move(*text);
      break;
    }
  }
  ::close(root_fd);
  inventory.name = BaseName(std::filesystem::path(root).lexically_normal().string());
  if (inventory.name.empty() || inventory.name == ".") {
    inventory.name = BaseName(std::filesystem::absolute(root).lexically_normal().string());
  }
  if (mtime > 0) inventory.created = oci::Rfc3339(mtime);
  if (options.directory_size) {
    std::error_code ec;
    auto it = std::filesystem::recursive_directory_iterator(
        root, std::filesystem::directory_options::skip_permission_denied, ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) inventory.size += it->file_size(ec);
    }
  }
  return {};
}

Result<void> ReadImage(std::string_view image, const InventoryOptions& options,
                       Inventory& inventory, std::map<std::string, std::string>& files) {
  HB_TRY(SelectedImage selected, SelectImage(image, options));
  HB_TRY(files, oci::ReadImageFiles(*selected.source, selected.image.manifest, IsInventoryFile));
  DescribeSelectedImage(selected, inventory);
  return {};
}

}  // namespace

std::string RootFilesystemDirectory(std::string_view image) {
  if (image.starts_with("dir:")) return std::string(image.substr(4));
  std::string path(image);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && !PathExists(path + "/oci-layout")) {
    return path;
  }
  return "";
}

bool IsInventoryFile(std::string_view path) {
  return image::IsPackageDatabasePath(path) || IsOsRelease(path);
}

Result<SelectedImage> SelectImage(std::string_view image, const InventoryOptions& options) {
  SelectedImage selected;
  HB_TRY(selected.ref, oci::ParseImageRef(image));
  HB_TRY(selected.source, registry::OpenAnyImage(selected.ref, options.registry));
  HB_TRY(selected.root, selected.source->Root());
  HB_TRY(selected.image, oci::SelectPlatform(*selected.source, selected.root, options.platform));
  return selected;
}

void DescribeSelectedImage(SelectedImage& selected, Inventory& inventory) {
  inventory.name = ImageName(*selected.source, selected.root, selected.ref);
  inventory.digest = selected.image.descriptor.digest;
  inventory.created = selected.image.config.created;
  inventory.architecture = selected.image.config.platform.architecture;
  for (const auto& layer : selected.image.manifest.layers) inventory.size += layer.size;
}

Result<void> AddPackageDatabase(const std::map<std::string, std::string>& all,
                                Inventory& inventory) {
  std::map<std::string, std::string> files;
  for (const auto& [path, text] : all) {
    if (IsInventoryFile(path)) files.emplace(path, text);
  }
  inventory.package_database = image::PackageDatabaseName(files);
  for (std::string_view rel : {"etc/os-release", "usr/lib/os-release"}) {
    if (auto it = files.find(std::string(rel)); it != files.end()) {
      inventory.os_release = it->second;
      break;
    }
  }
  HB_TRY(inventory.packages, WithContext(image::PackagesFromDatabase(files), inventory.reference));
  // The image's Debian architecture is that of its architecture-specific packages.
  for (const auto& p : inventory.packages) {
    if (p.architecture != "all" && !p.architecture.empty()) {
      inventory.architecture = p.architecture;
      break;
    }
  }
  return {};
}

Result<Inventory> ReadInventory(std::string_view image, const InventoryOptions& options) {
  Inventory inventory;
  inventory.reference = image;
  std::map<std::string, std::string> files;
  if (std::string root = RootFilesystemDirectory(image); !root.empty()) {
    HB_TRY_VOID(WithContext(ReadDirectory(root, options, inventory, files), root));
  } else {
    HB_TRY_VOID(WithContext(ReadImage(image, options, inventory, files), std::string(image)));
  }
  HB_TRY_VOID(AddPackageDatabase(files, inventory));
  return inventory;
}

std::vector<vuln::InstalledPackage> PackagesFromLock(const spec::ArchLock& arch) {
  std::vector<vuln::InstalledPackage> out;
  for (const auto& p : arch.packages) {
    out.push_back({p.name, p.version, p.architecture, p.source.empty() ? p.name : p.source,
                   p.source_version.empty() ? p.version : p.source_version, 0});
  }
  return out;
}

}  // namespace hardbase::pipeline
