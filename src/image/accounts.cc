#include "image/accounts.h"

#include <algorithm>
#include <charconv>
#include <functional>

#include "spec/names.h"

namespace hardbase::image {
namespace {

constexpr uint32_t kMaxId = 4294967294u;  // (uid_t)-1 is not an id

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<uint32_t> ParseId(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > kMaxId) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

// Calls `parse` with the fields of each entry line of a passwd(5)-style file, skipping blank and
// '#' lines as glibc's nss_files does; `file` and the line number prefix its errors.
Result<void> ForEachEntry(
    std::string_view text, std::string_view file, size_t field_count,
    const std::function<Result<void>(std::vector<std::string_view>&)>& parse) {
  std::vector<std::string_view> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i].starts_with('#')) continue;
    std::string where = std::string(file) + " line " + std::to_string(i + 1);
    std::vector<std::string_view> fields = Split(lines[i], ':');
    if (fields.size() != field_count) {
      return Fail(ErrorCode::kSpec, where + ": expected " + std::to_string(field_count) +
                                        " ':'-separated fields, found " +
                                        std::to_string(fields.size()));
    }
    if (fields[0].empty()) return Fail(ErrorCode::kSpec, where + ": empty name");
    HB_TRY_VOID(WithContext(parse(fields), where));
  }
  return {};
}

Result<uint32_t> ParseIdField(std::string_view field, std::string_view what) {
  if (auto id = ParseId(field)) return *id;
  return Fail(ErrorCode::kSpec, "invalid " + std::string(what) + " '" + std::string(field) + "'");
}

// Refuses a value that would break its line of /etc/passwd or /etc/group, or add one: a ':' or a
// control character (a newline starts a new entry) anywhere, and for a `name` (a user, group or
// member name) also emptiness and ',' (which separates group members). `who` and `field` name the
// value in the error.
Result<void> CheckField(std::string_view value, std::string_view who, std::string_view field,
                        bool name) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, std::string(who) + ": " + std::string(field) + " '" +
                                      spec::EscapeControlCharacters(value) + "' " +
                                      std::string(why));
  };
  if (name && value.empty()) return bad("is empty");
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return bad("contains a control character");
    }
    if (c == ':') return bad("contains ':', the field separator");
    if (name && c == ',') return bad("contains ',', the member separator");
  }
  return {};
}

// "user 'daemon' collides with the system user daemon (uid 1)", or with the id on the left too
// when only the ids are equal.
std::string Collision(std::string_view kind, std::string_view id_kind, std::string_view name,
                      uint32_t id, bool system, std::string_view other_name, uint32_t other_id) {
  std::string left = std::string(kind) + " '" + std::string(name) + "'";
  if (name != other_name) left += " (" + std::string(id_kind) + " " + std::to_string(id) + ")";
  return left + " collides with the " + (system ? "system " : "") + std::string(kind) + " " +
         std::string(other_name) + " (" + std::string(id_kind) + " " + std::to_string(other_id) +
         ")";
}

}  // namespace

std::optional<PasswdEntry> AccountDatabase::FindUser(std::string_view name) const {
  auto it = std::find_if(users.begin(), users.end(), [&](const auto& u) { return u.name == name; });
  if (it == users.end()) return std::nullopt;
  return *it;
}

std::optional<GroupEntry> AccountDatabase::FindGroup(std::string_view name) const {
  auto it =
      std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.name == name; });
  if (it == groups.end()) return std::nullopt;
  return *it;
}

Result<AccountDatabase> SystemAccounts(std::string_view passwd_master,
                                       std::string_view group_master) {
  AccountDatabase db;
  if (passwd_master.empty() && group_master.empty()) {
    db.users = {{"root", 0, 0, "root", "/root", "/usr/sbin/nologin"},
                {"nobody", 65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"}};
    db.groups = {{"root", 0, {}}, {"tty", 5, {}}, {"staff", 50, {}}, {"nogroup", 65534, {}}};
    return db;
  }
  HB_TRY_VOID(ForEachEntry(passwd_master, "passwd.master", 7, [&](auto& f) -> Result<void> {
    HB_TRY(uint32_t uid, ParseIdField(f[2], "uid"));
    HB_TRY(uint32_t gid, ParseIdField(f[3], "gid"));
    db.users.push_back(
        {std::string(f[0]), uid, gid, std::string(f[4]), std::string(f[5]), std::string(f[6])});
    return {};
  }));
  HB_TRY_VOID(ForEachEntry(group_master, "group.master", 4, [&](auto& f) -> Result<void> {
    HB_TRY(uint32_t gid, ParseIdField(f[2], "gid"));
    GroupEntry group{std::string(f[0]), gid, {}};
    for (std::string_view member : Split(f[3], ',')) {
      if (!member.empty()) group.members.emplace_back(member);
    }
    db.groups.push_back(std::move(group));
    return {};
  }));
  return db;
}

Result<void> AddSpecAccounts(AccountDatabase& db, const spec::Accounts& accounts) {
  const size_t system_groups = db.groups.size();
  for (const spec::Group& group : accounts.groups) {
    for (size_t i = 0; i < db.groups.size(); ++i) {
      const GroupEntry& other = db.groups[i];
      if (other.name == group.name || other.gid == group.gid) {
        return Fail(ErrorCode::kSpec, Collision("group", "gid", group.name, group.gid,
                                                i < system_groups, other.name, other.gid));
      }
    }
    db.groups.push_back({group.name, group.gid, {}});
  }
  const size_t system_users = db.users.size();
  for (const spec::User& user : accounts.users) {
    for (size_t i = 0; i < db.users.size(); ++i) {
      const PasswdEntry& other = db.users[i];
      if (other.name == user.name || other.uid == user.uid) {
        return Fail(ErrorCode::kSpec, Collision("user", "uid", user.name, user.uid,
                                                i < system_users, other.name, other.uid));
      }
    }
    db.users.push_back({user.name, user.uid, user.gid, user.name, user.home, user.shell});
  }
  return {};
}

Result<std::string> RunAsUser(const AccountDatabase& db, std::string_view run_as) {
  auto uid_gid = [](uint32_t uid, uint32_t gid) {
    return std::to_string(uid) + ":" + std::to_string(gid);
  };
  if (std::optional<uint32_t> uid = ParseId(run_as)) {
    auto it = std::find_if(db.users.begin(), db.users.end(),
                           [&](const PasswdEntry& u) { return u.uid == *uid; });
    return uid_gid(*uid, it == db.users.end() ? *uid : it->gid);
  }
  if (std::optional<PasswdEntry> user = db.FindUser(run_as)) return uid_gid(user->uid, user->gid);
  if (run_as == "root") return uid_gid(0, 0);
  std::string users;
  for (const PasswdEntry& u : db.users) users += (users.empty() ? "" : ", ") + u.name;
  return Fail(ErrorCode::kSpec,
              "unknown user '" + std::string(run_as) +
                  "': the image's users (from base-passwd, accounts.users and the packages' "
                  "setup) are " +
                  users);
}

Result<uint32_t> ResolveUid(const AccountDatabase& db, std::string_view user) {
  if (std::optional<uint32_t> uid = ParseId(user)) return *uid;
  if (std::optional<PasswdEntry> entry = db.FindUser(user)) return entry->uid;
  return Fail(ErrorCode::kSpec, "unknown user '" + std::string(user) + "'");
}

Result<uint32_t> ResolveGid(const AccountDatabase& db, std::string_view group) {
  if (std::optional<uint32_t> gid = ParseId(group)) return *gid;
  if (std::optional<GroupEntry> entry = db.FindGroup(group)) return entry->gid;
  return Fail(ErrorCode::kSpec, "unknown group '" + std::string(group) + "'");
}

Result<std::string> PasswdText(const AccountDatabase& db) {
  std::string text;
  for (const PasswdEntry& u : db.users) {
    std::string who = "/etc/passwd: user '" + spec::EscapeControlCharacters(u.name) + "'";
    HB_TRY_VOID(CheckField(u.name, who, "name", /*name=*/true));
    HB_TRY_VOID(CheckField(u.gecos, who, "gecos", /*name=*/false));
    HB_TRY_VOID(CheckField(u.home, who, "home", /*name=*/false));
    HB_TRY_VOID(CheckField(u.shell, who, "shell", /*name=*/false));
    text += u.name + ":x:" + std::to_string(u.uid) + ":" + std::to_string(u.gid) + ":" + u.gecos +
            ":" + u.home + ":" + u.shell + "\n";
  }
  return text;
}

Result<std::string> GroupText(const AccountDatabase& db) {
  std::string text;
  for (const GroupEntry& g : db.groups) {
    std::string who = "/etc/group: group '" + spec::EscapeControlCharacters(g.name) + "'";
    HB_TRY_VOID(CheckField(g.name, who, "name", /*name=*/true));
    text += g.name + ":x:" + std::to_string(g.gid) + ":";
    for (size_t i = 0; i < g.members.size(); ++i) {
      HB_TRY_VOID(CheckField(g.members[i], who, "member", /*name=*/true));
      text += (i ? "," : "") + g.members[i];
    }
    text += "\n";
  }
  return text;
}

std::string NsswitchConf() {
  return "# /etc/nsswitch.conf\n"
         "#\n"
         "# Local files for every database, and DNS for host names.\n"
         "\n"
         "passwd:         files\n"
         "group:          files\n"
         "shadow:         files\n"
         "gshadow:        files\n"
         "\n"
         "hosts:          files dns\n"
         "networks:       files\n"
         "\n"
         "protocols:      files\n"
         "services:       files\n"
         "ethers:         files\n"
         "rpc:            files\n"
         "\n"
         "netgroup:       files\n";
}

}  // namespace hardbase::image
