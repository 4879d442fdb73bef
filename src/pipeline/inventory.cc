#include "pipeline/inventory.h"

#include <fmt/format.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "deb/control.h"
#include "oci/image_source.h"
#include "pipeline/attach.h"
#include "pipeline/provenance.h"
#include "registry/registry_source.h"
#include "vuln/database.h"

namespace hardbase::pipeline {
namespace {

constexpr std::string_view kStatusFile = "var/lib/dpkg/status";
constexpr std::string_view kStatusDir = "var/lib/dpkg/status.d/";

bool IsOsRelease(std::string_view path) {
  return path == "etc/os-release" || path == "usr/lib/os-release";
}

Result<vuln::InstalledPackage> PackageFromStanza(const deb::Stanza& s) {
  vuln::InstalledPackage p;
  p.name = s.Get("Package");
  p.version = s.Get("Version");
  if (p.name.empty() || p.version.empty()) {
    return Fail(ErrorCode::kSpec, fmt::format("stanza at line {} has no Package or Version",
                                              s.line()));
  }
  p.architecture = s.Get("Architecture");
  // Source names the source package when it differs from the binary, with its version when
  // that differs too.
  auto [source, source_version] = SplitSource(s.Get("Source"));
  p.source = source.empty() ? p.name : source;
  p.source_version = source_version.empty() ? p.version : source_version;
  std::string_view size = s.Get("Installed-Size");
  p.installed_size = std::strtoll(std::string(size).c_str(), nullptr, 10);
  return p;
}

// The directory a reference names as a plain root filesystem: "dir:PATH", or an existing
// directory that is not an OCI layout. "" otherwise.
std::string RootDirectory(std::string_view image) {
  if (image.starts_with("dir:")) return std::string(image.substr(4));
  std::string path(image);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
      !PathExists(path + "/oci-layout")) {
    return path;
  }
  return "";
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
  if (auto status = ReadRootFile(root_fd, std::string(kStatusFile), &mtime)) {
    files[std::string(kStatusFile)] = std::move(*status);
  }
  std::string status_dir(kStatusDir.substr(0, kStatusDir.size() - 1));
  if (int dir_fd = OpenInRoot(root_fd, status_dir, O_RDONLY | O_DIRECTORY); dir_fd >= 0) {
    std::vector<std::string> names;
    if (DIR* dir = ::fdopendir(dir_fd)) {
      while (const dirent* e = ::readdir(dir)) names.emplace_back(e->d_name);
      ::closedir(dir);
    } else {
      ::close(dir_fd);
    }
    for (const auto& name : names) {
      std::string rel = std::string(kStatusDir) + name;
      if (!IsPackageDatabasePath(rel)) continue;
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
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(image));
  HB_TRY(auto source, registry::OpenAnyImage(ref, options.registry));
  HB_TRY(oci::Descriptor root, source->Root());
  HB_TRY(oci::PlatformImage selected, oci::SelectPlatform(*source, root, options.platform));
  HB_TRY(files, oci::ReadImageFiles(*source, selected.manifest, [](std::string_view path) {
           return IsPackageDatabasePath(path) || IsOsRelease(path);
         }));
  inventory.name = ImageName(*source, root, ref);
  inventory.digest = selected.descriptor.digest;
  inventory.created = selected.config.created;
  inventory.architecture = selected.config.platform.architecture;
  for (const auto& layer : selected.manifest.layers) inventory.size += layer.size;
  return {};
}

}  // namespace

bool IsPackageDatabasePath(std::string_view path) {
  if (path == kStatusFile) return true;
  if (!path.starts_with(kStatusDir) || path.size() == kStatusDir.size()) return false;
  std::string_view name = path.substr(kStatusDir.size());
  // status.d also holds "<name>.md5sums" files next to each stanza.
  return name.find('/') == std::string_view::npos && !name.ends_with(".md5sums") &&
         !name.starts_with('.');
}

Result<std::vector<std::string>> InstalledStanzas(const std::map<std::string, std::string>& files) {
  std::vector<std::string> out;
  if (auto it = files.find(std::string(kStatusFile)); it != files.end()) {
    // dpkg's own database: only packages that are installed count.
    HB_TRY_VOID(WithContext(
        deb::ForEachStanza(it->second,
                           [&](const deb::Stanza& s) -> Result<void> {
                             if (!s.Get("Status").ends_with(" installed")) return {};
                             std::string text;
                             for (const auto& f : s.fields()) {
                               text += fmt::format("{}: {}\n", f.name, f.value);
                             }
                             out.push_back(std::move(text));
                             return {};
                           }),
        std::string(kStatusFile)));
  }
  for (const auto& [path, text] : files) {
    if (path.starts_with(kStatusDir)) out.push_back(text);
  }
  return out;
}

Result<std::vector<vuln::InstalledPackage>> PackagesFromDatabase(
    const std::map<std::string, std::string>& files) {
  std::vector<vuln::InstalledPackage> out;
  auto add = [&out](const deb::Stanza& s) -> Result<void> {
    HB_TRY(auto p, PackageFromStanza(s));
    out.push_back(std::move(p));
    return {};
  };
  if (auto it = files.find(std::string(kStatusFile)); it != files.end()) {
    HB_TRY_VOID(WithContext(deb::ForEachStanza(it->second,
                                               [&](const deb::Stanza& s) -> Result<void> {
                                                 if (!s.Get("Status").ends_with(" installed")) {
                                                   return {};
                                                 }
                                                 return add(s);
                                               }),
                            std::string(kStatusFile)));
  }
  for (const auto& [path, text] : files) {
    if (!path.starts_with(kStatusDir)) continue;
    HB_TRY_VOID(WithContext(deb::ForEachStanza(text, add), path));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
  });
  return out;
}

Result<Inventory> ReadInventory(std::string_view image, const InventoryOptions& options) {
  Inventory inventory;
  inventory.reference = image;
  std::map<std::string, std::string> files;
  if (std::string root = RootDirectory(image); !root.empty()) {
    HB_TRY_VOID(WithContext(ReadDirectory(root, options, inventory, files), root));
  } else {
    HB_TRY_VOID(WithContext(ReadImage(image, options, inventory, files), std::string(image)));
  }
  std::vector<std::string> databases;
  if (files.count(std::string(kStatusFile))) databases.emplace_back(kStatusFile);
  if (std::any_of(files.begin(), files.end(),
                  [](const auto& f) { return f.first.starts_with(kStatusDir); })) {
    databases.push_back(std::string(kStatusDir.substr(0, kStatusDir.size() - 1)));
  }
  inventory.package_database = fmt::format("{}", fmt::join(databases, " + "));
  for (std::string_view rel : {"etc/os-release", "usr/lib/os-release"}) {
    if (auto it = files.find(std::string(rel)); it != files.end()) {
      inventory.os_release = it->second;
      break;
    }
  }
  HB_TRY(inventory.packages, WithContext(PackagesFromDatabase(files), std::string(image)));
  // The image's Debian architecture is that of its architecture-specific packages.
  for (const auto& p : inventory.packages) {
    if (p.architecture != "all" && !p.architecture.empty()) {
      inventory.architecture = p.architecture;
      break;
    }
  }
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

Result<std::string> DebianRelease(std::string_view os_release) {
  auto fields = ParseOsRelease(os_release);
  std::string id = fields["ID"];
  if (id != "debian") {
    return Fail(ErrorCode::kSpec,
                fmt::format("the image is {}, not Debian: hardbase matches Debian's data only",
                            id.empty() ? "of an unknown distribution" : id));
  }
  if (!fields["VERSION_ID"].empty()) {
    std::string v = fields["VERSION_ID"];
    return v.substr(0, v.find('.'));
  }
  if (auto release = vuln::ReleaseForCodename(fields["VERSION_CODENAME"])) return *release;
  return Fail(ErrorCode::kSpec,
              fmt::format("os-release names no Debian release (VERSION_ID, VERSION_CODENAME "
                          "'{}'): say which with --release",
                          fields["VERSION_CODENAME"]));
}

}  // namespace hardbase::pipeline
