#include "image/sysusers.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "image/setup.h"

namespace hardbase::image {
namespace {

std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 9 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(std::stoul(std::string(s)));
}

SetupAction Group(std::string name, std::optional<uint32_t> id) {
  SetupAction a;
  a.kind = SetupAction::Kind::kGroup;
  a.name = std::move(name);
  a.id = id;
  return a;
}

SetupAction User(std::string name, std::string group) {
  SetupAction a;
  a.kind = SetupAction::Kind::kUser;
  a.name = std::move(name);
  a.group = std::move(group);
  a.home = "/";
  return a;
}

bool SafeField(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// The actions of one line (without origins), or nullopt when it is not applied.
std::optional<std::vector<SetupAction>> ParseSysusersLine(std::string_view line) {
  std::optional<ConfigLine> split = SplitConfigLine(line, 6);
  if (!split || !split->rest.empty() || split->fields.empty()) return std::nullopt;
  std::vector<std::string> f;
  for (const std::string& raw : split->fields) {
    std::optional<std::string> field = WithoutSpecifiers(raw);
    if (!field) return std::nullopt;
    f.push_back(*field == "-" ? "" : *field);
  }
  f.resize(6);
  const std::string& type = split->fields[0];
  // Fields a type does not use may be written as "-" ("g input - -").
  auto unused_from = [&](size_t n) {
    return std::all_of(f.begin() + static_cast<long>(n), f.end(),
                       [](const std::string& x) { return x.empty(); });
  };
  std::vector<SetupAction> out;
  if (type == "r" && unused_from(3)) return out;
  if (type == "g" && unused_from(3)) {
    if (!IsValidAccountName(f[1])) return std::nullopt;
    std::optional<uint32_t> gid;
    if (!f[2].empty() && !(gid = ParseId(f[2]))) return std::nullopt;  // "/path": not applied
    out.push_back(Group(f[1], gid));
    return out;
  }
  if (type == "m" && unused_from(3)) {
    if (!IsValidAccountName(f[1]) || !IsValidAccountName(f[2])) return std::nullopt;
    out.push_back(Group(f[2], std::nullopt));
    out.push_back(Group(f[1], std::nullopt));
    out.push_back(User(f[1], f[1]));
    SetupAction member;
    member.kind = SetupAction::Kind::kMember;
    member.name = f[1];
    member.group = f[2];
    out.push_back(std::move(member));
    return out;
  }
  if (type != "u" && type != "u!") return std::nullopt;
  const std::string& name = f[1];
  if (!IsValidAccountName(name)) return std::nullopt;
  SetupAction user = User(name, name);
  std::optional<uint32_t> gid;
  if (!f[2].empty()) {
    size_t colon = f[2].find(':');
    std::string uid_text = f[2].substr(0, colon);
    if (!uid_text.empty() && uid_text != "-" && !(user.id = ParseId(uid_text))) {
      return std::nullopt;
    }
    if (colon == std::string::npos) {
      gid = user.id;  // the group gets the same number, when it is free
    } else {
      // UID:GID or UID:GROUP: an existing group (systemd-sysusers makes no group then).
      std::string group = f[2].substr(colon + 1);
      if (!ParseId(group) && !IsValidAccountName(group)) return std::nullopt;
      user.group = group;
    }
  }
  if (!SafeField(f[3]) || !SafeField(f[5])) return std::nullopt;
  user.gecos = f[3];
  if (!f[4].empty()) {
    std::optional<std::string> home = NormaliseSetupPath(f[4]);
    if (!home || !SafeField(*home)) return std::nullopt;
    user.home = *home;
  }
  if (!f[5].empty()) {
    if (!f[5].starts_with("/")) return std::nullopt;
    user.shell = f[5];
  }
  if (user.group == name) out.push_back(Group(name, gid));
  out.push_back(std::move(user));
  return out;
}

}  // namespace

ParsedSetup ParseSysusers(std::string_view text, std::string_view origin_prefix) {
  ParsedSetup out = ParseConfigLines(text, origin_prefix, ParseSysusersLine);
  // systemd-sysusers makes every group first, then the users, then the memberships.
  auto rank = [](const SetupAction& a) {
    return a.kind == SetupAction::Kind::kGroup ? 0 : a.kind == SetupAction::Kind::kUser ? 1 : 2;
  };
  std::stable_sort(out.actions.begin(), out.actions.end(),
                   [&](const SetupAction& a, const SetupAction& b) { return rank(a) < rank(b); });
  return out;
}

}  // namespace hardbase::image
