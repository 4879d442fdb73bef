// Which package a file of an image belongs to, from the dpkg database's file lists, and paths
// resolved through the image's own symlinks. Pure: the tree and the list files in, answers out.
//
// Two kinds of file lists are read:
//   var/lib/dpkg/info/<package>[:<arch>].list   dpkg's (Debian images, hardbase's dev variant):
//                                                every path the package shipped, symlinks and
//                                                directories too
//   var/lib/dpkg/status.d/<package>.md5sums      distroless and hardbase images: the package's
//                                                regular files
// A package lists its paths as it shipped them ("/bin/bash"), which a merged-/usr image stores
// elsewhere (/bin is a symlink to usr/bin): each listed path is resolved through the image's
// symlinks before it is looked up. An image with neither kind of list has no known owners, which
// is said (`known` false), not guessed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "oci/image_source.h"

namespace hardbase::audit {

// Whether `path` is one of the file lists above.
bool IsFileListPath(std::string_view path);

// `path` (normalised: no leading '/') with the symlinks among its directories resolved as the
// image would (absolute targets from the image's root, ".." never above it), and with
// `follow_last` its last component too; nullopt after 40 links (a loop). Components that do not
// exist are kept as they are.
std::optional<std::string> ResolveInTree(const oci::ImageTree& tree, std::string_view path,
                                         bool follow_last);

// The node a path leads to, following every symlink; nullptr when there is none.
const oci::TreeNode* NodeAt(const oci::ImageTree& tree, std::string_view path);

class FileOwners {
 public:
  // From the file lists among `tree.files`.
  explicit FileOwners(const oci::ImageTree& tree);

  // Whether the image has file lists at all.
  bool known() const { return known_; }
  // The package that lists `path` (the image's path, resolved as ResolveInTree does without
  // following the last component); "" when none does.
  std::string Owner(std::string_view path) const;
  // The owner of `path` itself, else of what its symlinks lead to.
  std::string OwnerFollowing(const oci::ImageTree& tree, std::string_view path) const;

 private:
  bool known_ = false;
  std::map<std::string, std::string, std::less<>> owner_;  // resolved path -> package
};

}  // namespace hardbase::audit
