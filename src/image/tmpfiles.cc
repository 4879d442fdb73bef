#include "image/tmpfiles.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "image/setup.h"

namespace hardbase::image {
namespace {

bool IsOwner(std::string_view s) {
  return IsValidAccountName(s) ||
         (!s.empty() && s.size() <= 9 &&
          std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// The actions of one line (without origins), or nullopt when it is not applied.
std::optional<std::vector<SetupAction>> ParseTmpfilesLine(std::string_view line) {
  std::optional<ConfigLine> split = SplitConfigLine(line, 6);
  if (!split || split->fields.size() < 2) return std::nullopt;
  std::vector<std::string> f = split->fields;
  f.resize(6);
  for (size_t i = 1; i < f.size(); ++i) {
    if (f[i] == "-") f[i].clear();
  }
  // Type: a letter, '+' for some, then modifiers.
  std::string_view type = f[0];
  if (type.empty()) return std::nullopt;
  char letter = type[0];
  bool plus = type.size() > 1 && type[1] == '+';
  std::string_view modifiers = type.substr(plus ? 2 : 1);
  if (modifiers.find_first_not_of("!-=") != std::string_view::npos) return std::nullopt;
  std::optional<std::string> path_text = WithoutSpecifiers(f[1]);
  std::optional<std::string> path = path_text ? NormaliseSetupPath(*path_text) : std::nullopt;
  if (!path) return std::nullopt;

  std::optional<uint32_t> mode;
  std::string mode_text = f[2];
  if (mode_text.starts_with(":")) mode_text.erase(0, 1);  // only when made: it is made here
  if (!mode_text.empty() && !(mode = ParseOctalMode(mode_text))) return std::nullopt;
  std::string user = f[3], group = f[4];
  for (std::string* owner : {&user, &group}) {
    if (owner->starts_with(":")) owner->erase(0, 1);
    if (!owner->empty() && (!WithoutSpecifiers(*owner) || !IsOwner(*owner))) return std::nullopt;
  }
  std::optional<std::string> argument = WithoutSpecifiers(split->rest);
  if (!argument) return std::nullopt;

  std::vector<SetupAction> out;
  auto action = [&](SetupAction::Kind kind) {
    SetupAction a;
    a.kind = kind;
    a.path = *path;
    return a;
  };
  // The mode and owner given, for what exists (`if_exists`) or was just made.
  auto adjust = [&](bool if_exists, bool recursive) {
    std::vector<SetupCondition> when;
    if (if_exists) when.push_back({SetupCondition::Kind::kPath, *path, true});
    if (!user.empty() || !group.empty()) {
      SetupAction a = action(SetupAction::Kind::kChown);
      a.user = user;
      a.owner_group = group;
      a.when = when;
      a.recursive = recursive;
      out.push_back(std::move(a));
    }
    if (mode) {
      SetupAction a = action(SetupAction::Kind::kChmod);
      a.mode = mode;
      a.when = when;
      a.recursive = recursive;
      out.push_back(std::move(a));
    }
  };
  switch (plus ? '\0' : letter) {
    case 'd':
    case 'D':
    case 'v':
    case 'q':
    case 'Q': {
      SetupAction dir = action(SetupAction::Kind::kDir);
      dir.mode = mode;
      dir.user = user;
      dir.owner_group = group;
      out.push_back(std::move(dir));
      adjust(false, false);
      return out;
    }
    case 'f':
      if (!argument->empty()) return std::nullopt;
      {
        SetupAction file = action(SetupAction::Kind::kFile);
        file.mode = mode;
        file.user = user;
        file.owner_group = group;
        out.push_back(std::move(file));
      }
      adjust(false, false);
      return out;
    case 'e':
    case 'z':
      adjust(true, false);
      return out;
    case 'Z':
      adjust(true, true);
      return out;
    case 'x':
    case 'X':
    case 'r':
    case 'R':
      return out;
    default:
      break;
  }
  if (letter == 'L') {
    SetupAction link = action(SetupAction::Kind::kSymlink);
    link.target = argument->empty() ? "/usr/share/factory" + *path : *argument;
    out.push_back(std::move(link));
    return out;
  }
  if (letter == 'C') {
    SetupAction copy = action(SetupAction::Kind::kCopy);
    std::optional<std::string> source =
        NormaliseSetupPath(argument->empty() ? "/usr/share/factory" + *path : *argument);
    if (!source) return std::nullopt;
    copy.target = *source;
    copy.recursive = true;
    out.push_back(std::move(copy));
    return out;
  }
  return std::nullopt;
}

}  // namespace

ParsedSetup ParseTmpfiles(std::string_view text, std::string_view origin_prefix) {
  return ParseConfigLines(text, origin_prefix, ParseTmpfilesLine);
}

}  // namespace hardbase::image
