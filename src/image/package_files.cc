#include "image/package_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "base/sha256.h"
#include "image/dpkg_db.h"

namespace hardbase::image {
namespace {

// Top-level directories that merged-/usr turns into symlinks into /usr.
constexpr std::array<std::string_view, 7> kMergedDirs = {"/bin",   "/sbin",   "/lib",   "/lib32",
                                                         "/lib64", "/libx32", "/libo32"};

// What the builder strips from every package by default: documentation, man and info pages,
// locales and packaging-tool data. kDefaultKeep wins over it: the licence of every package stays.
constexpr std::array<std::string_view, 9> kDefaultStrip = {
    "/usr/share/doc/**",      "/usr/share/man/**",     "/usr/share/info/**",
    "/usr/share/locale/**",   "/usr/share/lintian/**", "/usr/share/linda/**",
    "/usr/share/doc-base/**", "/usr/share/gtk-doc/**", "/usr/share/bug/**"};
constexpr std::string_view kDefaultKeep = "/usr/share/doc/*/copyright";

// Where the image's package database lives (status.d, written by PackageLayerFiles).
constexpr std::string_view kDpkgDatabase = "/var/lib/dpkg/";

// Shells by their merged-/usr path: never in an image, whichever package ships them.
constexpr std::array<std::string_view, 12> kShellPaths = {
    "/usr/bin/sh",  "/usr/bin/bash", "/usr/bin/rbash", "/usr/bin/dash",
    "/usr/bin/zsh", "/usr/bin/ksh",  "/usr/bin/ksh93", "/usr/bin/mksh",
    "/usr/bin/csh", "/usr/bin/tcsh", "/usr/bin/fish",  "/usr/bin/sash"};

struct Exclusion {
  std::string_view package;
  std::string_view why;
};
constexpr std::array<Exclusion, 23> kExcludedPackages = {{
    {"adduser", "changes users"},
    {"apt", "package manager"},
    {"apt-utils", "package manager"},
    {"aptitude", "package manager"},
    {"bash", "shell"},
    {"busybox", "shell"},
    {"busybox-static", "shell"},
    {"csh", "shell"},
    {"dash", "shell"},
    {"debconf", "package configuration"},
    {"debconf-i18n", "package configuration"},
    {"dpkg", "package manager"},
    {"fish", "shell"},
    {"ksh", "shell"},
    {"ksh93u+m", "shell"},
    {"login", "changes users"},
    {"mksh", "shell"},
    {"passwd", "changes users"},
    {"sash", "shell"},
    {"sudo", "changes privileges"},
    {"tcsh", "shell"},
    {"toybox", "shell"},
    {"zsh", "shell"},
}};

const std::vector<PathGlob>& DefaultStrip() {
  static const std::vector<PathGlob> globs = [] {
    std::vector<PathGlob> out;
    for (auto p : kDefaultStrip) out.push_back(*PathGlob::Compile(p));
    return out;
  }();
  return globs;
}

const PathGlob& DefaultKeep() {
  static const PathGlob glob = *PathGlob::Compile(kDefaultKeep);
  return glob;
}

std::string_view Parent(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string_view("/")
                                                       : path.substr(0, slash);
}

oci::LayerEntryType ToLayerType(deb::EntryType type) {
  switch (type) {
    case deb::EntryType::kFile:
      return oci::LayerEntryType::kFile;
    case deb::EntryType::kDirectory:
      return oci::LayerEntryType::kDirectory;
    case deb::EntryType::kSymlink:
      return oci::LayerEntryType::kSymlink;
    case deb::EntryType::kHardlink:
      return oci::LayerEntryType::kHardlink;
  }
  return oci::LayerEntryType::kFile;
}

// Counts the globs of `globs` that match the package path or the image path.
bool MatchAny(const std::vector<PathGlob>& globs, std::string_view package_path,
              std::string_view image_path, std::vector<uint64_t>& hits) {
  bool any = false;
  for (size_t i = 0; i < globs.size(); ++i) {
    if (globs[i].Matches(package_path) || globs[i].Matches(image_path)) {
      ++hits[i];
      any = true;
    }
  }
  return any;
}

bool IsJinfo(std::string_view path) {
  return Parent(path) == "/usr/lib/jvm" && path.substr(13).starts_with(".") &&
         path.ends_with(".jinfo");
}

}  // namespace

std::optional<std::string_view> HardeningExclusion(std::string_view package,
                                                   spec::Variant variant) {
  if (variant == spec::Variant::kDebug && package == "busybox") return std::nullopt;
  for (const auto& e : kExcludedPackages) {
    if (e.package == package) return e.why;
  }
  return std::nullopt;
}

bool IsShellPath(std::string_view path) {
  return std::find(kShellPaths.begin(), kShellPaths.end(), path) != kShellPaths.end();
}

std::string FilePolicy::Digest() const {
  std::string text = "include\n";
  for (const auto& g : include) text += g.pattern() + "\n";
  text += "exclude\n";
  for (const auto& g : exclude) text += g.pattern() + "\n";
  return Sha256Hex(text);
}

Result<FilePolicy> MakeFilePolicy(const spec::PathFilter& paths) {
  FilePolicy policy;
  for (const auto& p : paths.include) {
    HB_TRY(PathGlob g, WithContext(PathGlob::Compile(p), "paths.include"));
    policy.include.push_back(std::move(g));
  }
  for (const auto& p : paths.exclude) {
    HB_TRY(PathGlob g, WithContext(PathGlob::Compile(p), "paths.exclude"));
    policy.exclude.push_back(std::move(g));
  }
  return policy;
}

std::string MergedUsrPath(std::string_view path) {
  for (auto dir : kMergedDirs) {
    if (path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/')) {
      return "/usr" + std::string(path);
    }
  }
  return std::string(path);
}

Result<PackageFiles> PackageLayerFiles(const deb::DebContents& deb, std::string_view package,
                                       const FilePolicy& policy, int64_t clamp_epoch) {
  auto where = [&](std::string_view path) { return fmt::format("package {}: {}", package, path); };
  PackageFiles out;
  out.include_hits.assign(policy.include.size(), 0);
  out.exclude_hits.assign(policy.exclude.size(), 0);
  std::vector<uint64_t> ignored(DefaultStrip().size(), 0);

  // Each entry at its image path; `keep` decided by the filter and the hardening policy.
  struct Item {
    const deb::DataEntry* entry;
    std::string path;
    bool keep;
  };
  std::vector<Item> items;
  std::unordered_map<std::string, size_t> by_path;
  int64_t newest = 0;
  for (const auto& e : deb.data) {
    newest = std::max(newest, e.mtime);
    std::string path = MergedUsrPath(e.path);
    // The scanner-visible database is written from what shipped: a package's own records there
    // could hide it, or claim packages the image does not hold.
    if (path.starts_with(kDpkgDatabase) && e.type != deb::EntryType::kDirectory) {
      return Fail(ErrorCode::kIntegrity,
                  where(e.path) + ": the package database is hardbase's to write: refused");
    }
    if (auto it = by_path.find(path); it != by_path.end()) {
      // A directory shipped both under / and under /usr is one directory after the merge.
      if (e.type == deb::EntryType::kDirectory &&
          items[it->second].entry->type == deb::EntryType::kDirectory) {
        continue;
      }
      return Fail(ErrorCode::kIntegrity, where(e.path) + ": ships " + path +
                                             " twice (once under /usr): cannot merge /usr");
    }
    bool user_include = MatchAny(policy.include, e.path, path, out.include_hits);
    bool user_exclude = MatchAny(policy.exclude, e.path, path, out.exclude_hits);
    bool stripped = MatchAny(DefaultStrip(), e.path, path, ignored);
    bool doc_link = e.type == deb::EntryType::kSymlink && Parent(path) == "/usr/share/doc";
    bool keep =
        user_include || DefaultKeep().Matches(path) || doc_link || !(user_exclude || stripped);
    if (IsShellPath(path)) keep = false;
    by_path.emplace(path, items.size());
    items.push_back({&e, std::move(path), keep});
  }

  // A kept entry keeps its package's parent directories, even those the filter matched
  // (/usr/share/doc/<pkg> for its copyright).
  for (auto& item : items) {
    if (!item.keep) continue;
    for (std::string_view p = Parent(item.path); p != "/"; p = Parent(p)) {
      auto it = by_path.find(std::string(p));
      if (it == by_path.end() || items[it->second].keep) continue;
      items[it->second].keep = true;
    }
  }

  int64_t clamp = std::min(newest, clamp_epoch);
  std::vector<ShippedFile> shipped;
  for (const auto& item : items) {
    const deb::DataEntry& e = *item.entry;
    if (!item.keep) {
      if (e.type != deb::EntryType::kDirectory) ++out.stripped;
      continue;
    }
    oci::LayerEntry le;
    le.path = item.path;
    le.type = ToLayerType(e.type);
    le.mode = e.mode;
    le.uid = e.uid;
    le.gid = e.gid;
    le.mtime = std::min(e.mtime, clamp_epoch);
    le.link_target = e.link_target;
    le.content = e.content;
    if (e.type == deb::EntryType::kHardlink) {
      std::string target = MergedUsrPath(e.link_target);
      auto it = by_path.find(target);
      if (it == by_path.end()) {
        return Fail(ErrorCode::kIntegrity, where(e.path) + ": hard link to unknown " + target);
      }
      const Item& t = items[it->second];
      le.content = t.entry->content;
      if (t.keep) {
        le.link_target = target;
      } else {  // its target was filtered out: ship the content as a file of its own
        le.type = oci::LayerEntryType::kFile;
        le.link_target.clear();
      }
    }
    if (le.type != oci::LayerEntryType::kSymlink) {
      uint32_t cleared = le.mode & ~uint32_t{06000};
      if (le.path != "/tmp" && (cleared & 02)) cleared &= ~uint32_t{01002};
      if (cleared != le.mode) ++out.privileges_cleared;
      le.mode = cleared;
    }
    if (e.type == deb::EntryType::kFile || e.type == deb::EntryType::kHardlink) {
      std::string_view content = le.content ? std::string_view(*le.content) : std::string_view();
      shipped.push_back({e.path, content});
      if (item.path.starts_with("/usr/share/ca-certificates/") && e.type == deb::EntryType::kFile &&
          item.path.ends_with(".crt")) {
        out.facts.ca_certificates.push_back(
            {item.path.substr(std::string_view("/usr/share/ca-certificates/").size()),
             std::string(content)});
      }
    }
    out.entries.push_back(std::move(le));
  }

  // Facts read whether or not the filter kept the file: they describe the package, not the image.
  for (const auto& item : items) {
    const deb::DataEntry& e = *item.entry;
    if (e.type != deb::EntryType::kFile || !e.content) continue;
    if (item.path == "/etc/ca-certificates.conf") out.facts.ca_certificates_conf = *e.content;
    if (item.path == "/usr/share/base-passwd/passwd.master") out.facts.passwd_master = *e.content;
    if (item.path == "/usr/share/base-passwd/group.master") out.facts.group_master = *e.content;
    if (item.path == "/usr/lib/os-release") out.facts.os_release = *e.content;
    if (item.path == fmt::format("/usr/share/doc/{}/copyright", package)) {
      out.facts.copyright = *e.content;
    }
    if (IsJinfo(item.path)) {
      HB_TRY(auto alts, WithContext(ParseJinfo(*e.content), where(item.path)));
      out.facts.alternatives.insert(out.facts.alternatives.end(), alts.begin(), alts.end());
    }
  }
  if (auto it = deb.control_files.find("postinst"); it != deb.control_files.end()) {
    auto alts = ParsePostinstAlternatives(it->second);
    out.facts.alternatives.insert(out.facts.alternatives.end(), alts.begin(), alts.end());
  }

  // The scanner-visible record of what shipped.
  auto control = deb.control_files.find("control");
  if (control == deb.control_files.end()) {
    return Fail(ErrorCode::kIntegrity, fmt::format("package {}: no control file", package));
  }
  HB_TRY(std::string stanza,
         WithContext(StatusStanza(control->second), fmt::format("package {}", package)));
  out.facts.status = stanza;
  std::string status_dir = "/var/lib/dpkg/status.d/";
  for (auto [name, text] : {std::pair{std::string(package), std::move(stanza)},
                            std::pair{std::string(package) + ".md5sums", Md5sums(shipped)}}) {
    oci::LayerEntry le;
    le.path = status_dir + name;
    le.mode = 0644;
    le.mtime = clamp;
    le.content = std::make_shared<const std::string>(std::move(text));
    out.entries.push_back(std::move(le));
  }
  return out;
}

}  // namespace hardbase::image
