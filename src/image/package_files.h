// What one package contributes to an image: its files as the image holds them, and the facts the
// image-wide steps need from it.
//
// A package's files go through, in order: the merged-/usr move (files under /bin, /sbin, /lib,
// /lib64, ... are stored under /usr, as bookworm's bootstrap would have them), the path filter (the
// spec's `paths:` plus the default strip of documentation, man and info pages and locales, keeping
// every /usr/share/doc/<pkg>/copyright), and the hardening policy (no shells, no setuid/setgid
// bits, nothing world-writable but /tmp). The package's scanner-visible records
// /var/lib/dpkg/status.d/<name> and <name>.md5sums are added, listing exactly what shipped; a
// package shipping anything but directories under /var/lib/dpkg itself is refused (it could hide
// itself from scanners or claim packages the image does not hold).
//
// The result depends on nothing but the package's bytes, the policy and the clamp time, so the
// same package gives the same layer in every image: that is what lets layers be shared and cached.
// What depends on the other packages (one overwriting another's file, a path below another's
// directory symlink) is checked when the layers are stacked: image::StackPackages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/deb_archive.h"
#include "image/alternatives.h"
#include "image/path_glob.h"
#include "image/truststore.h"
#include "oci/layer.h"
#include "spec/image_spec.h"

namespace hardbase::image {

// Packages an image never contains, whatever depends on them: package managers, shells, and
// tools to change users or privileges. Returns why `package` is left out, or nullopt if it may
// ship. The debug variant keeps busybox (its shell for troubleshooting).
std::optional<std::string_view> HardeningExclusion(std::string_view package, spec::Variant variant);

// Whether `path` (merged-/usr, normalised) is where a shell lives: no image has anything there.
bool IsShellPath(std::string_view path);

// Which package files an image keeps (see the header comment).
struct FilePolicy {
  std::vector<PathGlob> include;  // the spec's `paths.include`
  std::vector<PathGlob> exclude;  // the spec's `paths.exclude`

  // A digest of the policy, for layer cache keys.
  std::string Digest() const;
};

// Compiles the spec's `paths:` globs (kSpec error naming the bad pattern).
Result<FilePolicy> MakeFilePolicy(const spec::PathFilter& paths);

// Facts from a package that the image-wide steps use; kept with a cached layer so a cached build
// need not read the package again.
struct PackageFacts {
  std::vector<CaCertificateFile> ca_certificates;   // /usr/share/ca-certificates/**
  std::optional<std::string> ca_certificates_conf;  // /etc/ca-certificates.conf
  std::optional<std::string> passwd_master;         // base-passwd's masters
  std::optional<std::string> group_master;
  std::vector<Alternative> alternatives;  // from .jinfo files and the postinst
  // What the SBOM says of the package: its status.d stanza (Maintainer, Depends, Source, ...) and
  // its /usr/share/doc/<package>/copyright (for the declared licences), when it ships one.
  std::string status;
  std::optional<std::string> copyright;
  std::optional<std::string> os_release;  // /usr/lib/os-release (base-files): the SBOM's distro
};

struct PackageFiles {
  std::vector<oci::LayerEntry> entries;  // image paths, unsorted
  PackageFacts facts;
  // How often each of the policy's include/exclude globs matched one of this package's paths.
  std::vector<uint64_t> include_hits;
  std::vector<uint64_t> exclude_hits;
  uint64_t stripped = 0;            // files left out by the path filter or the hardening policy
  uint64_t privileges_cleared = 0;  // entries whose setuid/setgid/world-writable bits were cleared
};

// `package` names the package (status.d file name and messages); every mtime is clamped to
// `clamp_epoch`. kSpec/kIntegrity errors name the package and the entry.
Result<PackageFiles> PackageLayerFiles(const deb::DebContents& deb, std::string_view package,
                                       const FilePolicy& policy, int64_t clamp_epoch);

// The merged-/usr location of a package path: "/lib/x/y" -> "/usr/lib/x/y", "/bin" -> "/usr/bin";
// other paths unchanged.
std::string MergedUsrPath(std::string_view path);

}  // namespace hardbase::image
