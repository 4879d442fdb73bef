// The parts of an image that belong to no single package: the skeleton under every image, the
// image's own top layer (what maintainer scripts would have made, the spec's accounts and files),
// and the checks that the assembled image can start.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
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
  std::string sha256 = {};  // hex digest of a regular file's content, "" for other types

  // Whether two packages shipping these at one path ship the same thing (as dpkg allows).
  bool SameAs(const ViewEntry& other) const;
};

// What `entry` is in a view (its content's digest computed for a regular file).
ViewEntry ViewEntryOf(const oci::LayerEntry& entry);

class ImageView {
 public:
  // Adds a layer's entries on top (a later entry at the same path replaces the earlier one).
  void Add(const std::vector<oci::LayerEntry>& entries);
  void Add(const std::string& path, ViewEntry entry);

  const ViewEntry* Find(std::string_view path) const;
  // The entry `path` names after following symlinks in every component (absolute targets from
  // the image root, relative ones from the link's directory), or nullopt when it does not exist or
  // the links loop or the walk exceeds a kernel's bounds (40 links, 4096-byte paths) or 4096
  // components and 256 KiB of lookups, which keeps hostile chains of links cheap. The string is
  // the resolved path.
  std::optional<std::pair<std::string, ViewEntry>> Resolve(std::string_view path) const;
  // Where a runtime that follows symlinked directories when it applies a layer (umoci, podman)
  // puts an entry at `path`: its parent directories resolved as Resolve does, a missing tail kept
  // as it is, the last component not followed. nullopt when the links loop.
  std::optional<std::string> WritePath(std::string_view path) const;

  const std::map<std::string, ViewEntry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, ViewEntry, std::less<>> entries_;
};

// The bottom layer of every image of `debian_arch`, laid out as Debian's: the merged-/usr links
// (/bin, /sbin, /lib and, on 64-bit x86, /lib64 into /usr), the top-level directories, /tmp,
// /var/tmp and /run/lock (1777), the links /var/run -> /run and /var/lock -> /run/lock, /root
// (0700) and the dpkg database directory. Its timestamps are 0: it is the same in every image of
// that arch.
std::vector<oci::LayerEntry> SkeletonEntries(std::string_view debian_arch);

// One package's layer, for the checks across packages.
struct StackedPackage {
  std::string name;
  const std::vector<std::pair<std::string, ViewEntry>>* entries = nullptr;
};

// Adds the package layers to `view` (the skeleton) in order, checking the final tree the way a
// runtime unpacks it. Each layer is built from its package alone, so these checks can only be made
// here. kIntegrity error, naming the packages and the path, when
//  - two packages ship one path differently (type, mode, content or link target): dpkg refuses
//    that too; identical files, links and any directories may be shared;
//  - a package ships anything but a directory over a skeleton entry (/usr/bin, the merged-/usr
//    links), or anything over a skeleton link;
//  - an entry lies below a symbolic link or a file of the final tree (the links of every package
//    and of the skeleton): umoci and podman follow such a link and would put the entry wherever
//    it points (`usr/lib/x -> /usr/bin` then `usr/lib/x/sh` gives /usr/bin/sh), past the checks
//    made on the path it was shipped at. No bookworm package of the examples ships through one.
Result<void> StackPackages(const std::vector<StackedPackage>& packages, ImageView& view);

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
  // About the packages, not the spec, one line each (a build warns with them, --strict or not):
  // per package, the lines of its setup that were not understood or could not be applied.
  std::vector<std::string> warnings;
};

// The image's own files, in this order (a later one at the same path wins, but for the packages'
// setup, which never replaces what hardbase writes):
//  - what the packages' maintainer scripts would have set up (PackageFacts::setup, the packages in
//    name order, applied with ApplySetup): their service users and groups, directories, links,
//    owners and modes, under the hardening policy as package files are (HardenedMode; nothing at
//    a shell path, an OCI whiteout name or a path hardbase writes itself: left out with a
//    warning);
//  - the spec's `dirs:` (each a directory with its owner and mode, as `install -d -o -g -m`),
//    owners looked up among base-passwd's, the spec's and the packages' accounts; a path below a
//    symbolic link, over a package's file or where hardbase writes is a kSpec error naming the
//    entry;
//  - /etc/passwd and /etc/group from all those accounts (run-as must name one of their users, or
//    be root or a number: kSpec error otherwise), /etc/nsswitch.conf, the spec users' homes;
//  - the CA bundle and its hash links, the Java truststore (when the image has
//    ca-certificates-java), update-alternatives links whose targets exist;
//  - the debug variant's /usr/bin/sh -> busybox and busybox applet links (DebugApplets) where no
//    package has put anything;
//  - the spec's `files:`.
// `view` holds the layers below; missing parent directories are added.
// An alternative's link is put where a runtime would write it (through /bin -> usr/bin); one at a
// shell path (or whose target resolves to one) is dropped with a warning; a link that is not a
// normalised absolute path, or that would replace a file hardbase generates (accounts, CA bundle,
// Java truststore, os-release, the dpkg database, /etc/alternatives, any entry of the top layer or
// below) is a kIntegrity error naming the package, and so are more than 1024 alternative names.
// Any entry of this layer below a symbolic link of the layers under it is a kIntegrity error too
// (the runtime would write it elsewhere).
Result<TopLayer> TopLayerEntries(const TopLayerInputs& inputs, const ImageView& view);

// Files hardbase writes itself (the account files, os-release, the CA bundle, the Java
// truststore) and the trees it alone manages (/var/lib/dpkg, /etc/alternatives), whatever the
// image holds: no package's alternative or setup, and no `dirs:` entry, may put anything there.
bool IsGeneratedPath(std::string_view path);

// The busybox applets `variant: debug` links into /usr/bin (-> busybox) where no package has put
// anything, beside /usr/bin/sh: the core utilities, each checked against Debian bookworm's
// `busybox --list`.
std::span<const std::string_view> DebugApplets();

// One line per package (in the given order) and interpreter, for the scripts a package ships
// (PackageFacts::interpreters) whose `#!` interpreter is not an executable file of `view` (for
// "/usr/bin/env NAME", env or NAME on the spec's PATH): "postgresql-15: 3 scripts need
// /usr/bin/perl, which the image does not have: /usr/lib/postgresql/15/bin/pg_ctlcluster, ...".
// Warnings about packages, not about the spec: such a script fails with a misleading error
// ("No such file or directory", "popen failure") when something runs it.
std::vector<std::string> MissingInterpreterWarnings(const std::vector<std::string>& packages,
                                                    const std::vector<PackageFacts>& facts,
                                                    const spec::ImageSpec& spec,
                                                    const ImageView& view);

// kSpec error when the image would not start: the entrypoint (or, without one, cmd's program) is
// not an executable regular file in `view` (a bare name is looked up in the spec's PATH), or the
// working directory is missing.
Result<void> CheckStartable(const spec::ImageSpec& spec, const ImageView& view);

}  // namespace hardbase::image
