// The parts of an image that belong to no single package: the skeleton under every image, the
// image's own top layer (what maintainer scripts would have made, the spec's accounts and files),
// and the checks that the assembled image can start.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/accounts.h"
#include "image/package_files.h"
#include "oci/layer.h"
#include "spec/image_spec.h"

namespace hardbase::image {

// What an image holds at a path once its layers are stacked: enough to resolve links and check
// that programs exist, without the contents.
struct ViewEntry {
  oci::LayerEntryType type = oci::LayerEntryType::kFile;
  uint32_t mode = 0;
  std::string link_target;
};

class ImageView {
 public:
  // Adds a layer's entries on top (a later entry at the same path replaces the earlier one).
  void Add(const std::vector<oci::LayerEntry>& entries);
  void Add(const std::string& path, ViewEntry entry);

  const ViewEntry* Find(std::string_view path) const;
  // The entry `path` names after following symlinks in every component (absolute targets from
  // the image root, relative ones from the link's directory), or nullopt when it does not exist or
  // the links loop. The string is the resolved path.
  std::optional<std::pair<std::string, ViewEntry>> Resolve(std::string_view path) const;

  const std::map<std::string, ViewEntry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, ViewEntry, std::less<>> entries_;
};

// The bottom layer of every image of `debian_arch`: the merged-/usr links (/bin, /sbin, /lib and,
// on 64-bit x86, /lib64 into /usr), the top-level directories, /tmp (1777), /root (0700) and the
// dpkg database directory. Its timestamps are 0: it is the same in every image of that arch.
std::vector<oci::LayerEntry> SkeletonEntries(std::string_view debian_arch);

// A `files:` entry read from disk (by the build pipeline), at its image path.
struct LocalFile {
  std::string path;                                       // absolute image path
  oci::LayerEntryType type = oci::LayerEntryType::kFile;  // kFile, kDirectory or kSymlink
  std::optional<uint32_t> mode;  // the spec's mode, or nullopt for the default
  bool executable = false;       // the source file is executable by its owner
  std::string link_target;
  std::shared_ptr<const std::string> content;
  std::string user, group;  // from the spec's owner
  std::string where;        // "image.yaml:12:5", for messages
};

struct TopLayerInputs {
  const spec::ImageSpec* spec = nullptr;
  std::vector<std::string> packages;  // names of the packages in the image
  std::vector<PackageFacts> facts;    // of those packages
  std::vector<LocalFile> files;
  int64_t epoch = 0;  // timestamp of every entry
};

struct TopLayer {
  std::vector<oci::LayerEntry> entries;
  std::string user;  // the config's User, "uid:gid"
};

// The image's own files: /etc/passwd, /etc/group, /etc/nsswitch.conf, home directories, the CA
// bundle and its hash links, the Java truststore (when the image has ca-certificates-java),
// update-alternatives links whose targets exist, the debug variant's /usr/bin/sh -> busybox,
// and the spec's `files:`. `view` holds the layers below; missing parent directories are added.
Result<TopLayer> TopLayerEntries(const TopLayerInputs& inputs, const ImageView& view);

// kSpec error when the image would not start: the entrypoint (or, without one, cmd's program) is
// not an executable regular file in `view` (a bare name is looked up in the spec's PATH), or the
// working directory is missing.
Result<void> CheckStartable(const spec::ImageSpec& spec, const ImageView& view);

}  // namespace hardbase::image
