#include "image/image_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <unordered_map>

#include "base/log.h"
#include "base/printable.h"
#include "base/sha256.h"
#include "image/alternatives.h"
#include "image/path_glob.h"
#include "image/setup.h"
#include "image/truststore.h"

namespace hardbase::image {
namespace {

using oci::LayerEntry;
using oci::LayerEntryType;

constexpr int kMaxSymlinkHops = 40;

// The busybox applets the debug variant links into /usr/bin: the core utilities one troubleshoots
// with, each in Debian bookworm's `busybox --list`; none that changes users, mounts or needs
// privileges.
constexpr std::array<std::string_view, 76> kDebugApplets = {
    "[",      "awk",   "basename", "cat",      "chgrp",  "chmod", "chown",    "clear", "cmp",
    "cp",     "cut",   "date",     "dd",       "df",     "diff",  "dirname",  "du",    "echo",
    "egrep",  "env",   "expr",     "false",    "fgrep",  "find",  "free",     "grep",  "gunzip",
    "gzip",   "head",  "hexdump",  "hostname", "id",     "kill",  "less",     "ln",    "ls",
    "md5sum", "mkdir", "mktemp",   "more",     "mv",     "nc",    "nslookup", "od",    "printf",
    "ps",     "pwd",   "readlink", "realpath", "rm",     "rmdir", "sed",      "seq",   "sha256sum",
    "sleep",  "sort",  "stat",     "tail",     "tar",    "tee",   "test",     "top",   "touch",
    "tr",     "true",  "uname",    "uniq",     "uptime", "vi",    "wc",       "wget",  "which",
    "whoami", "xargs", "xxd",      "zcat"};
constexpr std::string_view kJavaTruststore = "/etc/ssl/certs/java/cacerts";

std::string ParentOf(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

LayerEntry Entry(std::string path, LayerEntryType type, uint32_t mode, int64_t mtime,
                 uint32_t uid = 0, uint32_t gid = 0) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.mtime = mtime;
  return e;
}

LayerEntry FileEntry(std::string path, std::string content, int64_t mtime, uint32_t mode = 0644) {
  LayerEntry e = Entry(std::move(path), LayerEntryType::kFile, mode, mtime);
  e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

LayerEntry LinkEntry(std::string path, std::string target, int64_t mtime) {
  LayerEntry e = Entry(std::move(path), LayerEntryType::kSymlink, 0777, mtime);
  e.link_target = std::move(target);
  return e;
}

// What an entry is, for messages: "a file (mode 0644, sha256 0123456789ab)".
std::string Describe(const ViewEntry& e) {
  switch (e.type) {
    case LayerEntryType::kDirectory:
      return fmt::format("a directory (mode {:04o})", e.mode);
    case LayerEntryType::kSymlink:
      return "a symbolic link to " + e.link_target;
    case LayerEntryType::kHardlink:
      return "a hard link to " + e.link_target;
    case LayerEntryType::kFile:
      break;
  }
  return fmt::format("a file (mode {:04o}, sha256 {})", e.mode, e.sha256.substr(0, 12));
}

// "/a/b" without "." or ".." components, empty ones or a trailing slash.
bool IsNormalisedAbsolute(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/' ||
      path.find("//") != std::string_view::npos) {
    return false;
  }
  auto parts = PathComponents(path);
  return std::none_of(parts.begin(), parts.end(),
                      [](std::string_view c) { return c == "." || c == ".."; });
}

// Walks `parts` from the root as the kernel resolves a path, following symlinks (absolute targets
// from the root, relative ones from the link's directory, ".." never above the root) and returns
// the path reached ("" for the root). A missing component ends the walk with nullopt unless
// `missing_ok`, when it and the rest are taken as they are (directories a runtime would create).
// nullopt too when the links loop or the walk exceeds what a kernel resolves (40 links, a path of
// 4096 bytes), or 4096 components or 256 KiB of paths looked up in all: a walk costs at most that
// however hostile the links, and no real path comes near it.
std::optional<std::string> Walk(const ImageView& view, std::vector<std::string_view> parts,
                                bool missing_ok) {
  constexpr size_t kMaxPathBytes = 4096;
  constexpr size_t kMaxSteps = 4096;
  constexpr size_t kMaxLookupBytes = 256 << 10;
  std::vector<std::string_view> pending(parts.rbegin(), parts.rend());  // next at the back
  std::string current;
  bool missing = false;
  int hops = 0;
  size_t steps = 0;
  size_t looked_up = 0;
  while (!pending.empty()) {
    std::string_view c = pending.back();
    pending.pop_back();
    if (++steps > kMaxSteps) return std::nullopt;
    if (c == ".") continue;
    if (c == "..") {
      current.resize(current.empty() ? 0 : current.rfind('/'));
      continue;
    }
    size_t size = current.size();
    current.append("/").append(c);
    looked_up += current.size();
    if (current.size() > kMaxPathBytes || looked_up > kMaxLookupBytes) return std::nullopt;
    const ViewEntry* e = missing ? nullptr : view.Find(current);
    if (!e) {
      if (!missing_ok) return std::nullopt;
      missing = true;
      continue;
    }
    if (e->type != LayerEntryType::kSymlink) continue;
    if (++hops > kMaxSymlinkHops) return std::nullopt;
    current.resize(e->link_target.starts_with("/") ? 0 : size);
    auto target = PathComponents(e->link_target);
    if (pending.size() + target.size() > kMaxSteps) return std::nullopt;
    pending.insert(pending.end(), target.rbegin(), target.rend());
  }
  return current;
}

// The first path of `sorted` (sorted bytewise) strictly below `dir`, or nullptr: paths below a
// directory sort together, right after "dir/".
template <class Sorted, class PathOf>
const std::string* FirstBelow(const Sorted& sorted, std::string_view dir, PathOf path_of) {
  std::string prefix = std::string(dir) + "/";
  typename Sorted::const_iterator it;
  if constexpr (requires { sorted.lower_bound(prefix); }) {
    it = sorted.lower_bound(prefix);  // a map's own: std::lower_bound would walk it, O(n) a call
  } else {
    it =
        std::lower_bound(sorted.begin(), sorted.end(), prefix,
                         [&](const auto& item, const std::string& p) { return path_of(item) < p; });
  }
  if (it == sorted.end() || !path_of(*it).starts_with(prefix)) return nullptr;
  return &path_of(*it);
}

bool IsExecutableFile(const ViewEntry& e) {
  return (e.type == LayerEntryType::kFile || e.type == LayerEntryType::kHardlink) &&
         (e.mode & 0111) != 0;
}

// The spec's PATH (Debian's default when it sets none).
std::string SpecPath(const spec::ImageSpec& spec) {
  auto it = spec.env.find("PATH");
  return it == spec.env.end() ? std::string(spec::kDefaultPath) : it->second;
}

// Whether a bare program name is an executable file in one of `path`'s directories.
bool OnPath(const ImageView& view, std::string_view path, std::string_view program) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view dir = path.substr(i, j - i);
    if (!dir.empty()) {
      auto found = view.Resolve(std::string(dir) + "/" + std::string(program));
      if (found && IsExecutableFile(found->second)) return true;
    }
    i = j + 1;
  }
  return false;
}

// The top layer being built: entries by path, later additions replacing earlier ones.
class LayerBuilder {
 public:
  LayerBuilder(const ImageView& below, int64_t mtime) : below_(below), mtime_(mtime) {}

  void Put(LayerEntry e) {
    std::string path = e.path;
    entries_[path] = std::move(e);
  }
  // Adds `path` unless an image layer below already has it.
  void PutIfAbsent(LayerEntry e) {
    if (!below_.Find(e.path) && !entries_.count(e.path)) Put(std::move(e));
  }
  bool Has(std::string_view path) const {
    return below_.Find(path) != nullptr || entries_.count(std::string(path)) > 0;
  }
  // This layer's own entry at `path` (not one below), or nullptr.
  const LayerEntry* FindOwn(const std::string& path) const {
    auto it = entries_.find(path);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Every entry, with the parent directories that no layer has yet (0755, root).
  std::vector<LayerEntry> Finish() {
    std::vector<std::string> parents;
    for (const auto& [path, e] : entries_) {
      for (std::string p = ParentOf(path); p != "/"; p = ParentOf(p)) {
        if (!Has(p)) parents.push_back(p);
      }
    }
    for (auto& p : parents) Put(Entry(p, LayerEntryType::kDirectory, 0755, mtime_));
    std::vector<LayerEntry> out;
    for (auto& [path, e] : entries_) out.push_back(std::move(e));
    return out;
  }

 private:
  const ImageView& below_;
  int64_t mtime_;
  std::map<std::string, LayerEntry> entries_;
};

Result<void> AddTrustStores(const TopLayerInputs& in, LayerBuilder& layer, const ImageView& view) {
  std::vector<CaCertificateFile> files;
  std::string conf;
  for (const auto& f : in.facts) {
    files.insert(files.end(), f.ca_certificates.begin(), f.ca_certificates.end());
    if (f.ca_certificates_conf) conf = *f.ca_certificates_conf;
  }
  if (files.empty()) return {};
  HB_TRY(auto certs,
         WithContext(ParseCertificates(EnabledCertificates(files, conf)), "CA certificates"));
  layer.Put(FileEntry("/etc/ssl/certs/ca-certificates.crt", CaBundle(certs), in.epoch));
  for (const auto& link : CapathLinks(certs)) {
    layer.PutIfAbsent(LinkEntry("/etc/ssl/certs/" + link.name, link.target, in.epoch));
  }
  bool java = std::find(in.packages.begin(), in.packages.end(), "ca-certificates-java") !=
              in.packages.end();
  for (const auto& [path, e] : view.entries()) {
    if (e.type == LayerEntryType::kSymlink && e.link_target == kJavaTruststore) java = true;
  }
  if (java) {
    layer.Put(
        FileEntry(std::string(kJavaTruststore), JavaKeystore(certs, in.epoch * 1000), in.epoch));
  }
  return {};
}

// The alternatives the packages register (see image_files.h for what is refused).
Result<void> AddAlternatives(const TopLayerInputs& in, LayerBuilder& layer, const ImageView& view) {
  std::vector<Alternative> all;
  for (const auto& f : in.facts)
    all.insert(all.end(), f.alternatives.begin(), f.alternatives.end());
  // The package that registered each alternative, for messages.
  auto key = [](const Alternative& a) {
    return fmt::format("{}\n{}\n{}\n{}", a.link, a.name, a.target, a.priority);
  };
  std::map<std::string, std::string> registered_by;
  for (size_t i = 0; i < in.facts.size() && i < in.packages.size(); ++i) {
    for (const auto& a : in.facts[i].alternatives) registered_by.emplace(key(a), in.packages[i]);
  }
  auto package_of = [&](const Alternative& a) {
    auto it = registered_by.find(key(a));
    return it == registered_by.end() ? std::string("?") : it->second;
  };
  std::vector<Alternative> chosen = ChooseAlternatives(std::move(all));
  // Each one costs a walk of links (see Walk); real images have a few dozen.
  constexpr size_t kMaxAlternatives = 1024;
  if (chosen.size() > kMaxAlternatives) {
    std::map<std::string, size_t> names_of;
    for (const auto& alt : chosen) ++names_of[package_of(alt)];
    auto most = std::max_element(names_of.begin(), names_of.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    return Fail(ErrorCode::kIntegrity,
                fmt::format("package {}: registers {} update-alternatives names, and the image {} "
                            "in all, more than {}: refused",
                            most->first, most->second, chosen.size(), kMaxAlternatives));
  }
  std::set<std::string> links;  // put by an alternative
  for (const auto& alt : chosen) {
    auto what = [&] {
      return fmt::format("package {}: update-alternatives link {} (alternative {} -> {})",
                         package_of(alt), alt.link, alt.name, alt.target);
    };
    auto refuse = [&](std::string_view why) {
      return Fail(ErrorCode::kIntegrity, fmt::format("{}: {}", what(), why));
    };
    if (!IsNormalisedAbsolute(alt.link)) return refuse("not a normalised absolute path");
    if (alt.name.empty() || alt.name.find('/') != std::string::npos || alt.name == "." ||
        alt.name == "..") {
      return refuse("the name is not a file name");
    }
    auto link = view.WritePath(alt.link);
    if (!link) return refuse("its directory is a loop of symbolic links");
    if (IsGeneratedPath(*link)) return refuse("would replace " + *link + ", which hardbase writes");
    auto target = view.Resolve(alt.target);
    if (!target) continue;  // not in the image (filtered out, or of a package left out)
    if (IsShellPath(*link) || IsShellPath(target->first)) {
      LogWarn("{}: left out: an image has no shell", what());
      continue;
    }
    std::string managed = "/etc/alternatives/" + alt.name;
    if (links.count(*link)) {
      LogWarn("{}: left out: {} is already the link of another alternative", what(), *link);
      continue;
    }
    if (view.Find(*link)) continue;  // a package ships the path itself
    if (layer.Has(*link)) return refuse("would replace " + *link + ", which hardbase writes");
    if (layer.Has(managed)) return refuse("would replace " + managed);
    layer.Put(LinkEntry(managed, alt.target, in.epoch));
    layer.Put(LinkEntry(*link, managed, in.epoch));
    links.insert(*link);
  }
  return {};
}

Result<void> AddLocalFiles(const TopLayerInputs& in, const AccountDatabase& db,
                           LayerBuilder& layer) {
  for (const auto& f : in.files) {
    auto context = [&](std::string_view what) {
      return fmt::format("{}: files: {}: {}", f.where, f.path, what);
    };
    auto uid = ResolveUid(db, f.user);
    if (!uid) return Fail(ErrorCode::kSpec, context(uid.error().message));
    // An owner without a group means the user's primary group.
    auto user = db.FindUser(f.user);
    auto gid = !f.group.empty() ? ResolveGid(db, f.group)
               : user           ? Result<uint32_t>(user->gid)
                                : Result<uint32_t>(*uid);
    if (!gid) return Fail(ErrorCode::kSpec, context(gid.error().message));
    uint32_t mode = f.type == LayerEntryType::kSymlink                       ? 0777
                    : f.mode                                                 ? *f.mode
                    : (f.type == LayerEntryType::kDirectory || f.executable) ? 0755
                                                                             : 0644;
    LayerEntry e = Entry(f.path, f.type, mode, in.epoch, *uid, *gid);
    e.link_target = f.link_target;
    e.content = f.content;
    layer.Put(std::move(e));
  }
  return {};
}

// What the packages' setup and the spec's `dirs:` add to the top layer.
struct ImageSetup {
  std::vector<LayerEntry> package_entries;  // hardened as package files are
  std::vector<LayerEntry> dir_entries;      // the spec's, as it asks
  std::vector<std::string> warnings;        // one line per package
};

// "nginx-common: 2 setup lines not applied: postinst:23: touch /var/log/nginx/access.log; ...".
std::string SetupWarning(std::string_view package, const std::vector<std::string>& items) {
  constexpr size_t kListed = 20;
  std::string list;
  for (size_t i = 0; i < items.size() && i < kListed; ++i) list += (i ? "; " : "") + items[i];
  if (items.size() > kListed) list += fmt::format("; and {} more", items.size() - kListed);
  return Printable(fmt::format("{}: {} setup {} not applied: {}", package, items.size(),
                               items.size() == 1 ? "line" : "lines", list));
}

// The spec's `dirs:` as setup actions (a directory, its owner, its mode, as `install -d` makes
// it), checked against the accounts and the image: kSpec error naming the entry.
Result<std::vector<SetupAction>> SpecDirActions(const spec::ImageSpec& spec,
                                                const AccountDatabase& db, const ImageView& view) {
  std::vector<SetupAction> out;
  for (const auto& d : spec.dirs) {
    std::string where = spec.Locate(d.where);
    auto fail = [&](std::string_view why) {
      return Fail(ErrorCode::kSpec, fmt::format("{}: dirs: {}: {}", where, d.path, why));
    };
    constexpr std::string_view kKnown =
        " (the image's users and groups come from base-passwd, accounts and the packages' setup)";
    auto uid = ResolveUid(db, d.user);
    if (!uid) return fail(uid.error().message + std::string(kKnown));
    std::string group = d.group;
    if (group.empty()) {  // a lone user name: its primary group
      auto user = db.FindUser(d.user);
      group = std::to_string(user ? user->gid : *uid);
    }
    auto gid = ResolveGid(db, group);
    if (!gid) return fail(gid.error().message + std::string(kKnown));
    auto written = view.WritePath(d.path);
    if (!written) return fail("its parent directories are a loop of symbolic links");
    if (*written != d.path) {
      return fail(fmt::format("lies below a symbolic link, so the image has it at {}: write that",
                              *written));
    }
    if (IsGeneratedPath(d.path)) return fail("hardbase writes that path itself");
    if (const ViewEntry* e = view.Find(d.path); e && e->type != LayerEntryType::kDirectory) {
      return fail("the image has it as " + Describe(*e) + ", not a directory");
    }
    SetupAction a;
    a.kind = SetupAction::Kind::kDir;
    a.path = d.path;
    a.mode = d.mode;
    a.user = std::to_string(*uid);
    a.owner_group = std::to_string(*gid);
    a.origin = where;
    out.push_back(a);
    a.kind = SetupAction::Kind::kChown;
    out.push_back(a);
    a.kind = SetupAction::Kind::kChmod;
    a.user.clear();
    a.owner_group.clear();
    out.push_back(a);
  }
  return out;
}

// Applies the packages' setup (in package name order) and then the spec's `dirs:` to `db` and
// the layers below (`view`). See TopLayerEntries.
Result<ImageSetup> ApplyImageSetup(const TopLayerInputs& in, AccountDatabase& db,
                                   const ImageView& view) {
  ImageSetup out;
  std::vector<size_t> order(std::min(in.packages.size(), in.facts.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return in.packages[a] < in.packages[b]; });
  std::vector<SetupAction> actions;
  std::vector<NotApplied> not_applied;
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> contents;
  for (size_t i : order) {
    const PackageFacts& f = in.facts[i];
    actions.insert(actions.end(), f.setup.begin(), f.setup.end());
    not_applied.insert(not_applied.end(), f.not_applied.begin(), f.not_applied.end());
    for (const auto& [path, text] : f.setup_files) {
      contents.try_emplace(path, std::make_shared<const std::string>(text));
    }
  }
  ContentLookup lookup = [&](std::string_view path) -> std::shared_ptr<const std::string> {
    auto it = contents.find(path);
    return it == contents.end() ? nullptr : it->second;
  };
  HB_TRY(SetupResult applied,
         WithContext(ApplySetup(actions, not_applied, db, view, in.epoch, lookup),
                     "the packages' setup"));
  std::vector<std::string> left_out;  // paths, named in one warning of their own
  for (auto& e : applied.entries) {
    std::string_view name = std::string_view(e.path).substr(e.path.rfind('/') + 1);
    if (IsGeneratedPath(e.path) || IsShellPath(e.path) || name.starts_with(".wh.")) {
      left_out.push_back(e.path);
      continue;
    }
    e.mode = HardenedMode(e.path, e.type, e.mode);
    out.package_entries.push_back(std::move(e));
  }

  // One warning per package: the lines of its setup that were not understood (and would have
  // run: ApplySetup keeps those whose conditions hold), and the actions that could not be applied.
  // Each starts with its origin, "<package>: ...".
  std::vector<std::string> lines;
  for (const auto& n : applied.not_applied) lines.push_back(n.origin + ": " + n.text);
  lines.insert(lines.end(), applied.warnings.begin(), applied.warnings.end());
  std::map<std::string, std::vector<std::string>, std::less<>> items;
  for (const auto& w : lines) {
    size_t colon = w.find(": ");
    auto it = items.end();
    if (colon != std::string::npos) {
      std::string name = w.substr(0, colon);
      it = items.find(name);
      if (it == items.end() &&
          std::find(in.packages.begin(), in.packages.end(), name) != in.packages.end()) {
        it = items.emplace(name, std::vector<std::string>{}).first;
      }
    }
    if (it == items.end()) {
      out.warnings.push_back(Printable(w));
      continue;
    }
    it->second.push_back(w.substr(colon + 2));
  }
  for (const auto& [package, said] : items) out.warnings.push_back(SetupWarning(package, said));
  if (!left_out.empty()) {
    std::string list;
    for (size_t i = 0; i < left_out.size() && i < 20; ++i) list += (i ? ", " : "") + left_out[i];
    out.warnings.push_back(Printable(fmt::format(
        "the packages' setup would write {} (a shell, a whiteout or a path hardbase writes): "
        "left out",
        list)));
  }

  if (in.spec->dirs.empty()) return out;
  HB_TRY(std::vector<SetupAction> dirs, SpecDirActions(*in.spec, db, view));
  ImageView below = view;
  below.Add(out.package_entries);
  HB_TRY(SetupResult spec_dirs,
         WithContext(ApplySetup(dirs, {}, db, below, in.epoch, lookup), "dirs"));
  if (!spec_dirs.warnings.empty()) return Fail(ErrorCode::kSpec, spec_dirs.warnings.front());
  out.dir_entries = std::move(spec_dirs.entries);
  return out;
}

}  // namespace

bool ViewEntry::SameAs(const ViewEntry& other) const {
  return type == other.type && mode == other.mode && link_target == other.link_target &&
         sha256 == other.sha256;
}

ViewEntry ViewEntryOf(const oci::LayerEntry& e) {
  ViewEntry v{e.type, e.mode, e.link_target};
  if (e.type == LayerEntryType::kFile) v.sha256 = Sha256Hex(e.content ? *e.content : "");
  return v;
}

void ImageView::Add(const std::vector<oci::LayerEntry>& entries) {
  // Without content hashes: only package layers, compared with each other in StackPackages (which
  // get theirs from ViewEntryOf), need them; hashing the skeleton and the top layer is wasted work.
  for (const auto& e : entries) Add(e.path, {e.type, e.mode, e.link_target});
}

void ImageView::Add(const std::string& path, ViewEntry entry) { entries_[path] = std::move(entry); }

const ViewEntry* ImageView::Find(std::string_view path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<std::pair<std::string, ViewEntry>> ImageView::Resolve(std::string_view path) const {
  auto walked = Walk(*this, PathComponents(path), /*missing_ok=*/false);
  if (!walked) return std::nullopt;
  if (walked->empty())
    return std::pair{std::string("/"), ViewEntry{LayerEntryType::kDirectory, 0755, ""}};
  return std::pair{*walked, *Find(*walked)};
}

std::optional<std::string> ImageView::WritePath(std::string_view path) const {
  auto parts = PathComponents(path);
  if (parts.empty()) return std::string("/");
  std::string_view last = parts.back();
  parts.pop_back();
  auto walked = Walk(*this, std::move(parts), /*missing_ok=*/true);
  if (!walked) return std::nullopt;
  return *walked + "/" + std::string(last);
}

Result<void> StackPackages(const std::vector<StackedPackage>& packages, ImageView& view) {
  // Who first put each path into the tree: a package, or "" for the skeleton.
  std::unordered_map<std::string, std::string> owner;
  for (const auto& [path, e] : view.entries()) owner.emplace(path, "");
  auto who = [](const std::string& name) {
    return name.empty() ? std::string("the image skeleton") : "package " + name;
  };
  for (const auto& p : packages) {
    for (const auto& [path, e] : *p.entries) {
      auto [it, first] = owner.emplace(path, p.name);
      const ViewEntry* before = view.Find(path);
      if (!first && before) {
        bool dirs =
            before->type == LayerEntryType::kDirectory && e.type == LayerEntryType::kDirectory;
        if (it->second.empty() && !dirs) {
          return Fail(ErrorCode::kIntegrity,
                      fmt::format("package {} ships {} as {}, where the image skeleton has {}: "
                                  "refused",
                                  p.name, path, Describe(e), Describe(*before)));
        }
        if (!dirs && !before->SameAs(e)) {
          return Fail(ErrorCode::kIntegrity,
                      fmt::format("packages {} and {} both ship {}, as {} and as {}: refused "
                                  "(one package would overwrite the other's file)",
                                  it->second, p.name, path, Describe(*before), Describe(e)));
        }
      }
      view.Add(path, e);
    }
  }
  // Every entry below a link or a file of the final tree, whichever package shipped it.
  const auto key = [](const auto& item) -> const std::string& { return item.first; };
  for (const auto& [dir, d] : view.entries()) {
    if (d.type == LayerEntryType::kDirectory) continue;
    const std::string* below = FirstBelow(view.entries(), dir, key);
    if (!below) continue;
    if (d.type != LayerEntryType::kSymlink) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("{} ships {} below {}, which is {} of {}: refused",
                              who(owner[*below]), *below, dir, Describe(d), who(owner[dir])));
    }
    auto written = view.WritePath(*below);
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{} ships {} below the symbolic link {} -> {} of {}: a runtime would "
                            "write it to {}: refused",
                            who(owner[*below]), *below, dir, d.link_target, who(owner[dir]),
                            written.value_or("(a loop of links)")));
  }
  return {};
}

std::vector<oci::LayerEntry> SkeletonEntries(std::string_view debian_arch) {
  std::vector<LayerEntry> out;
  std::vector<std::string_view> merged = {"bin", "sbin", "lib"};
  if (debian_arch == "amd64") merged.push_back("lib64");
  for (auto dir : {"/etc", "/home", "/run", "/usr", "/var", "/var/lib", "/var/lib/dpkg",
                   "/var/lib/dpkg/status.d"}) {
    out.push_back(Entry(dir, LayerEntryType::kDirectory, 0755, 0));
  }
  out.push_back(Entry("/root", LayerEntryType::kDirectory, 0700, 0));
  for (auto dir : {"/tmp", "/var/tmp", "/run/lock"}) {
    out.push_back(Entry(dir, LayerEntryType::kDirectory, 01777, 0));
  }
  // As Debian has them (base-files' postinst), absolute.
  out.push_back(LinkEntry("/var/run", "/run", 0));
  out.push_back(LinkEntry("/var/lock", "/run/lock", 0));
  for (auto dir : merged) {
    out.push_back(LinkEntry("/" + std::string(dir), "usr/" + std::string(dir), 0));
    out.push_back(Entry("/usr/" + std::string(dir), LayerEntryType::kDirectory, 0755, 0));
  }
  return out;
}

Result<TopLayer> TopLayerEntries(const TopLayerInputs& in, const ImageView& view) {
  const spec::ImageSpec& spec = *in.spec;
  LayerBuilder layer(view, in.epoch);

  std::string passwd_master, group_master;
  for (const auto& f : in.facts) {
    if (f.passwd_master) passwd_master = *f.passwd_master;
    if (f.group_master) group_master = *f.group_master;
  }
  HB_TRY(AccountDatabase db,
         WithContext(SystemAccounts(passwd_master, group_master), "base-passwd"));
  HB_TRY_VOID(WithContext(AddSpecAccounts(db, spec.accounts), spec.Locate({}) + ": accounts"));
  TopLayer out;
  // The packages' setup and the spec's `dirs:` may add accounts: applied before the account files
  // are written and run-as is looked up.
  HB_TRY(ImageSetup setup, ApplyImageSetup(in, db, view));
  out.warnings = std::move(setup.warnings);
  HB_TRY(out.user,
         WithContext(RunAsUser(db, spec.accounts.run_as), spec.Locate({}) + ": accounts.run-as"));
  HB_TRY(std::string passwd, PasswdText(db));
  HB_TRY(std::string group, GroupText(db));
  layer.Put(FileEntry("/etc/passwd", std::move(passwd), in.epoch));
  layer.Put(FileEntry("/etc/group", std::move(group), in.epoch));
  layer.PutIfAbsent(FileEntry("/etc/nsswitch.conf", NsswitchConf(), in.epoch));
  for (const auto& user : spec.accounts.users) {
    if (user.home.empty() || user.home == "/") continue;
    layer.PutIfAbsent(
        Entry(user.home, LayerEntryType::kDirectory, 0700, in.epoch, user.uid, user.gid));
  }

  HB_TRY_VOID(AddTrustStores(in, layer, view));
  HB_TRY_VOID(AddAlternatives(in, layer, view));
  if (spec.variant == spec::Variant::kDebug && view.Find("/usr/bin/busybox")) {
    layer.PutIfAbsent(LinkEntry("/usr/bin/sh", "busybox", in.epoch));
    for (auto applet : kDebugApplets) {
      layer.PutIfAbsent(LinkEntry("/usr/bin/" + std::string(applet), "busybox", in.epoch));
    }
  }
  // What hardbase wrote above wins over what a package's setup would put at the same path.
  for (auto& e : setup.package_entries) {
    if (const LayerEntry* own = layer.FindOwn(e.path)) {
      if (own->type != LayerEntryType::kDirectory || e.type != LayerEntryType::kDirectory) {
        out.warnings.push_back(Printable(
            fmt::format("the packages' setup would write {}, where hardbase puts {}: left out",
                        e.path, Describe(ViewEntryOf(*own)))));
      }
      continue;
    }
    layer.Put(std::move(e));
  }
  for (auto& e : setup.dir_entries) layer.Put(std::move(e));
  HB_TRY_VOID(AddLocalFiles(in, db, layer));
  out.entries = layer.Finish();
  // An OCI whiteout name in the image's own layer (an alternative's name or link, a file of the
  // spec's) would delete what the packages below ship once unpacked.
  for (const auto& e : out.entries) {
    if (e.path.substr(e.path.rfind('/') + 1).starts_with(".wh.")) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("the image's own {}: names starting with '.wh.' are OCI whiteouts, "
                              "not allowed",
                              Printable(e.path)));
    }
  }
  // out.entries is sorted by path (LayerBuilder keeps a map).
  const auto path_of = [](const LayerEntry& e) -> const std::string& { return e.path; };
  for (const auto& [dir, d] : view.entries()) {
    if (d.type == LayerEntryType::kDirectory) continue;
    const std::string* below = FirstBelow(out.entries, dir, path_of);
    if (!below) continue;
    return Fail(ErrorCode::kIntegrity,
                fmt::format("the image's own {} lies below {}, which is {} in a package layer: a "
                            "runtime would write it elsewhere: refused",
                            *below, dir, Describe(d)));
  }
  return out;
}

bool IsGeneratedPath(std::string_view path) {
  constexpr std::array<std::string_view, 9> kFiles = {
      "/etc/passwd",         "/etc/group",
      "/etc/shadow",         "/etc/gshadow",
      "/etc/nsswitch.conf",  "/etc/os-release",
      "/usr/lib/os-release", "/etc/ssl/certs/ca-certificates.crt",
      kJavaTruststore};
  constexpr std::array<std::string_view, 2> kTrees = {"/var/lib/dpkg", "/etc/alternatives"};
  if (std::find(kFiles.begin(), kFiles.end(), path) != kFiles.end()) return true;
  return std::any_of(kTrees.begin(), kTrees.end(),
                     [&](std::string_view tree) { return IsAtOrBelow(path, tree); });
}

std::span<const std::string_view> DebugApplets() { return kDebugApplets; }

std::vector<std::string> MissingInterpreterWarnings(const std::vector<std::string>& packages,
                                                    const std::vector<PackageFacts>& facts,
                                                    const spec::ImageSpec& spec,
                                                    const ImageView& view) {
  constexpr size_t kListed = 5;
  const std::string path = SpecPath(spec);
  std::map<std::string, bool> present;  // by interpreter
  auto has = [&](const std::string& interpreter) {
    auto [it, fresh] = present.try_emplace(interpreter, false);
    if (!fresh) return it->second;
    size_t space = interpreter.find(' ');
    auto found = view.Resolve(interpreter.substr(0, space));
    bool ok = found && IsExecutableFile(found->second);
    if (ok && space != std::string::npos) ok = OnPath(view, path, interpreter.substr(space + 1));
    return it->second = ok;
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < facts.size() && i < packages.size(); ++i) {
    std::map<std::string, std::vector<std::string>> scripts;  // by missing interpreter
    for (const auto& [script, interpreter] : facts[i].interpreters) {
      if (!has(interpreter)) scripts[interpreter].push_back(script);
    }
    for (const auto& [interpreter, paths] : scripts) {
      std::string list;
      for (size_t k = 0; k < paths.size() && k < kListed; ++k) {
        list += (k ? ", " : "") + Printable(paths[k]);
      }
      if (paths.size() > kListed) list += fmt::format(" and {} more", paths.size() - kListed);
      bool env = interpreter.find(' ') != std::string::npos;
      out.push_back(fmt::format("{}: {} {} {} {}, which the image does not have{}: {}", packages[i],
                                paths.size(), paths.size() == 1 ? "script" : "scripts",
                                paths.size() == 1 ? "needs" : "need", Printable(interpreter),
                                env ? " (on its PATH)" : "", list));
    }
  }
  return out;
}

Result<void> CheckStartable(const spec::ImageSpec& spec, const ImageView& view) {
  const auto& argv = spec.entrypoint.empty() ? spec.cmd : spec.entrypoint;
  if (argv.empty()) return {};
  std::string_view key = spec.entrypoint.empty() ? "cmd" : "entrypoint";
  const std::string& program = argv.front();
  if (program.find('/') == std::string::npos) {
    std::string path = SpecPath(spec);
    if (OnPath(view, path, program)) return {};
    return Fail(
        ErrorCode::kSpec,
        fmt::format("{}: {} '{}' is not on the image's PATH ({}): the image would not start",
                    spec.Locate({}), key, program, path));
  }
  auto found = view.Resolve(program);
  if (!found) {
    return Fail(ErrorCode::kSpec,
                fmt::format("{}: {} {} is not in the image: the image would not start",
                            spec.Locate({}), key, program));
  }
  if (!IsExecutableFile(found->second)) {
    return Fail(ErrorCode::kSpec,
                fmt::format("{}: {} {} ({}) is not an executable file: the image would not start",
                            spec.Locate({}), key, program, found->first));
  }
  return {};
}

}  // namespace hardbase::image
