// Reading an image's dpkg database: which files hold it and the packages they list. Both layouts
// are read: dpkg's own var/lib/dpkg/status (Debian images, hardbase's dev variant) and the
// distroless var/lib/dpkg/status.d/<name> files (see image/dpkg_db.h, which writes them).
// Pure: file texts in, records out; reading the files from an image or a directory is the
// caller's (pipeline/inventory.h, pipeline/describe_image.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/installed_package.h"

namespace hardbase::image {

inline constexpr std::string_view kDpkgStatusFile = "var/lib/dpkg/status";
inline constexpr std::string_view kDpkgStatusDir = "var/lib/dpkg/status.d";

// Whether `path` (relative to the root, no leading slash) is a file of the dpkg database a
// package list is read from: var/lib/dpkg/status, or a stanza file directly in status.d (not its
// "<name>.md5sums" files nor hidden ones).
bool IsPackageDatabasePath(std::string_view path);

// The packages those files (path -> text) list: var/lib/dpkg/status stanzas whose Status ends in
// "installed", and every status.d/<name> stanza (distroless, hardbase), sorted by name and
// architecture. kSpec naming the file for a stanza without Package or Version.
Result<std::vector<deb::InstalledPackage>> PackagesFromDatabase(
    const std::map<std::string, std::string>& files);

// The stanza texts of those files, in that order (status, then status.d by path), for callers
// that need every field (SBOMs).
Result<std::vector<std::string>> InstalledStanzas(const std::map<std::string, std::string>& files);

// Which of the two databases the files hold: "var/lib/dpkg/status", "var/lib/dpkg/status.d",
// both joined with " + ", or "" when none.
std::string PackageDatabaseName(const std::map<std::string, std::string>& files);

}  // namespace hardbase::image
