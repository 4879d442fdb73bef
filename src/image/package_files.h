// What one package contributes to an image: its files as the image holds them, and the facts the
// image-wide steps need from it.
//
// A package's files go through, in order: the move to Debian's layout (files under /bin, /sbin,
// /lib, /lib64, ... are stored under /usr, as bookworm's bootstrap would have them, and those under
// /var/run and /var/lock under /run and /run/lock, where those links of the skeleton lead), the
// path filter (the spec's `paths:` plus the default strip of documentation, man and info pages and
// locales, keeping every /usr/share/doc/<pkg>/copyright; of a few packages only named files are
// kept, e.g. libc-bin's C.UTF-8 locale), and the hardening policy (no shells, no setuid/setgid
// bits, nothing world-writable but the sticky /tmp, /var/tmp and /run/lock). The package's
// scanner-visible records
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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "deb/deb_archive.h"
#include "image/alternatives.h"
#include "image/elf_machine.h"
#include "image/path_glob.h"
#include "image/setup_actions.h"
#include "image/truststore.h"
#include "oci/layer.h"
#include "spec/image_spec.h"

namespace hardbase::image {

// Packages an image never contains, whatever depends on them: package managers, shells, and
// tools to change users or privileges. Returns why `package` is left out, or nullopt if it may
// ship. The debug variant keeps busybox (its shell for troubleshooting); the dev variant leaves
// out nothing.
std::optional<std::string_view> HardeningExclusion(std::string_view package, spec::Variant variant);

// Every package HardeningExclusion leaves out of a `variant` image, sorted. The resolver leaves
// them out of the closure (deb::ResolveRequest::leave_out), and so what only they depend on too.
std::vector<std::string> HardeningExclusions(spec::Variant variant);

// The mode the hardening policy leaves to an entry of `type` at image path `path`: no setuid or
// setgid bit, and neither world-writable nor sticky but for the directories /tmp, /var/tmp and
// /run/lock (1777 in Debian); a symbolic link's is kept.
uint32_t HardenedMode(std::string_view path, oci::LayerEntryType type, uint32_t mode);

// Whether `path` (merged-/usr, normalised) is where a shell lives: no image but a dev one has
// anything there (FilePolicy::dev_variant).
bool IsShellPath(std::string_view path);

// Which package files an image keeps (see the header comment).
struct FilePolicy {
  std::vector<PathGlob> include;  // the spec's `paths.include`
  std::vector<PathGlob> exclude;  // the spec's `paths.exclude`
  // The dev variant's policy (a build stage): what lies at shell paths (IsShellPath) stays, and
  // packages other images keep only in part (libc-bin) are kept whole, ldconfig included;
  // setuid/setgid bits are cleared all the same.
  bool dev_variant = false;

  // A digest of the policy (and of the packages kept only in part), for layer cache keys.
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
  // The executable files the image keeps that start with "#!" (at most 1000), each with the
  // interpreter its first line names: "/usr/bin/perl", or "/usr/bin/env python3" for env. The
  // build warns about those the image lacks (image::MissingInterpreterWarnings).
  std::vector<std::pair<std::string, std::string>> interpreters;
  // What the package's maintainer scripts would have set up (image/setup_actions.h), read from its
  // preinst, its /usr/lib/sysusers.d/*.conf, its /usr/lib/tmpfiles.d/*.conf (each in name order)
  // and its postinst, in that order (a few packages' scripts are not read: what they set up, the
  // image gets otherwise); and the lines of those that were not understood, for the build's
  // warning.
  std::vector<SetupAction> setup;
  std::vector<NotApplied> not_applied;
  // The contents of the package's own regular files that its setup copies or changes the owner or
  // mode of (what lies below a directory changed recursively too), by image path, at most 4 MiB in
  // all: image::ApplySetup can only put a file again when it knows its content.
  std::map<std::string, std::string> setup_files;
  // The package's ELF files the image keeps (executables, libraries, objects), each with its
  // header's identity: the build checks them against the image's architecture
  // (image::CheckElfMachines) without reading the package again.
  std::vector<ElfFile> elf_files;
  // What dpkg's own database records of the package (the dev variant writes it, see
  // image/dpkg_database.h): the package's own paths of every entry that shipped (as in the .deb,
  // before the move to the image's layout), in the .deb's order; the md5sums of what shipped (as
  // status.d/<name>.md5sums); and the control files dpkg keeps beside them (maintainer scripts,
  // conffiles, triggers, shlibs, symbols, templates) by name.
  std::vector<std::string> dpkg_paths;
  std::string md5sums;
  std::map<std::string, std::string> dpkg_control;
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

// Where the image stores a package path: its merged-/usr location, and "/var/run/x" -> "/run/x",
// "/var/lock/x" -> "/run/lock/x" (the skeleton's links lead there, as in Debian).
std::string ImagePath(std::string_view path);

}  // namespace hardbase::image
