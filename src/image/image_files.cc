#include "image/image_files.h"

#include <fmt/format.h>

#include <algorithm>

#include "image/alternatives.h"
#include "image/path_glob.h"
#include "image/truststore.h"

namespace hardbase::image {
namespace {

using oci::LayerEntry;
using oci::LayerEntryType;

constexpr int kMaxSymlinkHops = 40;
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

bool IsExecutableFile(const ViewEntry& e) {
  return (e.type == LayerEntryType::kFile || e.type == LayerEntryType::kHardlink) &&
         (e.mode & 0111) != 0;
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

void AddAlternatives(const TopLayerInputs& in, LayerBuilder& layer, const ImageView& view) {
  std::vector<Alternative> all;
  for (const auto& f : in.facts)
    all.insert(all.end(), f.alternatives.begin(), f.alternatives.end());
  for (const auto& alt : ChooseAlternatives(std::move(all))) {
    if (!view.Resolve(alt.target) || view.Find(alt.link)) continue;
    std::string managed = "/etc/alternatives/" + alt.name;
    layer.Put(LinkEntry(managed, alt.target, in.epoch));
    layer.Put(LinkEntry(alt.link, managed, in.epoch));
  }
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

}  // namespace

void ImageView::Add(const std::vector<oci::LayerEntry>& entries) {
  for (const auto& e : entries) Add(e.path, {e.type, e.mode, e.link_target});
}

void ImageView::Add(const std::string& path, ViewEntry entry) { entries_[path] = std::move(entry); }

const ViewEntry* ImageView::Find(std::string_view path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<std::pair<std::string, ViewEntry>> ImageView::Resolve(std::string_view path) const {
  std::vector<std::string> pending;  // components still to walk, last one at the back
  for (auto c : PathComponents(path)) pending.insert(pending.begin(), std::string(c));
  std::string current;  // "" is the root
  int hops = 0;
  while (!pending.empty()) {
    std::string c = std::move(pending.back());
    pending.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      current = current.empty() ? "" : ParentOf(current);
      if (current == "/") current.clear();
      continue;
    }
    std::string next = current + "/" + c;
    const ViewEntry* e = Find(next);
    if (!e) return std::nullopt;
    if (e->type != LayerEntryType::kSymlink) {
      current = std::move(next);
      continue;
    }
    if (++hops > kMaxSymlinkHops) return std::nullopt;
    if (e->link_target.starts_with("/")) current.clear();
    auto target = PathComponents(e->link_target);
    for (auto it = target.rbegin(); it != target.rend(); ++it) pending.emplace_back(*it);
  }
  if (current.empty())
    return std::pair{std::string("/"), ViewEntry{LayerEntryType::kDirectory, 0755, ""}};
  return std::pair{current, *Find(current)};
}

std::vector<oci::LayerEntry> SkeletonEntries(std::string_view debian_arch) {
  std::vector<LayerEntry> out;
  std::vector<std::string_view> merged = {"bin", "sbin", "lib"};
  if (debian_arch == "amd64") merged.push_back("lib64");
  for (auto dir :
       {"/etc", "/home", "/usr", "/var", "/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/status.d"}) {
    out.push_back(Entry(dir, LayerEntryType::kDirectory, 0755, 0));
  }
  out.push_back(Entry("/root", LayerEntryType::kDirectory, 0700, 0));
  out.push_back(Entry("/tmp", LayerEntryType::kDirectory, 01777, 0));
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
  HB_TRY(out.user,
         WithContext(RunAsUser(db, spec.accounts.run_as), spec.Locate({}) + ": accounts.run-as"));
  layer.Put(FileEntry("/etc/passwd", PasswdText(db), in.epoch));
  layer.Put(FileEntry("/etc/group", GroupText(db), in.epoch));
  layer.PutIfAbsent(FileEntry("/etc/nsswitch.conf", NsswitchConf(), in.epoch));
  for (const auto& user : spec.accounts.users) {
    if (user.home.empty() || user.home == "/") continue;
    layer.PutIfAbsent(
        Entry(user.home, LayerEntryType::kDirectory, 0700, in.epoch, user.uid, user.gid));
  }

  HB_TRY_VOID(AddTrustStores(in, layer, view));
  AddAlternatives(in, layer, view);
  if (spec.variant == spec::Variant::kDebug && view.Find("/usr/bin/busybox")) {
    layer.PutIfAbsent(LinkEntry("/usr/bin/sh", "busybox", in.epoch));
  }
  HB_TRY_VOID(AddLocalFiles(in, db, layer));
  out.entries = layer.Finish();
  return out;
}

Result<void> CheckStartable(const spec::ImageSpec& spec, const ImageView& view) {
  const auto& argv = spec.entrypoint.empty() ? spec.cmd : spec.entrypoint;
  if (argv.empty()) return {};
  std::string_view key = spec.entrypoint.empty() ? "cmd" : "entrypoint";
  const std::string& program = argv.front();
  if (program.find('/') == std::string::npos) {
    auto path = spec.env.count("PATH") ? spec.env.at("PATH") : std::string(spec::kDefaultPath);
    size_t i = 0;
    while (i <= path.size()) {
      size_t j = path.find(':', i);
      if (j == std::string::npos) j = path.size();
      std::string dir = path.substr(i, j - i);
      if (!dir.empty()) {
        auto found = view.Resolve(dir + "/" + program);
        if (found && IsExecutableFile(found->second)) return {};
      }
      i = j + 1;
    }
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
