#include "image/setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "image/package_files.h"
#include "image/path_glob.h"

namespace hardbase::image {
namespace {

using oci::LayerEntry;
using oci::LayerEntryType;
using Kind = SetupAction::Kind;

constexpr int kMaxSymlinkHops = 40;
constexpr uint32_t kNogroup = 65534;
constexpr size_t kMaxListed = 3;  // paths named in one warning about many

// Where nothing is made: the kernel's file systems, and what hardbase itself writes
// (IsGeneratedPath; the accounts change through the database instead).
bool IsForbidden(std::string_view path) {
  constexpr std::array<std::string_view, 3> kKernel = {"/proc", "/sys", "/dev"};
  return IsGeneratedPath(path) || std::any_of(kKernel.begin(), kKernel.end(),
                                              [&](auto tree) { return IsAtOrBelow(path, tree); });
}

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < path.size();) {
    size_t end = std::min(path.find('/', i), path.size());
    if (end > i) parts.emplace_back(path.substr(i, end - i));
    i = end + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) out += "/" + parts[i];
  return out.empty() ? "/" : out;
}

std::string ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// A numeric user or group id small enough for stoul to take.
bool IsNumericId(std::string_view s) { return IsDigits(s) && s.size() <= 9; }

std::string OwnerText(const std::string& user, const std::string& group) {
  return group.empty() ? user : user + ":" + group;
}

// What a path is while the layer is being made: an entry of this layer, or of the view.
struct State {
  LayerEntryType type = LayerEntryType::kFile;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;  // the view's are not known: root
  std::string link_target;
  std::shared_ptr<const std::string> content;  // this layer's files
  bool ours = false;
};

class Applier {
 public:
  Applier(AccountDatabase& db, const ImageView& view, int64_t epoch, const ContentLookup& content)
      : db_(db), view_(view), epoch_(epoch), content_(content) {}

  SetupResult Apply(const std::vector<SetupAction>& actions,
                    const std::vector<NotApplied>& not_applied) {
    std::map<size_t, std::pair<uint32_t, uint32_t>> new_homes;  // action -> uid, gid
    for (size_t i = 0; i < actions.size(); ++i) {
      const SetupAction& a = actions[i];
      if (a.kind != Kind::kGroup && a.kind != Kind::kUser && a.kind != Kind::kMember) continue;
      if (!Hold(a.when, SourceOf(a.origin), /*at_end=*/false)) continue;
      if (a.kind == Kind::kGroup) AddGroup(a);
      if (a.kind == Kind::kUser) {
        if (std::optional<std::pair<uint32_t, uint32_t>> ids = AddUser(a); ids && a.create_home) {
          new_homes[i] = *ids;
        }
      }
      if (a.kind == Kind::kMember) AddMember(a);
    }
    for (size_t i = 0; i < actions.size(); ++i) {
      const SetupAction& a = actions[i];
      source_ = SourceOf(a.origin);
      if (a.kind == Kind::kGroup || a.kind == Kind::kMember) continue;  // done above
      if (a.kind != Kind::kUser && !Hold(a.when, source_, /*at_end=*/false)) continue;
      switch (a.kind) {
        case Kind::kGroup:
        case Kind::kMember:
          break;
        case Kind::kUser:
          if (auto it = new_homes.find(i); it != new_homes.end()) {
            MakeHome(a, it->second.first, it->second.second);
          }
          break;
        case Kind::kDir:
          MakeDir(a);
          break;
        case Kind::kChown:
        case Kind::kChmod:
          Change(a);
          break;
        case Kind::kSymlink:
          MakeLink(a);
          break;
        case Kind::kCopy:
          Copy(a);
          break;
        case Kind::kFile:
          MakeFile(a);
          break;
      }
    }
    SetupResult result;
    for (const NotApplied& n : not_applied) {
      if (Hold(n.when, SourceOf(n.origin), /*at_end=*/true)) result.not_applied.push_back(n);
    }
    for (auto& [path, e] : out_) result.entries.push_back(std::move(e));
    result.warnings = std::move(warnings_);
    return result;
  }

 private:
  void Warn(const SetupAction& a, std::string_view what) {
    warnings_.push_back(fmt::format("{}: {}: {}", a.origin, DescribeSetupAction(a), what));
  }

  // --- conditions ---

  // The script or file an origin is in: "nginx-common: postinst:22" -> "nginx-common: postinst".
  static std::string SourceOf(const std::string& origin) {
    size_t colon = origin.rfind(':');
    return colon == std::string::npos ? origin : origin.substr(0, colon);
  }

  // Whether the conditions hold: a test of `source` already answered keeps its answer (see
  // SetupCondition); one first asked now is answered by the image as it is now, or, `at_end` (for
  // a NotApplied no action shares a test with), by the image without what `source` made itself,
  // the nearest to what the script found when it ran the test.
  bool Hold(const std::vector<SetupCondition>& when, const std::string& source, bool at_end) {
    bool hold = true;
    for (const SetupCondition& c : when) {
      auto key = std::tuple(source, c.test, c.kind, c.name);
      std::optional<bool> exists;
      if (c.test != 0) {
        if (auto it = tests_.find(key); it != tests_.end()) exists = it->second;
      }
      if (!exists) {
        ignoring_ = at_end ? &source : nullptr;
        exists = Exists(c);
        ignoring_ = nullptr;
        if (c.test != 0 && !at_end) tests_[key] = *exists;
      }
      hold = hold && *exists == c.exists;
    }
    return hold;
  }

  bool Exists(const SetupCondition& c) const {
    switch (c.kind) {
      case SetupCondition::Kind::kUser:
        return db_.FindUser(c.name).has_value();
      case SetupCondition::Kind::kGroup:
        return db_.FindGroup(c.name).has_value();
      case SetupCondition::Kind::kPath:
        break;
    }
    std::optional<std::string> normal = NormaliseSetupPath(c.name);
    if (!normal) return false;
    std::string path = ImagePath(*normal);
    size_t glob = path.find_first_of("*?[");
    if (glob == std::string::npos) {
      Resolved r = Resolve(path, /*follow_last=*/true);
      return r.error.empty() && Lookup(r.path).has_value();
    }
    // A pattern: some path of this layer or the view below its fixed directory matches it.
    Result<PathGlob> pattern = PathGlob::Compile(path);
    if (!pattern) return false;
    std::string prefix = path.substr(0, path.rfind('/', glob) + 1);
    auto matches = [&](const std::string& p) { return pattern->Matches(p); };
    for (auto it = out_.lower_bound(prefix); it != out_.end() && it->first.starts_with(prefix);
         ++it) {
      if (matches(it->first) && !Ignored(it->first)) return true;
    }
    const auto& entries = view_.entries();
    for (auto it = entries.lower_bound(prefix);
         it != entries.end() && it->first.starts_with(prefix); ++it) {
      if (matches(it->first)) return true;
    }
    return false;
  }

  // --- accounts ---

  bool UidUsed(uint32_t uid) const {
    return std::any_of(db_.users.begin(), db_.users.end(),
                       [&](const PasswdEntry& u) { return u.uid == uid; });
  }
  bool GidUsed(uint32_t gid) const {
    return std::any_of(db_.groups.begin(), db_.groups.end(),
                       [&](const GroupEntry& g) { return g.gid == gid; });
  }

  // The lowest free id of the range adduser uses (FIRST/LAST_SYSTEM_UID, FIRST/LAST_UID).
  template <class Used>
  static std::optional<uint32_t> FreeId(bool system, Used used) {
    uint32_t first = system ? 100 : 1000, last = system ? 999 : 59999;
    for (uint32_t id = first; id <= last; ++id) {
      if (!used(id)) return id;
    }
    return std::nullopt;
  }

  void AddGroup(const SetupAction& a) {
    if (!IsValidAccountName(a.name)) return Warn(a, "not a valid group name: not made");
    if (db_.FindGroup(a.name)) return;  // kept as it is
    std::optional<uint32_t> gid;
    if (a.id && !GidUsed(*a.id)) {
      gid = a.id;
    } else {
      gid = FreeId(a.system, [&](uint32_t id) { return GidUsed(id); });
      if (!gid) return Warn(a, "no free gid left: not made");
      if (a.id) Warn(a, fmt::format("gid {} is taken, {} given instead", *a.id, *gid));
    }
    db_.groups.push_back(GroupEntry{a.name, *gid, {}});
  }

  // The uid and gid of a user made here; nullopt for one that exists (kept) or is not made.
  std::optional<std::pair<uint32_t, uint32_t>> AddUser(const SetupAction& a) {
    if (!IsValidAccountName(a.name)) {
      Warn(a, "not a valid user name: not made");
      return std::nullopt;
    }
    if (db_.FindUser(a.name)) return std::nullopt;  // kept as it is, as adduser does
    // The primary group must exist, as adduser --ingroup/--gid and systemd-sysusers want it.
    uint32_t gid = kNogroup;
    if (a.group.empty()) {
      if (std::optional<GroupEntry> g = db_.FindGroup("nogroup")) gid = g->gid;
    } else if (IsNumericId(a.group) && GidUsed(static_cast<uint32_t>(std::stoul(a.group)))) {
      gid = static_cast<uint32_t>(std::stoul(a.group));
    } else if (std::optional<GroupEntry> g = db_.FindGroup(a.group)) {
      gid = g->gid;
    } else {
      Warn(a, fmt::format("unknown group '{}': not made", a.group));
      return std::nullopt;
    }
    std::optional<uint32_t> uid;
    if (a.id && !UidUsed(*a.id)) {
      uid = a.id;
    } else {
      uid = FreeId(a.system, [&](uint32_t id) { return UidUsed(id); });
      if (!uid) {
        Warn(a, "no free uid left: not made");
        return std::nullopt;
      }
      if (a.id) Warn(a, fmt::format("uid {} is taken, {} given instead", *a.id, *uid));
    }
    auto safe = [](const std::string& s) {
      return std::none_of(s.begin(), s.end(), [](char c) {
        return c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
    };
    std::optional<std::string> home = NormaliseSetupPath(a.home);
    PasswdEntry user{a.name,
                     *uid,
                     gid,
                     safe(a.gecos) ? a.gecos : "",
                     home && safe(*home) ? *home : "/nonexistent",
                     a.shell.starts_with("/") && safe(a.shell) ? a.shell : "/usr/sbin/nologin"};
    db_.users.push_back(user);
    return std::pair{*uid, gid};
  }

  void AddMember(const SetupAction& a) {
    auto user = db_.FindUser(a.name);
    auto group = std::find_if(db_.groups.begin(), db_.groups.end(),
                              [&](const GroupEntry& g) { return g.name == a.group; });
    if (!user) return Warn(a, fmt::format("unknown user '{}': not added", a.name));
    if (group == db_.groups.end()) {
      return Warn(a, fmt::format("unknown group '{}': not added", a.group));
    }
    if (std::find(group->members.begin(), group->members.end(), a.name) == group->members.end()) {
      group->members.push_back(a.name);
    }
  }

  // --- the file tree ---

  // Whether this layer's entry at `path` is left out while conditions are checked.
  bool Ignored(const std::string& path) const {
    if (!ignoring_) return false;
    auto it = made_by_.find(path);
    return it != made_by_.end() && it->second == *ignoring_;
  }

  std::optional<State> Lookup(const std::string& path) const {
    if (auto it = out_.find(path); it != out_.end() && !Ignored(path)) {
      const LayerEntry& e = it->second;
      return State{e.type, e.mode, e.uid, e.gid, e.link_target, e.content, true};
    }
    if (path == "/") return State{LayerEntryType::kDirectory, 0755, 0, 0, "", nullptr, false};
    if (const ViewEntry* v = view_.Find(path)) {
      return State{v->type, v->mode, 0, 0, v->link_target, nullptr, false};
    }
    return std::nullopt;
  }

  // `path` with the symbolic links of its parents (and of its last component with
  // `follow_last`) followed, through this layer and the view; a missing tail is kept as it is.
  // `error` says why not when a link loops or a parent is not a directory.
  struct Resolved {
    std::string path;
    std::string error;
  };
  Resolved Resolve(std::string path, bool follow_last) const {
    int hops = 0;
    for (bool restart = true; restart;) {
      restart = false;
      std::vector<std::string> parts = Components(path);
      std::string cur;
      for (size_t i = 0; i < parts.size(); ++i) {
        std::string next = cur + "/" + parts[i];
        bool last = i + 1 == parts.size();
        std::optional<State> st = Lookup(next);
        if (!st) return {Join(parts), ""};
        if (st->type == LayerEntryType::kSymlink && (!last || follow_last)) {
          if (++hops > kMaxSymlinkHops) return {"", next + ": too many levels of links"};
          const std::string& target = st->link_target;
          std::vector<std::string> resolved = Components(
              target.starts_with("/") ? target : (cur.empty() ? "/" : cur) + "/" + target);
          std::vector<std::string> normal;
          for (const std::string& c : resolved) {
            if (c == ".") continue;
            if (c == "..") {
              if (!normal.empty()) normal.pop_back();
              continue;
            }
            normal.push_back(c);
          }
          for (size_t k = i + 1; k < parts.size(); ++k) normal.push_back(parts[k]);
          path = Join(normal);
          if (path.size() > 4096) return {"", next + ": the path through links is too long"};
          restart = true;
          break;
        }
        if (!last && st->type != LayerEntryType::kDirectory) {
          return {"", next + " is not a directory"};
        }
        cur = next;
      }
      if (!restart) return {cur.empty() ? "/" : cur, ""};
    }
    return {"/", ""};
  }

  // Where an action's path is in the image (see ApplySetup), or nullopt after a warning.
  std::optional<std::string> Place(const SetupAction& a, const std::string& path,
                                   bool follow_last) {
    std::optional<std::string> normal = NormaliseSetupPath(path);
    if (!normal) {
      Warn(a, "not an absolute normalised path");
      return std::nullopt;
    }
    std::string mapped = ImagePath(*normal);
    Resolved resolved = Resolve(mapped, follow_last);
    if (!resolved.error.empty()) {
      Warn(a, resolved.error);
      return std::nullopt;
    }
    const std::string& where = resolved.path;
    if (IsForbidden(mapped) || IsForbidden(where)) {
      Warn(a, fmt::format("{} is not a place for it", where));
      return std::nullopt;
    }
    for (const std::string& c : Components(where)) {
      if (c.starts_with(".wh.")) {
        Warn(a, "names starting with '.wh.' are OCI whiteouts");
        return std::nullopt;
      }
    }
    return where;
  }

  void Put(LayerEntry e) {
    e.mtime = epoch_;
    std::string path = e.path;
    if (!out_.contains(path) && !view_.Find(path)) made_by_[path] = source_;
    out_[path] = std::move(e);
  }

  static LayerEntry Entry(std::string path, LayerEntryType type, uint32_t mode, uint32_t uid,
                          uint32_t gid) {
    LayerEntry e;
    e.path = std::move(path);
    e.type = type;
    e.mode = mode & 07777;
    e.uid = uid;
    e.gid = gid;
    return e;
  }

  // Missing parents of `path`, as mkdir -p makes them: 0755 root.
  void MakeParents(const std::string& path) {
    std::vector<std::string> missing;
    for (std::string p = ParentOf(path); p != "/"; p = ParentOf(p)) {
      if (Lookup(p)) break;
      missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      Put(Entry(*it, LayerEntryType::kDirectory, 0755, 0, 0));
    }
  }

  std::optional<uint32_t> Uid(const SetupAction& a, const std::string& user) {
    if (user.empty()) return std::nullopt;
    if (IsNumericId(user)) return static_cast<uint32_t>(std::stoul(user));
    if (std::optional<PasswdEntry> u = db_.FindUser(user)) return u->uid;
    Warn(a, fmt::format("unknown user '{}', root used", user));
    return 0;
  }
  std::optional<uint32_t> Gid(const SetupAction& a, const std::string& group) {
    if (group.empty()) return std::nullopt;
    if (IsNumericId(group)) return static_cast<uint32_t>(std::stoul(group));
    if (std::optional<GroupEntry> g = db_.FindGroup(group)) return g->gid;
    Warn(a, fmt::format("unknown group '{}', root used", group));
    return 0;
  }

  void MakeHome(const SetupAction& a, uint32_t uid, uint32_t gid) {
    std::optional<std::string> where = Place(a, a.home, /*follow_last=*/true);
    if (!where || where == "/") return;
    if (Lookup(*where)) return;  // adduser leaves an existing home as it is
    MakeParents(*where);
    Put(Entry(*where, LayerEntryType::kDirectory, 0755, uid, gid));
  }

  void MakeDir(const SetupAction& a) {
    std::optional<std::string> where = Place(a, a.path, /*follow_last=*/true);
    if (!where) return;
    if (std::optional<State> st = Lookup(*where)) {
      if (st->type != LayerEntryType::kDirectory) {
        Warn(a, fmt::format("{} exists and is not a directory", *where));
      }
      return;
    }
    uint32_t uid = Uid(a, a.user).value_or(0), gid = Gid(a, a.owner_group).value_or(0);
    MakeParents(*where);
    Put(Entry(*where, LayerEntryType::kDirectory, a.mode.value_or(0755), uid, gid));
  }

  // Every path below `dir` in this layer and the view, sorted, but for what IsForbidden keeps
  // out (a recursive change of /var/lib leaves the package database alone).
  std::vector<std::string> Below(const std::string& dir) const {
    std::string prefix = dir == "/" ? "/" : dir + "/";
    std::set<std::string> paths;
    for (auto it = out_.lower_bound(prefix); it != out_.end() && it->first.starts_with(prefix);
         ++it) {
      if (!IsForbidden(it->first)) paths.insert(it->first);
    }
    const auto& entries = view_.entries();
    for (auto it = entries.lower_bound(prefix);
         it != entries.end() && it->first.starts_with(prefix); ++it) {
      if (!IsForbidden(it->first)) paths.insert(it->first);
    }
    return {paths.begin(), paths.end()};
  }

  // The content of a file at `path` in state `st`, or null.
  std::shared_ptr<const std::string> ContentOf(const std::string& path, const State& st) const {
    if (st.ours) return st.content ? st.content : std::make_shared<const std::string>();
    if (!content_) return nullptr;
    return content_(path);
  }

  // chown/chmod of one entry; false when it is a file whose content is not known.
  bool ChangeOne(const SetupAction& a, const std::string& path, const State& st) {
    if (st.type == LayerEntryType::kSymlink) return true;  // a link's owner and mode do not matter
    State next = st;
    if (a.kind == Kind::kChown) {
      if (std::optional<uint32_t> uid = Uid(a, a.user)) next.uid = *uid;
      if (std::optional<uint32_t> gid = Gid(a, a.owner_group)) next.gid = *gid;
    } else if (a.mode) {
      next.mode = *a.mode & 07777;
    } else if (std::optional<uint32_t> m = ApplySymbolicMode(
                   a.symbolic_mode, st.mode, st.type == LayerEntryType::kDirectory)) {
      next.mode = *m;
    }
    if (next.uid == st.uid && next.gid == st.gid && next.mode == st.mode) return true;
    LayerEntry e = Entry(
        path,
        st.type == LayerEntryType::kDirectory ? LayerEntryType::kDirectory : LayerEntryType::kFile,
        next.mode, next.uid, next.gid);
    if (st.type != LayerEntryType::kDirectory) {
      e.content = ContentOf(path, st);
      if (!e.content) return false;
    }
    Put(std::move(e));
    return true;
  }

  void Change(const SetupAction& a) {
    if (a.kind == Kind::kChmod && !a.mode && !ApplySymbolicMode(a.symbolic_mode, 0, false)) {
      return Warn(a, "not a mode");
    }
    std::optional<std::string> where = Place(a, a.path, /*follow_last=*/true);
    if (!where) return;
    if (*where == "/") return Warn(a, "the root directory is left as it is");
    std::optional<State> st = Lookup(*where);
    if (!st) return Warn(a, fmt::format("{} does not exist", *where));
    std::vector<std::string> unknown;
    if (!ChangeOne(a, *where, *st)) unknown.push_back(*where);
    if (a.recursive && st->type == LayerEntryType::kDirectory) {
      for (const std::string& p : Below(*where)) {
        if (std::optional<State> below = Lookup(p); below && !ChangeOne(a, p, *below)) {
          unknown.push_back(p);
        }
      }
    }
    if (unknown.empty()) return;
    std::string listed;
    for (size_t i = 0; i < unknown.size() && i < kMaxListed; ++i) {
      listed += (i ? ", " : "") + unknown[i];
    }
    if (unknown.size() > kMaxListed) listed += ", ...";
    Warn(a, fmt::format("{} regular file{} of the packages left as {} (content not at hand): {}",
                        unknown.size(), unknown.size() == 1 ? "" : "s",
                        unknown.size() == 1 ? "it is" : "they are", listed));
  }

  void MakeLink(const SetupAction& a) {
    if (a.target.empty() || a.target.find('\0') != std::string::npos) {
      return Warn(a, "not a link target");
    }
    std::optional<std::string> where = Place(a, a.path, /*follow_last=*/false);
    if (!where) return;
    std::optional<State> st = Lookup(*where);
    if (st && st->type == LayerEntryType::kDirectory) {  // ln puts it inside
      std::string name = BaseName(a.target);
      if (name.empty() || name == "." || name == "..") {
        return Warn(a, fmt::format("{} is a directory", *where));
      }
      where = *where == "/" ? "/" + name : *where + "/" + name;
      st = Lookup(*where);
    }
    if (st && st->type != LayerEntryType::kSymlink) {
      return Warn(a, fmt::format("{} exists and is not a link: not replaced", *where));
    }
    if (st && st->link_target == a.target) return;
    MakeParents(*where);
    LayerEntry e = Entry(*where, LayerEntryType::kSymlink, 0777, 0, 0);
    e.link_target = a.target;
    Put(std::move(e));
  }

  void MakeFile(const SetupAction& a) {
    std::optional<std::string> where = Place(a, a.path, /*follow_last=*/true);
    if (!where) return;
    if (std::optional<State> st = Lookup(*where)) {
      if (st->type == LayerEntryType::kDirectory || !a.content.empty()) {
        Warn(a, fmt::format("{} exists: left as it is", *where));
      }
      return;
    }
    uint32_t uid = Uid(a, a.user).value_or(0), gid = Gid(a, a.owner_group).value_or(0);
    MakeParents(*where);
    LayerEntry e = Entry(*where, LayerEntryType::kFile, a.mode.value_or(0644), uid, gid);
    e.content = std::make_shared<const std::string>(a.content);
    Put(std::move(e));
  }

  void Copy(const SetupAction& a) {
    std::optional<std::string> src = Place(a, a.target, /*follow_last=*/true);
    std::optional<std::string> dest = Place(a, a.path, /*follow_last=*/true);
    if (!src || !dest) return;
    std::optional<State> from = Lookup(*src);
    if (!from) return Warn(a, fmt::format("{} does not exist", *src));
    std::optional<State> to = Lookup(*dest);
    if (to && to->type == LayerEntryType::kDirectory) {  // cp puts it inside
      dest = *dest == "/" ? "/" + BaseName(*src) : *dest + "/" + BaseName(*src);
      to = Lookup(*dest);
    }
    if (to) return Warn(a, fmt::format("{} exists: left as it is", *dest));
    if (from->type == LayerEntryType::kDirectory && !a.recursive) {
      return Warn(a, fmt::format("{} is a directory", *src));
    }
    uint32_t uid = Uid(a, a.user).value_or(0), gid = Gid(a, a.owner_group).value_or(0);
    std::vector<std::pair<std::string, State>> items = {{*src, *from}};
    if (from->type == LayerEntryType::kDirectory) {
      for (const std::string& p : Below(*src)) {
        if (std::optional<State> st = Lookup(p)) items.emplace_back(p, *st);
      }
    }
    std::vector<std::string> unknown;
    std::vector<LayerEntry> made;
    for (const auto& [path, st] : items) {
      std::string to_path = *dest + path.substr(src->size());
      uint32_t mode = a.mode && path == *src ? *a.mode : st.mode;
      LayerEntry e = Entry(to_path, st.type, mode, uid, gid);
      if (st.type == LayerEntryType::kSymlink) {
        e.mode = 0777;
        e.link_target = st.link_target;
      } else if (st.type != LayerEntryType::kDirectory) {
        e.type = LayerEntryType::kFile;
        e.content = ContentOf(path, st);
        if (!e.content) {
          unknown.push_back(path);
          continue;
        }
      }
      made.push_back(std::move(e));
    }
    if (!unknown.empty() && unknown.front() == *src) {
      return Warn(a, fmt::format("the content of {} is not at hand: not copied", *src));
    }
    MakeParents(*dest);
    for (LayerEntry& e : made) Put(std::move(e));
    if (!unknown.empty()) {
      std::string listed;
      for (size_t i = 0; i < unknown.size() && i < kMaxListed; ++i) {
        listed += (i ? ", " : "") + unknown[i];
      }
      if (unknown.size() > kMaxListed) listed += ", ...";
      Warn(a, fmt::format("{} file{} not copied (content not at hand): {}", unknown.size(),
                          unknown.size() == 1 ? "" : "s", listed));
    }
  }

  AccountDatabase& db_;
  const ImageView& view_;
  int64_t epoch_;
  const ContentLookup& content_;
  std::map<std::string, LayerEntry> out_;
  std::map<std::string, std::string> made_by_;  // paths this layer adds: the source that made them
  std::string source_;                          // of the action being applied
  const std::string* ignoring_ = nullptr;       // see Hold
  // Tests answered (see SetupCondition): source, test, what was tested -> whether it exists.
  std::map<std::tuple<std::string, uint32_t, SetupCondition::Kind, std::string>, bool> tests_;
  std::vector<std::string> warnings_;
};

}  // namespace

std::optional<std::string> NormaliseSetupPath(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > 4096 ||
      path.find_first_of(std::string_view("\0\n", 2)) != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string> parts = Components(path);
  for (const std::string& c : parts) {
    if (c == ".." || c.size() > 255) return std::nullopt;
  }
  std::erase(parts, ".");
  return Join(parts);
}

bool IsValidAccountName(std::string_view name) {
  if (name.ends_with("$")) name.remove_suffix(1);
  if (name.empty() || name.size() > 32 || name[0] == '-' || name[0] == '.') return false;
  bool all_digits = true;
  for (char c : name) {
    bool digit = c >= '0' && c <= '9';
    all_digits = all_digits && digit;
    if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_' && c != '-' &&
        c != '.') {
      return false;
    }
  }
  return !all_digits;
}

std::optional<uint32_t> ParseOctalMode(std::string_view text) {
  while (text.size() > 1 && text[0] == '0') text.remove_prefix(1);  // chmod takes "04755"
  if (text.empty() || text.size() > 4) return std::nullopt;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode;
}

std::optional<uint32_t> ApplySymbolicMode(std::string_view change, uint32_t mode, bool directory) {
  constexpr uint32_t kUmask = 022;
  if (change.empty()) return std::nullopt;
  mode &= 07777;
  for (size_t pos = 0; pos <= change.size();) {
    size_t end = std::min(change.find(',', pos), change.size());
    std::string_view clause = change.substr(pos, end - pos);
    pos = end + 1;
    size_t i = 0;
    uint32_t who = 0;
    for (; i < clause.size() && std::string_view("ugoa").find(clause[i]) != std::string_view::npos;
         ++i) {
      who |= clause[i] == 'u' ? 04700 : clause[i] == 'g' ? 02070 : clause[i] == 'o' ? 01007 : 07777;
    }
    bool masked = who == 0;  // no who-letters: as for `a`, but the umask's bits stay
    if (masked) who = 07777;
    if (i >= clause.size()) return std::nullopt;
    while (i < clause.size()) {
      char op = clause[i++];
      if (op != '+' && op != '-' && op != '=') return std::nullopt;
      uint32_t bits = 0;
      if (i < clause.size() && std::string_view("ugo").find(clause[i]) != std::string_view::npos) {
        uint32_t shift = clause[i] == 'u' ? 6 : clause[i] == 'g' ? 3 : 0;
        bits = ((mode >> shift) & 7) * 0111;
        ++i;
      } else {
        for (; i < clause.size() &&
               std::string_view("rwxXst").find(clause[i]) != std::string_view::npos;
             ++i) {
          switch (clause[i]) {
            case 'r':
              bits |= 0444;
              break;
            case 'w':
              bits |= 0222;
              break;
            case 'x':
              bits |= 0111;
              break;
            case 'X':
              if (directory || (mode & 0111)) bits |= 0111;
              break;
            case 's':
              bits |= 06000;
              break;
            case 't':
              bits |= 01000;
              break;
          }
        }
      }
      bits &= who;
      if (masked) bits &= ~kUmask;
      if (op == '+') {
        mode |= bits;
      } else if (op == '-') {
        mode &= ~bits;
      } else {
        // `=`: the who's bits become exactly these (a directory keeps its setuid/setgid bits).
        uint32_t cleared = masked ? (07777 & ~kUmask) : who;
        if (directory) cleared &= ~uint32_t{06000};
        mode = (mode & ~cleared) | bits;
      }
    }
  }
  return mode;
}

std::string DescribeSetupCondition(const SetupCondition& c) {
  std::string what = c.kind == SetupCondition::Kind::kUser    ? "user " + c.name
                     : c.kind == SetupCondition::Kind::kGroup ? "group " + c.name
                                                              : c.name;
  return what + (c.exists ? " exists" : " does not exist");
}

std::string DescribeSetupAction(const SetupAction& a) {
  std::string recursive = a.recursive ? "-R " : "";
  std::string out;
  switch (a.kind) {
    case Kind::kGroup:
      out = fmt::format("group {} ({}", a.name, a.system ? "system" : "not system");
      if (a.id) out += fmt::format(", gid {}", *a.id);
      out += ")";
      break;
    case Kind::kUser: {
      out = fmt::format("user {} ({}, group {}", a.name, a.system ? "system" : "not system",
                        a.group.empty() ? "nogroup" : a.group);
      if (a.id) out += fmt::format(", uid {}", *a.id);
      out += ", home " + a.home;
      if (a.create_home) out += " (made)";
      if (a.shell != "/usr/sbin/nologin") out += ", shell " + a.shell;
      if (!a.gecos.empty()) out += ", gecos '" + a.gecos + "'";
      out += ")";
      break;
    }
    case Kind::kMember:
      out = fmt::format("member {} of group {}", a.name, a.group);
      break;
    case Kind::kDir:
      out = "dir " + a.path;
      if (a.mode) out += " " + FormatMode(*a.mode);
      if (!a.user.empty() || !a.owner_group.empty()) {
        out += " " + OwnerText(a.user, a.owner_group);
      }
      break;
    case Kind::kChown:
      out = "chown " + recursive +
            (a.user.empty() ? ":" + a.owner_group : OwnerText(a.user, a.owner_group)) + " " +
            a.path;
      break;
    case Kind::kChmod:
      out = "chmod " + recursive + (a.mode ? FormatMode(*a.mode) : a.symbolic_mode) + " " + a.path;
      break;
    case Kind::kSymlink:
      out = "symlink " + a.path + " -> " + a.target;
      break;
    case Kind::kCopy:
      out = "copy " + recursive + a.target + " to " + a.path;
      if (a.mode) out += " " + FormatMode(*a.mode);
      if (!a.user.empty() || !a.owner_group.empty()) {
        out += " " + OwnerText(a.user, a.owner_group);
      }
      break;
    case Kind::kFile:
      out = "file " + a.path;
      if (!a.content.empty()) out += fmt::format(" ({} bytes)", a.content.size());
      if (a.mode) out += " " + FormatMode(*a.mode);
      if (!a.user.empty() || !a.owner_group.empty()) {
        out += " " + OwnerText(a.user, a.owner_group);
      }
      break;
  }
  for (size_t i = 0; i < a.when.size(); ++i) {
    out += i == 0 ? " (if " : " and ";
    out += DescribeSetupCondition(a.when[i]);
  }
  if (!a.when.empty()) out += ")";
  return out;
}

std::optional<ConfigLine> SplitConfigLine(std::string_view line, size_t max_fields) {
  ConfigLine out;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (true) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i >= line.size()) return out;
    if (out.fields.size() == max_fields) {
      out.rest = std::string(line.substr(i));
      while (!out.rest.empty() && blank(out.rest.back())) out.rest.pop_back();
      return out;
    }
    std::string field;
    char quote = 0;
    for (; i < line.size() && (quote || !blank(line[i])); ++i) {
      char c = line[i];
      if (c == '\\' && i + 1 < line.size()) {
        char next = line[++i];
        field += next == 'n' ? '\n' : next == 't' ? '\t' : next;
      } else if (quote && c == quote) {
        quote = 0;
      } else if (!quote && (c == '"' || c == '\'')) {
        quote = c;
      } else {
        field += c;
      }
    }
    if (quote) return std::nullopt;
    out.fields.push_back(std::move(field));
  }
}

std::optional<std::string> WithoutSpecifiers(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out += field[i];
    } else if (i + 1 < field.size() && field[i + 1] == '%') {
      out += '%';
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

namespace {

// Matches one pattern element at p (not '*') against c; `next` is where the element ends. For
// "[...]" without a closing bracket the '[' is an ordinary character, as in fnmatch.
bool MatchOne(std::string_view pattern, size_t p, char c, size_t& next) {
  if (pattern[p] == '?') {
    next = p + 1;
    return true;
  }
  if (pattern[p] == '\\' && p + 1 < pattern.size()) {
    next = p + 2;
    return pattern[p + 1] == c;
  }
  if (pattern[p] == '[') {
    size_t i = p + 1;
    bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
    if (negate) ++i;
    bool matched = false;
    bool first = true;
    for (; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
      // A character class, "[:alpha:]", as in the C locale.
      if (pattern.substr(i).starts_with("[:")) {
        size_t close = pattern.find(":]", i + 2);
        if (close != std::string_view::npos) {
          std::string_view name = pattern.substr(i + 2, close - i - 2);
          unsigned char u = static_cast<unsigned char>(c);
          bool ascii = u < 0x80;
          bool in = ascii &&
                    ((name == "alpha" && std::isalpha(u)) || (name == "digit" && std::isdigit(u)) ||
                     (name == "alnum" && std::isalnum(u)) || (name == "upper" && std::isupper(u)) ||
                     (name == "lower" && std::islower(u)) || (name == "space" && std::isspace(u)) ||
                     (name == "blank" && (u == ' ' || u == '\t')) ||
                     (name == "punct" && std::ispunct(u)) || (name == "print" && std::isprint(u)) ||
                     (name == "graph" && std::isgraph(u)) || (name == "cntrl" && std::iscntrl(u)) ||
                     (name == "xdigit" && std::isxdigit(u)));
          matched = matched || in;
          i = close + 2;
          continue;
        }
      }
      char lo = pattern[i];
      if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
      ++i;
      char hi = lo;
      if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
        hi = pattern[i + 1];
        if (hi == '\\' && i + 2 < pattern.size()) hi = pattern[++i + 1];
        i += 2;
      }
      if (static_cast<unsigned char>(lo) <= static_cast<unsigned char>(c) &&
          static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi)) {
        matched = true;
      }
    }
    if (i < pattern.size()) {
      next = i + 1;
      return matched != negate;
    }
  }
  next = p + 1;
  return pattern[p] == c;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // The classic backtracking to the last '*' only (as PathGlob's components): a later '*' can
  // take over whatever an earlier one would have matched, so no earlier choice needs revisiting.
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    size_t next = 0;
    if (p < pattern.size() && MatchOne(pattern, p, text[t], next)) {
      p = next;
      ++t;
      continue;
    }
    if (star_p == std::string_view::npos) return false;  // let the last '*' take one more
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string NotAppliedText(std::string_view line) {
  line = Trim(line);
  if (line.size() <= 240) return std::string(line);
  size_t cut = 240;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return std::string(line.substr(0, cut)) + "...";
}

ParsedSetup ParseConfigLines(std::string_view text, std::string_view origin_prefix,
                             const ConfigLineParser& parse_line) {
  ParsedSetup out;
  for (auto [line, number] : Lines(text, {.skip_blank = true, .comment = '#'})) {
    std::string shown = NotAppliedText(line);
    std::string origin = std::string(origin_prefix) + ":" + std::to_string(number);
    std::optional<std::vector<SetupAction>> actions = parse_line(line);
    if (!actions) {
      out.not_applied.push_back({origin, shown});
      continue;
    }
    for (SetupAction& a : *actions) {
      a.origin = origin;
      out.actions.push_back(std::move(a));
    }
  }
  return out;
}

Result<SetupResult> ApplySetup(const std::vector<SetupAction>& actions,
                               const std::vector<NotApplied>& not_applied, AccountDatabase& db,
                               const ImageView& view, int64_t epoch, const ContentLookup& content) {
  return Applier(db, view, epoch, content).Apply(actions, not_applied);
}

}  // namespace hardbase::image
