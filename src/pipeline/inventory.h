// What an image is made of, as its package database says: the installed packages, the Debian
// release and when the image was made. `scan`, `diff` and `update` work from it.
//
// Any image reference is read (layouts, archives, registries: the filesystem is rebuilt from the
// layers, whiteouts honoured), and so is a plain root filesystem directory (`dir:PATH`, or the path
// of a directory that is not an OCI layout).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
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

// The dpkg database paths an image's package list is read from, as ReadImageFiles filters.
bool IsPackageDatabasePath(std::string_view path);
// The packages those files list: var/lib/dpkg/status stanzas whose Status ends in "installed",
// and every status.d/<name> stanza (distroless, hardbase), in that order. kSpec naming the file
// for a stanza without Package or Version.
Result<std::vector<vuln::InstalledPackage>> PackagesFromDatabase(
    const std::map<std::string, std::string>& files);
// The stanza texts of those files, for callers that need every field (SBOMs).
Result<std::vector<std::string>> InstalledStanzas(const std::map<std::string, std::string>& files);

Result<Inventory> ReadInventory(std::string_view image, const InventoryOptions& options);

// The packages of one architecture of a lock, as an installed image would list them.
std::vector<vuln::InstalledPackage> PackagesFromLock(const spec::ArchLock& arch);

// The Debian release number of an os-release text: VERSION_ID ("12"), else the release of its
// VERSION_CODENAME; kSpec when it is not Debian (ID and ID_LIKE) or names no release.
Result<std::string> DebianRelease(std::string_view os_release);

}  // namespace hardbase::pipeline
