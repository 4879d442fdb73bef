#include "deb/apt_sources.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "base/fs.h"
#include "base/strings.h"
#include "deb/control.h"

namespace hardbase::deb {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits at any of `separators` (and white space), dropping empty pieces.
std::vector<std::string> Split(std::string_view s, std::string_view separators = "") {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (IsSpace(c) || separators.find(c) != std::string_view::npos) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The lines of a (possibly multi-line) deb822 value without the comment lines apt allows
// between continuation lines.
std::vector<std::string_view> ValueLines(std::string_view value) {
  std::vector<std::string_view> lines;
  for (auto [line, number] : Lines(value)) {
    if (number > 1 && line.starts_with('#')) continue;
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> ValueTokens(std::string_view value, std::string_view separators = "") {
  std::vector<std::string> out;
  for (std::string_view line : ValueLines(value)) {
    for (std::string& t : Split(line, separators)) out.push_back(std::move(t));
  }
  return out;
}

bool IsHexFingerprint(std::string_view s) {
  if (!s.empty() && s.back() == '!') s.remove_suffix(1);  // apt: "exactly this (sub)key"
  if (s.size() != 16 && s.size() != 40 && s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// Sorts Signed-By items into key files and fingerprints; `where` prefixes errors.
Result<void> AddSignedBy(const std::vector<std::string>& items, const std::string& where,
                         AptSource& source) {
  for (const std::string& item : items) {
    if (item.find('/') != std::string::npos) {
      source.signed_by_paths.push_back(item);
    } else if (IsHexFingerprint(item)) {
      source.signed_by_fingerprints.push_back(item);
    } else {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: Signed-By '{}' is neither a keyring path nor a fingerprint",
                              where, item));
    }
  }
  return {};
}

// An armored key block from a deb822 value: continuation lines lose their indentation and a
// line of a lone "." stands for an empty line.
std::string InlineKeyText(std::string_view value) {
  std::string key;
  for (std::string_view line : ValueLines(value)) {
    std::string_view t = Trim(line);
    if (t.empty() && key.empty()) continue;  // the empty first line of "Signed-By:"
    if (t == ".") t = {};
    key.append(t);
    key.push_back('\n');
  }
  return key;
}

Result<bool> ParseBool(std::string_view value, const std::string& where, std::string_view field) {
  std::string v = AsciiLower(Trim(value));
  if (v == "yes" || v == "true" || v == "1" || v == "on") return true;
  if (v == "no" || v == "false" || v == "0" || v == "off") return false;
  return Fail(ErrorCode::kSpec,
              fmt::format("{}: {} must be yes or no, not '{}'", where, field, Trim(value)));
}

// The checks both formats share: a suite ending in '/' is a flat repository and takes no
// components; any other suite needs at least one.
Result<void> CheckSuitesAndComponents(const AptSource& s, const std::string& where) {
  if (s.uris.empty()) return Fail(ErrorCode::kSpec, fmt::format("{}: no URI", where));
  if (s.suites.empty()) return Fail(ErrorCode::kSpec, fmt::format("{}: no suite", where));
  for (const std::string& suite : s.suites) {
    bool flat = suite.back() == '/';
    if (flat && !s.components.empty()) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: flat repository suite '{}' takes no components", where, suite));
    }
    if (!flat && s.components.empty()) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: suite '{}' needs at least one component", where, suite));
    }
  }
  return {};
}

std::string JoinRoot(const std::string& root, std::string_view rel) {
  if (root.empty() || root == "/") return "/" + std::string(rel);
  std::string out = root;
  if (out.back() != '/') out += '/';
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  return out + std::string(rel);
}

// Names apt reads in its .d directories: letters, digits, '_', '-' and '.' only.
bool AptAcceptsName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// Sorted names of the regular files (or links to them) in `dir` ending in one of `exts`.
Result<std::vector<std::string>> ListDir(const std::string& dir,
                                         std::initializer_list<std::string_view> exts) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return names;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, fmt::format("list {}: {}", dir, ec.message()));
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kIo, fmt::format("list {}: {}", dir, ec.message()));
    std::string name = it->path().filename().string();
    if (!AptAcceptsName(name)) continue;
    if (!std::any_of(exts.begin(), exts.end(),
                     [&](std::string_view e) { return name.ends_with(e); })) {
      continue;
    }
    std::error_code type_ec;
    if (!std::filesystem::is_regular_file(it->path(), type_ec)) continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<std::vector<AptSource>> ParseDeb822Sources(std::string_view text,
                                                  std::string_view file_name) {
  std::vector<AptSource> out;
  ControlOptions options;
  options.allow_comments = true;
  auto visit = [&](const Stanza& stanza) -> Result<void> {
    std::string where = fmt::format("{} line {}", file_name, stanza.line());
    auto field_where = [&](std::string_view name) {
      for (const Field& f : stanza.fields()) {
        if (EqualsIgnoreCase(f.name, name)) {
          return fmt::format("{} line {}", file_name, LineNumberOf(text, f.name));
        }
      }
      return where;
    };

    if (stanza.Has("Enabled")) {
      HB_TRY(bool enabled, ParseBool(stanza.Get("Enabled"), field_where("Enabled"), "Enabled"));
      if (!enabled) return {};
    }
    if (!stanza.Has("Types")) return Fail(ErrorCode::kSpec, fmt::format("{}: no Types", where));
    bool binary = false;
    for (const std::string& type : ValueTokens(stanza.Get("Types"))) {
      if (type == "deb") {
        binary = true;
      } else if (type != "deb-src") {
        return Fail(ErrorCode::kSpec,
                    fmt::format("{}: unknown type '{}'", field_where("Types"), type));
      }
    }
    if (!binary) return {};

    AptSource s;
    s.origin_file = std::string(file_name);
    s.line = stanza.line();
    s.uris = ValueTokens(stanza.Get("URIs"));
    s.suites = ValueTokens(stanza.Get("Suites"));
    s.components = ValueTokens(stanza.Get("Components"));
    s.architectures = ValueTokens(stanza.Get("Architectures"), ",");
    if (stanza.Has("Trusted")) {
      HB_TRY(s.trusted, ParseBool(stanza.Get("Trusted"), field_where("Trusted"), "Trusted"));
    }
    if (stanza.Has("Signed-By")) {
      std::string_view signed_by = stanza.Get("Signed-By");
      if (signed_by.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string_view::npos) {
        s.signed_by_inline_key = InlineKeyText(signed_by);
        if (s.signed_by_inline_key.find("-----END PGP PUBLIC KEY BLOCK-----") ==
            std::string::npos) {
          return Fail(ErrorCode::kSpec, fmt::format("{}: Signed-By key block has no END line",
                                                    field_where("Signed-By")));
        }
      } else {
        HB_TRY_VOID(AddSignedBy(ValueTokens(signed_by, ","), field_where("Signed-By"), s));
        if (s.signed_by_paths.empty() && s.signed_by_fingerprints.empty()) {
          return Fail(ErrorCode::kSpec,
                      fmt::format("{}: empty Signed-By", field_where("Signed-By")));
        }
      }
    }
    HB_TRY_VOID(CheckSuitesAndComponents(s, where));
    out.push_back(std::move(s));
    return {};
  };
  auto r = ForEachStanza(text, visit, options);
  if (!r) {
    // ForEachStanza's own syntax errors say "line N: ..."; name the file in front.
    if (r.error().message.rfind("line ", 0) == 0) return Fail(r.error().Wrap(file_name));
    return Fail(std::move(r.error()));
  }
  return out;
}

Result<std::vector<AptSource>> ParseOneLineSources(std::string_view text,
                                                   std::string_view file_name) {
  std::vector<AptSource> out;
  for (auto [line, line_no] : Lines(text)) {
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    std::string where = fmt::format("{} line {}", file_name, line_no);

    size_t type_end = 0;
    while (type_end < line.size() && !IsSpace(line[type_end]) && line[type_end] != '[') {
      ++type_end;
    }
    std::string_view type = line.substr(0, type_end);
    std::string_view rest = Trim(line.substr(type_end));
    if (type == "deb-src") continue;
    if (type != "deb") {
      return Fail(ErrorCode::kSpec, fmt::format("{}: unknown type '{}'", where, type));
    }

    AptSource s;
    s.origin_file = std::string(file_name);
    s.line = line_no;
    if (!rest.empty() && rest.front() == '[') {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) {
        return Fail(ErrorCode::kSpec, fmt::format("{}: options '[' without ']'", where));
      }
      for (const std::string& option : Split(rest.substr(1, close - 1))) {
        size_t eq = option.find('=');
        if (eq == std::string::npos || eq == 0) {
          return Fail(ErrorCode::kSpec,
                      fmt::format("{}: option '{}' is not key=value", where, option));
        }
        std::string key = AsciiLower(option.substr(0, eq));
        std::string value = option.substr(eq + 1);
        if (key.back() == '-') {
          return Fail(
              ErrorCode::kSpec,
              fmt::format("{}: option '{}': removing values is not supported", where, option));
        }
        if (key.back() == '+') key.pop_back();
        if (key == "arch") {
          for (std::string& a : Split(value, ",")) s.architectures.push_back(std::move(a));
        } else if (key == "signed-by") {
          HB_TRY_VOID(AddSignedBy(Split(value, ","), where, s));
        } else if (key == "trusted") {
          HB_TRY(s.trusted, ParseBool(value, where, "trusted"));
        }
        // Other options (lang, target, pdiffs, by-hash, ...) do not change what is fetched.
      }
      rest = Trim(rest.substr(close + 1));
    }
    std::vector<std::string> words = Split(rest);
    if (words.size() < 2) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("{}: expected 'deb URI suite [component...]'", where));
    }
    s.uris.push_back(words[0]);
    s.suites.push_back(words[1]);
    s.components.assign(words.begin() + 2, words.end());
    HB_TRY_VOID(CheckSuitesAndComponents(s, where));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<AptSource>> LoadHostAptSources(const std::string& root) {
  std::vector<AptSource> all;
  auto add_file = [&](const std::string& path, bool deb822) -> Result<void> {
    HB_TRY(std::string text, ReadFile(path));
    auto parsed = deb822 ? ParseDeb822Sources(text, path) : ParseOneLineSources(text, path);
    if (!parsed) return Fail(std::move(parsed.error()));
    for (AptSource& s : *parsed) all.push_back(std::move(s));
    return {};
  };

  std::string main_list = JoinRoot(root, "etc/apt/sources.list");
  if (PathExists(main_list)) HB_TRY_VOID(add_file(main_list, false));
  std::string dir = JoinRoot(root, "etc/apt/sources.list.d");
  HB_TRY(std::vector<std::string> names, ListDir(dir, {".list", ".sources"}));
  for (const std::string& name : names) {
    HB_TRY_VOID(add_file(dir + "/" + name, name.ends_with(".sources")));
  }
  if (!root.empty() && root != "/") {
    for (AptSource& s : all) {
      for (std::string& p : s.signed_by_paths) p = JoinRoot(root, p);
    }
  }
  return all;
}

Result<std::vector<std::string>> DefaultAptKeyringPaths(const std::string& root) {
  std::vector<std::string> paths;
  std::string dir = JoinRoot(root, "etc/apt/trusted.gpg.d");
  HB_TRY(std::vector<std::string> names, ListDir(dir, {".gpg", ".asc"}));
  for (const std::string& name : names) paths.push_back(dir + "/" + name);
  std::string legacy = JoinRoot(root, "etc/apt/trusted.gpg");
  if (PathExists(legacy)) paths.push_back(legacy);
  return paths;
}

}  // namespace hardbase::deb
