// What an image is made of, as its package database says: the installed packages, the Debian
// release and when the image was made. `scan`, `diff` and `update` work from it.
//
// Any image reference is read (layouts, archives, registries: the filesystem is rebuilt from the
// layers, whiteouts honoured), and so is a plain root filesystem directory (`dir:PATH`, or the path
// of a directory that is not an OCI layout).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "registry/client.h"
#include "spec/lock.h"
#include "vuln/match.h"

namespace hardbase::pipeline {

struct Inventory {
  std::string reference;         // as given
  std::string name;              // repository, image title or directory name
  std::string digest;            // the platform manifest's; "" for a directory
  std::string created;           // RFC 3339: the image config's, or the package database's mtime
  std::string architecture;      // Debian architecture of its packages (or the image config's)
  std::string os_release;        // the text of etc/os-release (or usr/lib/os-release), "" if none
  std::string package_database;  // "var/lib/dpkg/status", "var/lib/dpkg/status.d", both joined
                                 // with " + ", or "" when the image has none
  std::vector<vuln::InstalledPackage> packages;  // sorted by name, architecture
  uint64_t size = 0;  // bytes: compressed layers of an image, regular files of a directory
};

struct InventoryOptions {
  std::string platform;  // of a multi-platform image: "amd64", "linux/arm64"; "" = only / host's
  registry::RegistryOptions registry;
  bool directory_size = false;  // walk a directory to sum its files (only `diff` needs it)
};

Result<Inventory> ReadInventory(std::string_view image, const InventoryOptions& options);

// The pieces of ReadInventory, for commands that read more of an image than its packages (audit).

// The directory a reference names as a plain root filesystem: "dir:PATH", or an existing
// directory that is not an OCI layout; "" when it names an image.
std::string RootFilesystemDirectory(std::string_view image);

// Whether ReadInventory reads the file at `path`: the dpkg database's package lists
// (image::IsPackageDatabasePath) and os-release.
bool IsInventoryFile(std::string_view path);

// An image reference opened and the platform image `options.platform` names selected.
struct SelectedImage {
  oci::ImageRef ref;
  std::unique_ptr<oci::ImageSource> source;
  oci::Descriptor root;
  oci::PlatformImage image;
};
Result<SelectedImage> SelectImage(std::string_view image, const InventoryOptions& options);

// What the selected image itself says of the inventory: name, digest, created, architecture and
// size.
void DescribeSelectedImage(SelectedImage& selected, Inventory& inventory);

// The rest, from the image's files (path -> text; files that are not IsInventoryFile ones are
// passed over): package database, os-release, packages and their architecture.
Result<void> AddPackageDatabase(const std::map<std::string, std::string>& files,
                                Inventory& inventory);

// The packages of one architecture of a lock, as an installed image would list them.
std::vector<vuln::InstalledPackage> PackagesFromLock(const spec::ArchLock& arch);

}  // namespace hardbase::pipeline
