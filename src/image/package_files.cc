#include "image/package_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "base/sha256.h"
#include "base/strings.h"
#include "image/dpkg_database.h"
#include "image/dpkg_db.h"
#include "image/maintainer_script.h"
#include "image/sysusers.h"
#include "image/tmpfiles.h"

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

// Directories that may stay world-writable, as in Debian: each is sticky (1777), so one user
// cannot remove another's files there.
constexpr std::array<std::string_view, 3> kSharedTempDirs = {"/tmp", "/var/tmp", "/run/lock"};

// Where Debian's /var/run and /var/lock point (the image skeleton has those links): what a package
// ships below them is stored at the target, as a runtime would put it through the link.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kRuntimeDirLinks = {
    {{"/var/run", "/run"}, {"/var/lock", "/run/lock"}}};

// Packages of which an image keeps only a few files, whatever else they ship (the spec's
// `paths.include` can still add files back). libc-bin is wanted for its C.UTF-8 locale, which
// postgres, python and others expect; its tools (ldconfig, iconv, locale, getent...) are for
// building and administering a system, not for running a service.
struct KeepOnly {
  std::string_view package;
  std::array<std::string_view, 2> globs;
};
constexpr std::array<KeepOnly, 1> kKeepOnly = {{
    {"libc-bin", {"/usr/lib/locale/C.utf8/**", "/usr/share/doc/libc-bin/copyright"}},
}};

// Where packages ship their sysusers.d(5) and tmpfiles.d(5) files (after the merged-/usr move).
constexpr std::string_view kSysusersDir = "/usr/lib/sysusers.d";
constexpr std::string_view kTmpfilesDir = "/usr/lib/tmpfiles.d";

// The most of a package's own file contents its facts keep for its setup
// (PackageFacts::setup_files).
constexpr size_t kMaxSetupFileBytes = size_t{4} << 20;

// Packages whose maintainer scripts are not read for setup (PackageFacts::setup): what their
// postinst sets up, the image gets otherwise. base-passwd's copies its account files, libc-bin's
// installs nsswitch.conf and runs ldconfig, ca-certificates' and ca-certificates-java's build the
// trust stores: hardbase writes those itself (image/image_files.h). base-files' makes /usr/local's
// directories, mail and man links and the dpkg origin, netbase's writes /etc/hosts (a container
// runtime provides it) and /etc/networks, tzdata's points /etc/localtime at the zone debconf was
// told (without it, glibc takes UTC, tzdata's default): nothing a service in a container needs.
constexpr std::array<std::string_view, 7> kScriptsNotRead = {
    "base-files", "base-passwd", "ca-certificates", "ca-certificates-java",
    "libc-bin",   "netbase",     "tzdata"};

// Where the hooks of a running system live (init.d, cron.*, update-motd.d, ...): no container runs
// them, so their interpreters are not checked.
constexpr std::string_view kSystemHooks = "/etc/";

// Scripts whose `#!` line a package's facts record at most (the rest are not checked): the
// largest bookworm packages ship a few hundred.
constexpr size_t kMaxInterpreterScripts = 1000;

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
constexpr std::array<Exclusion, 24> kExcludedPackages = {{
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
    // Its maintainer script would convert a system to merged /usr, which every image already is.
    {"usrmerge", "converts to merged /usr"},
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

// The compiled globs of the files of `package` an image keeps, or nullptr when it keeps them all.
const std::vector<PathGlob>* KeepOnlyGlobs(std::string_view package) {
  static const std::vector<std::vector<PathGlob>> compiled = [] {
    std::vector<std::vector<PathGlob>> out;
    for (const auto& k : kKeepOnly) {
      std::vector<PathGlob> globs;
      for (auto g : k.globs) globs.push_back(*PathGlob::Compile(g));
      out.push_back(std::move(globs));
    }
    return out;
  }();
  for (size_t i = 0; i < kKeepOnly.size(); ++i) {
    if (kKeepOnly[i].package == package) return &compiled[i];
  }
  return nullptr;
}

bool IsSharedTempDir(std::string_view path) {
  return std::find(kSharedTempDirs.begin(), kSharedTempDirs.end(), path) != kSharedTempDirs.end();
}

// The interpreter a script's `#!` line names, as the kernel reads it (the first 256 bytes, the
// first word after "#!"), with the program `env` is asked to find ("/usr/bin/env python3");
// nullopt when `content` does not start with "#!" or names no absolute path.
std::optional<std::string> ScriptInterpreter(std::string_view content) {
  if (!content.starts_with("#!")) return std::nullopt;
  std::string_view line = content.substr(2, 254);
  line = line.substr(0, line.find('\n'));
  std::vector<std::string_view> w = Words(line);
  if (w.empty() || !w[0].starts_with("/")) return std::nullopt;
  std::string interpreter(w[0]);
  if (interpreter.ends_with("/env")) {
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i].starts_with("-") || w[i].find('=') != std::string_view::npos) continue;
      interpreter += " " + std::string(w[i]);
      break;
    }
  }
  return interpreter;
}

// Whether `path` is a "*.conf" file right in `dir`.
bool IsConfIn(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() + 1 && path.starts_with(dir) && path[dir.size()] == '/' &&
         path.find('/', dir.size() + 1) == std::string_view::npos && path.ends_with(".conf");
}

// The contents of the regular files of `entries` (a package's, at image paths) that `setup`
// copies or changes the owner or mode of, or that lie below a directory it changes recursively
// (PackageFacts::setup_files), at most kMaxSetupFileBytes in all.
std::map<std::string, std::string> SetupFiles(const std::vector<SetupAction>& setup,
                                              const std::vector<oci::LayerEntry>& entries) {
  std::set<std::string, std::less<>> named, trees;
  for (const auto& a : setup) {
    using Kind = SetupAction::Kind;
    if (a.kind != Kind::kCopy && a.kind != Kind::kChown && a.kind != Kind::kChmod) continue;
    std::string path = ImagePath(a.kind == Kind::kCopy ? a.target : a.path);
    (a.recursive ? trees : named).insert(std::move(path));
  }
  std::map<std::string, std::string> out;
  if (named.empty() && trees.empty()) return out;
  size_t bytes = 0;
  for (const auto& e : entries) {
    if (e.type != oci::LayerEntryType::kFile || !e.content) continue;
    bool wanted = named.count(e.path) > 0 || trees.count(e.path) > 0;
    for (std::string_view p = Parent(e.path); !wanted && !trees.empty() && p != "/";
         p = Parent(p)) {
      wanted = trees.count(p) > 0;
    }
    if (!wanted || bytes + e.content->size() > kMaxSetupFileBytes) continue;
    bytes += e.content->size();
    out.emplace(e.path, *e.content);
  }
  return out;
}

bool IsJinfo(std::string_view path) {
  return Parent(path) == "/usr/lib/jvm" && path.substr(13).starts_with(".") &&
         path.ends_with(".jinfo");
}

}  // namespace

std::optional<std::string_view> HardeningExclusion(std::string_view package,
                                                   spec::Variant variant) {
  if (variant == spec::Variant::kDev) return std::nullopt;
  if (variant == spec::Variant::kDebug && package == "busybox") return std::nullopt;
  for (const auto& e : kExcludedPackages) {
    if (e.package == package) return e.why;
  }
  return std::nullopt;
}

std::vector<std::string> HardeningExclusions(spec::Variant variant) {
  std::vector<std::string> out;
  for (const auto& e : kExcludedPackages) {
    if (HardeningExclusion(e.package, variant)) out.emplace_back(e.package);
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t HardenedMode(std::string_view path, oci::LayerEntryType type, uint32_t mode) {
  if (type == oci::LayerEntryType::kSymlink) return mode;
  uint32_t out = mode & ~uint32_t{06000};
  bool shared_temp = type == oci::LayerEntryType::kDirectory && IsSharedTempDir(path);
  if (!shared_temp && (out & 02)) out &= ~uint32_t{01002};
  return out;
}

bool IsShellPath(std::string_view path) {
  return std::find(kShellPaths.begin(), kShellPaths.end(), path) != kShellPaths.end();
}

std::string FilePolicy::Digest() const {
  std::string text = "keep-only\n";
  for (const auto& k : kKeepOnly) {
    text += std::string(k.package) + "\n";
    for (auto g : k.globs) text += std::string(g) + "\n";
  }
  text += "scripts-not-read\n";
  for (auto p : kScriptsNotRead) text += std::string(p) + "\n";
  text += "scripts-not-checked\n" + std::string(kSystemHooks) + "\n";
  text += "include\n";
  for (const auto& g : include) text += g.pattern() + "\n";
  text += "exclude\n";
  for (const auto& g : exclude) text += g.pattern() + "\n";
  if (dev_variant) text += "dev-variant\n";  // only then: standard layers keep their keys
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
    if (IsAtOrBelow(path, dir)) {
      return "/usr" + std::string(path);
    }
  }
  return std::string(path);
}

std::string ImagePath(std::string_view path) {
  for (auto [link, target] : kRuntimeDirLinks) {
    if (IsAtOrBelow(path, link)) {
      return std::string(target) + std::string(path.substr(link.size()));
    }
  }
  return MergedUsrPath(path);
}

Result<PackageFiles> PackageLayerFiles(const deb::DebContents& deb, std::string_view package,
                                       const FilePolicy& policy, int64_t clamp_epoch) {
  auto where = [&](std::string_view path) { return fmt::format("package {}: {}", package, path); };
  PackageFiles out;
  out.include_hits.assign(policy.include.size(), 0);
  out.exclude_hits.assign(policy.exclude.size(), 0);
  std::vector<uint64_t> ignored(DefaultStrip().size(), 0);
  const std::vector<PathGlob>* keep_only = policy.dev_variant ? nullptr : KeepOnlyGlobs(package);
  std::vector<uint64_t> keep_only_hits(keep_only ? keep_only->size() : 0, 0);

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
    // The skeleton has Debian's /var/run and /var/lock links: a package's own link there is the
    // same thing (base-files ships them as directories, which become /run and /run/lock).
    if (e.type == deb::EntryType::kSymlink &&
        std::any_of(kRuntimeDirLinks.begin(), kRuntimeDirLinks.end(),
                    [&](const auto& l) { return e.path == l.first; })) {
      continue;
    }
    std::string path = ImagePath(e.path);
    // The scanner-visible database is written from what shipped: a package's own records there
    // could hide it, or claim packages the image does not hold.
    if (path.starts_with(kDpkgDatabase) && e.type != deb::EntryType::kDirectory) {
      return Fail(ErrorCode::kIntegrity,
                  where(e.path) + ": the package database is hardbase's to write: refused");
    }
    if (auto it = by_path.find(path); it != by_path.end()) {
      // A directory shipped both under / and under /usr (or under /var/run and /run) is one
      // directory in the image.
      if (e.type == deb::EntryType::kDirectory &&
          items[it->second].entry->type == deb::EntryType::kDirectory) {
        continue;
      }
      return Fail(ErrorCode::kIntegrity, where(e.path) + ": ships " + path + " twice (as " +
                                             items[it->second].entry->path +
                                             " too), and the image has one path for both");
    }
    bool user_include = MatchAny(policy.include, e.path, path, out.include_hits);
    bool user_exclude = MatchAny(policy.exclude, e.path, path, out.exclude_hits);
    bool stripped = MatchAny(DefaultStrip(), e.path, path, ignored);
    bool doc_link = e.type == deb::EntryType::kSymlink && Parent(path) == "/usr/share/doc";
    bool keep =
        user_include || DefaultKeep().Matches(path) || doc_link || !(user_exclude || stripped);
    if (keep_only && !user_include && !MatchAny(*keep_only, e.path, path, keep_only_hits)) {
      keep = false;
    }
    if (IsShellPath(path) && !policy.dev_variant) keep = false;
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
      std::string target = ImagePath(e.link_target);
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
    if (uint32_t hardened = HardenedMode(le.path, le.type, le.mode); hardened != le.mode) {
      ++out.privileges_cleared;
      le.mode = hardened;
    }
    if (e.type == deb::EntryType::kFile || e.type == deb::EntryType::kHardlink) {
      std::string_view content = le.content ? std::string_view(*le.content) : std::string_view();
      shipped.push_back({e.path, content});
      if ((le.mode & 0111) != 0 && !le.path.starts_with(kSystemHooks) &&
          out.facts.interpreters.size() < kMaxInterpreterScripts) {
        if (auto interpreter = ScriptInterpreter(content)) {
          out.facts.interpreters.emplace_back(le.path, std::move(*interpreter));
        }
      }
      if (item.path.starts_with("/usr/share/ca-certificates/") && e.type == deb::EntryType::kFile &&
          item.path.ends_with(".crt")) {
        out.facts.ca_certificates.push_back(
            {item.path.substr(std::string_view("/usr/share/ca-certificates/").size()),
             std::string(content)});
      }
    }
    out.facts.dpkg_paths.push_back(e.path);
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
  // What the maintainer scripts would have set up, in the order of a fresh install: the preinst
  // (`preinst install`: some packages make their users there), the sysusers.d and tmpfiles.d files
  // (each in name order, as systemd reads them), then the postinst (`postinst configure`).
  std::vector<std::pair<std::string_view, std::string_view>> sysusers, tmpfiles;  // path, text
  for (const auto& item : items) {
    const deb::DataEntry& e = *item.entry;
    if (e.type != deb::EntryType::kFile || !e.content) continue;
    if (IsConfIn(item.path, kSysusersDir)) sysusers.emplace_back(item.path, *e.content);
    if (IsConfIn(item.path, kTmpfilesDir)) tmpfiles.emplace_back(item.path, *e.content);
  }
  std::sort(sysusers.begin(), sysusers.end());
  std::sort(tmpfiles.begin(), tmpfiles.end());
  auto add_setup = [&](ParsedSetup parsed) {
    auto& f = out.facts;
    f.setup.insert(f.setup.end(), std::make_move_iterator(parsed.actions.begin()),
                   std::make_move_iterator(parsed.actions.end()));
    f.not_applied.insert(f.not_applied.end(), std::make_move_iterator(parsed.not_applied.begin()),
                         std::make_move_iterator(parsed.not_applied.end()));
    f.alternatives.insert(f.alternatives.end(), parsed.alternatives.begin(),
                          parsed.alternatives.end());
  };
  const bool read_scripts =
      std::find(kScriptsNotRead.begin(), kScriptsNotRead.end(), package) == kScriptsNotRead.end();
  auto preinst = deb.control_files.find("preinst");
  if (read_scripts && preinst != deb.control_files.end()) {
    add_setup(
        ParseMaintainerScript(preinst->second, fmt::format("{}: preinst", package), {"install"}));
  }
  for (auto [path, text] : sysusers) {
    add_setup(ParseSysusers(text, fmt::format("{}: {}", package, path)));
  }
  for (auto [path, text] : tmpfiles) {
    add_setup(ParseTmpfiles(text, fmt::format("{}: {}", package, path)));
  }
  auto postinst = deb.control_files.find("postinst");
  if (read_scripts && postinst != deb.control_files.end()) {
    add_setup(ParseMaintainerScript(postinst->second, fmt::format("{}: postinst", package),
                                    {"configure"}));
  }
  out.facts.setup_files = SetupFiles(out.facts.setup, out.entries);
  out.facts.elf_files = ElfFilesOf(out.entries);

  // The scanner-visible record of what shipped.
  auto control = deb.control_files.find("control");
  if (control == deb.control_files.end()) {
    return Fail(ErrorCode::kIntegrity, fmt::format("package {}: no control file", package));
  }
  HB_TRY(std::string stanza,
         WithContext(StatusStanza(control->second), fmt::format("package {}", package)));
  out.facts.status = stanza;
  out.facts.md5sums = Md5sums(shipped);
  for (const auto& [name, text] : deb.control_files) {
    if (IsDpkgInfoControlFile(name)) out.facts.dpkg_control.emplace(name, text);
  }
  std::string status_dir = "/var/lib/dpkg/status.d/";
  for (auto [name, text] : {std::pair{std::string(package), std::move(stanza)},
                            std::pair{std::string(package) + ".md5sums", out.facts.md5sums}}) {
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
