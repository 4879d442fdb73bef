#include "spec/image_spec.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "base/sha256.h"
#include "spec/path_checks.h"

namespace hardbase::spec {
namespace {

constexpr std::string_view kTopKeys[] = {"name",       "repositories", "archs",  "packages",
                                         "exclude",    "paths",        "files",  "accounts",
                                         "entrypoint", "cmd",          "env",    "workdir",
                                         "labels",     "annotations",  "variant"};
constexpr std::string_view kRepositoryKeys[] = {"url", "suites", "components", "keyring",
                                                "architectures"};
constexpr std::string_view kPathsKeys[] = {"include", "exclude"};
constexpr std::string_view kFileKeys[] = {"src", "dest", "mode", "owner"};
constexpr std::string_view kAccountsKeys[] = {"groups", "users", "run-as"};
constexpr std::string_view kGroupKeys[] = {"name", "gid"};
constexpr std::string_view kUserKeys[] = {"name", "uid", "gid", "home", "shell"};

constexpr uint32_t kMaxId = 4294967294u;  // (uid_t)-1 means "no change" to the kernel
constexpr uint32_t kNogroup = 65534;
// A spec is a page of YAML; anything much larger is not one, and is refused before it is parsed.
constexpr uint64_t kMaxSpecBytes = uint64_t{4} << 20;

// Index of the first byte that is not part of well-formed UTF-8 (no overlongs, surrogates or
// code points past U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

SourceLocation ToLocation(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

bool IsUnsignedDecimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A login name as useradd accepts it by default: [a-z_][a-z0-9_-]*[$]?, at most 32 characters.
bool IsValidAccountName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c == '$' && i + 1 == s.size());
    if (!ok) return false;
  }
  return true;
}

// An image name as OCI distribution allows for a repository: components of lowercase letters and
// digits joined by '.', '_', '__' or runs of '-', separated by '/'.
bool IsValidImageName(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    std::string_view part =
        s.substr(start, slash == std::string_view::npos ? s.npos : slash - start);
    if (part.empty()) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(part.front()) || !alnum(part.back())) return false;
    for (size_t i = 0; i < part.size();) {
      if (alnum(part[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < part.size() && !alnum(part[j])) ++j;
      std::string_view sep = part.substr(i, j - i);
      bool ok = sep == "." || sep == "_" || sep == "__" ||
                std::all_of(sep.begin(), sep.end(), [](char c) { return c == '-'; });
      if (!ok) return false;
      i = j;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool HasDotDotComponent(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == "..") return true;
    start = slash + 1;
  }
  return false;
}

// Checks glob syntax: absolute, no NUL, every '[' closed.
bool IsValidPathGlob(std::string_view glob) {
  if (glob.empty() || glob[0] != '/') return false;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') {
      if (++i >= glob.size()) return false;
    } else if (glob[i] == '[') {
      size_t j = i + 1;
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
      if (j < glob.size() && glob[j] == ']') ++j;  // a leading ']' is a member
      while (j < glob.size() && glob[j] != ']') ++j;
      if (j >= glob.size()) return false;
      i = j;
    }
  }
  return true;
}

bool IsRepositoryPathPart(std::string_view s) {
  if (s.empty() || s.front() == '/' || HasDotDotComponent(s)) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == '+' || c == '~';
  });
}

std::string JoinCandidates(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

// One key/value pair of a YAML mapping, with where the key was written.
struct Field {
  YAML::Node key;
  YAML::Node value;
  SourceLocation key_at;
};

// The known keys present in one mapping, checked for unknown and repeated keys.
struct Fields {
  std::map<std::string, Field, std::less<>> by_key;
  SourceLocation where;
  const Field* Get(std::string_view key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &it->second;
  }
};

// Turns YAML nodes into spec values; every failure names the file, the position and the path
// of the value inside the spec ("accounts.users[0].uid").
class SpecReader {
 public:
  explicit SpecReader(std::string file) : file_(std::move(file)) {}

  tl::unexpected<Error> ErrorAt(SourceLocation at, std::string_view path,
                                std::string_view message) const {
    std::string text = file_;
    if (at.line > 0) text += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    text += ": ";
    if (!path.empty()) {
      text += path;
      text += ": ";
    }
    text += message;
    return Fail(ErrorCode::kSpec, EscapeControlCharacters(text));
  }

  // Where a value is, for messages: a null value (`key:` with nothing after it) has no useful
  // position of its own, so its key's is used.
  static SourceLocation Where(const YAML::Node& node, SourceLocation fallback = {}) {
    if (node.IsNull() || node.Mark().is_null()) return fallback;
    return ToLocation(node.Mark());
  }

  Result<Fields> ReadMap(const YAML::Node& node, const std::string& path,
                         std::span<const std::string_view> known, SourceLocation at) const {
    if (!node.IsMap()) {
      return ErrorAt(Where(node, at), path,
                     "expected a mapping with keys " + JoinCandidates(known));
    }
    Fields fields;
    fields.where = Where(node, at);
    for (auto it = node.begin(); it != node.end(); ++it) {
      SourceLocation key_at = ToLocation(it->first.Mark());
      if (!it->first.IsScalar()) return ErrorAt(key_at, path, "expected a string key");
      const std::string& key = it->first.Scalar();
      if (FirstInvalidUtf8(key) != std::string_view::npos) {
        return ErrorAt(key_at, path, "key is not valid UTF-8");
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message = "unknown key '" + key + "'";
        std::string near = ClosestMatch(key, known);
        if (!near.empty()) {
          message += " (did you mean '" + near + "'?)";
        } else {
          message += " (expected one of " + JoinCandidates(known) + ")";
        }
        return ErrorAt(key_at, path, message);
      }
      auto [pos, inserted] = fields.by_key.try_emplace(key, Field{it->first, it->second, key_at});
      if (!inserted) {
        return ErrorAt(key_at, path,
                       "duplicate key '" + key + "' (first at line " +
                           std::to_string(pos->second.key_at.line) + ")");
      }
    }
    return fields;
  }

  Result<std::string> ReadString(const YAML::Node& node, const std::string& path,
                                 SourceLocation at) const {
    if (!node.IsScalar()) return ErrorAt(Where(node, at), path, "expected a string");
    const std::string& s = node.Scalar();
    if (FirstInvalidUtf8(s) != std::string_view::npos) {
      return ErrorAt(Where(node, at), path, "string is not valid UTF-8");
    }
    if (s.find('\0') != std::string::npos) {
      return ErrorAt(Where(node, at), path, "string contains a NUL character");
    }
    return s;
  }

  Result<std::string> ReadNonEmptyString(const YAML::Node& node, const std::string& path,
                                         SourceLocation at) const {
    HB_TRY(std::string s, ReadString(node, path, at));
    if (s.empty()) return ErrorAt(Where(node, at), path, "must not be empty");
    return s;
  }

  // A list of strings; `positions` (if given) receives where each element was written.
  Result<std::vector<std::string>> ReadStringList(
      const YAML::Node& node, const std::string& path, SourceLocation at,
      std::vector<SourceLocation>* positions = nullptr) const {
    if (!node.IsSequence()) return ErrorAt(Where(node, at), path, "expected a list of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node& item = node[i];
      std::string item_path = path + "[" + std::to_string(i) + "]";
      SourceLocation item_at = Where(item, Where(node, at));
      if (!item.IsScalar()) return ErrorAt(item_at, item_path, "expected a list of strings");
      HB_TRY(std::string s, ReadString(item, item_path, item_at));
      out.push_back(std::move(s));
      if (positions) positions->push_back(item_at);
    }
    return out;
  }

  Result<std::map<std::string, std::string>> ReadStringMap(const YAML::Node& node,
                                                           const std::string& path,
                                                           SourceLocation at) const {
    if (!node.IsMap()) return ErrorAt(Where(node, at), path, "expected a map of strings");
    std::map<std::string, std::string> out;
    std::map<std::string, int> lines;
    for (auto it = node.begin(); it != node.end(); ++it) {
      SourceLocation key_at = ToLocation(it->first.Mark());
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        return ErrorAt(it->first.IsScalar() ? Where(it->second, key_at) : key_at, path,
                       "expected a map of strings");
      }
      HB_TRY(std::string key, ReadNonEmptyString(it->first, path, key_at));
      HB_TRY(std::string value, ReadString(it->second, path + "." + key, key_at));
      if (auto [pos, inserted] = lines.try_emplace(key, key_at.line); !inserted) {
        return ErrorAt(
            key_at, path,
            "duplicate key '" + key + "' (first at line " + std::to_string(pos->second) + ")");
      }
      out.emplace(std::move(key), std::move(value));
    }
    return out;
  }

  Result<uint32_t> ReadId(const YAML::Node& node, const std::string& path,
                          SourceLocation at) const {
    auto bad = [&] {
      return ErrorAt(Where(node, at), path,
                     "expected an integer from 0 to " + std::to_string(kMaxId));
    };
    if (!node.IsScalar()) return bad();
    const std::string& s = node.Scalar();
    uint64_t v = 0;
    if (!IsUnsignedDecimal(s) || s.size() > 10) return bad();
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v > kMaxId) return bad();
    return static_cast<uint32_t>(v);
  }

  // File mode: always read as octal digits ("0644", "644", "0o644" or an unquoted 0755), because
  // nobody writes permission bits in decimal and YAML 1.1/1.2 disagree about a leading 0.
  Result<uint32_t> ReadMode(const YAML::Node& node, const std::string& path,
                            SourceLocation at) const {
    auto bad = [&](const std::string& text) {
      return ErrorAt(Where(node, at), path,
                     "bad mode '" + text + "': expected octal permission bits like 0644 or 0755");
    };
    if (!node.IsScalar()) return bad(node.IsNull() ? "" : "(not a scalar)");
    std::string_view s = node.Scalar();
    std::string text(s);
    if (s.starts_with("0o") || s.starts_with("0O")) s.remove_prefix(2);
    if (s.empty() || s.size() > 6) return bad(text);
    uint32_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '7') return bad(text);
      v = v * 8 + static_cast<uint32_t>(c - '0');
    }
    if (v > 07777) return bad(text);
    return v;
  }

  // A path within CheckPathLimits, so that it fits in the image and in the files that record it.
  Result<std::string> ReadLimitedPath(const YAML::Node& node, const std::string& path,
                                      SourceLocation at) const {
    HB_TRY(std::string s, ReadNonEmptyString(node, path, at));
    if (auto limits = CheckPathLimits(s); !limits) {
      return ErrorAt(Where(node, at), path, limits.error().message);
    }
    return s;
  }

  // An absolute, lexically normal path in the image ("/srv/app", not "/srv//app/" or "/srv/./app").
  // A `passwd_field` (a home or shell) also must not hold ':', which separates /etc/passwd fields.
  Result<std::string> ReadAbsolutePath(const YAML::Node& node, const std::string& path,
                                       SourceLocation at, bool passwd_field = false) const {
    HB_TRY(std::string s, ReadString(node, path, at));
    if (s.empty() || s[0] != '/') {
      return ErrorAt(Where(node, at), path, "expected an absolute path, got '" + s + "'");
    }
    if (HasDotDotComponent(s)) {
      return ErrorAt(Where(node, at), path, "path '" + s + "' must not contain '..'");
    }
    HB_TRY(s, ReadLimitedPath(node, path, at));
    std::string normal = std::filesystem::path(s).lexically_normal().string();
    if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    if (normal != s) {
      return ErrorAt(Where(node, at), path,
                     "path '" + s + "' is not in normal form: write '" + normal + "'");
    }
    if (passwd_field && s.find(':') != std::string::npos) {
      return ErrorAt(Where(node, at), path,
                     "path '" + s + "' must not contain ':', which separates /etc/passwd fields");
    }
    return s;
  }

  Result<std::vector<std::string>> ReadArchList(const YAML::Node& node, const std::string& path,
                                                SourceLocation at, bool allow_empty) const {
    std::vector<SourceLocation> where;
    HB_TRY(std::vector<std::string> archs, ReadStringList(node, path, at, &where));
    if (archs.empty() && !allow_empty) {
      return ErrorAt(Where(node, at), path, "must name at least one architecture");
    }
    for (size_t i = 0; i < archs.size(); ++i) {
      std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!IsKnownArchitecture(archs[i])) {
        std::string message = "invalid architecture '" + archs[i] + "'";
        if (auto debian = DebianArchitectureForMachine(archs[i]); debian) {
          message += ": Debian calls it " + *debian;
        } else if (std::string near = ClosestMatch(archs[i], KnownArchitectures()); !near.empty()) {
          message += " (did you mean '" + near + "'?)";
        } else {
          message += ": expected a Debian architecture such as amd64 or arm64";
        }
        return ErrorAt(where[i], item_path, message);
      }
      for (size_t j = 0; j < i; ++j) {
        if (archs[j] == archs[i]) {
          return ErrorAt(where[i], item_path,
                         "duplicate architecture '" + archs[i] + "' (first at line " +
                             std::to_string(where[j].line) + ")");
        }
      }
    }
    return archs;
  }

  Result<std::vector<Repository>> ReadRepositories(const YAML::Node& node,
                                                   SourceLocation at) const {
    const std::string path = "repositories";
    if (!node.IsSequence()) {
      return ErrorAt(Where(node, at), path, "expected a list of repositories (url, suites, ...)");
    }
    std::vector<Repository> out;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      HB_TRY(Fields f, ReadMap(node[i], p, kRepositoryKeys, Where(node, at)));
      Repository repo;
      repo.where = f.where;
      const Field* url = f.Get("url");
      if (!url) return ErrorAt(f.where, p, "missing required key 'url'");
      HB_TRY(repo.url, ReadNonEmptyString(url->value, p + ".url", url->key_at));
      if (!(repo.url.starts_with("http://") || repo.url.starts_with("https://") ||
            repo.url.starts_with("file:/")) ||
          std::any_of(repo.url.begin(), repo.url.end(), [](char c) {
            return c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
          })) {
        return ErrorAt(Where(url->value, url->key_at), p + ".url",
                       "expected an http://, https:// or file:/ URL, got '" + repo.url + "'");
      }
      const Field* suites = f.Get("suites");
      if (!suites) return ErrorAt(f.where, p, "missing required key 'suites'");
      std::vector<SourceLocation> suite_at;
      HB_TRY(repo.suites, ReadStringList(suites->value, p + ".suites", suites->key_at, &suite_at));
      if (repo.suites.empty()) {
        return ErrorAt(Where(suites->value, suites->key_at), p + ".suites",
                       "must name at least one suite");
      }
      for (size_t k = 0; k < repo.suites.size(); ++k) {
        if (!IsRepositoryPathPart(repo.suites[k])) {
          return ErrorAt(suite_at[k], p + ".suites[" + std::to_string(k) + "]",
                         "invalid suite name '" + repo.suites[k] + "'");
        }
      }
      if (const Field* c = f.Get("components")) {
        std::vector<SourceLocation> comp_at;
        HB_TRY(repo.components, ReadStringList(c->value, p + ".components", c->key_at, &comp_at));
        if (repo.components.empty()) {
          return ErrorAt(Where(c->value, c->key_at), p + ".components",
                         "must name at least one component (default: [main])");
        }
        for (size_t k = 0; k < repo.components.size(); ++k) {
          if (!IsRepositoryPathPart(repo.components[k])) {
            return ErrorAt(comp_at[k], p + ".components[" + std::to_string(k) + "]",
                           "invalid component name '" + repo.components[k] + "'");
          }
        }
      }
      if (const Field* k = f.Get("keyring")) {
        HB_TRY(repo.keyring, ReadLimitedPath(k->value, p + ".keyring", k->key_at));
      }
      if (const Field* a = f.Get("architectures")) {
        HB_TRY(repo.architectures,
               ReadArchList(a->value, p + ".architectures", a->key_at, /*allow_empty=*/false));
      }
      out.push_back(std::move(repo));
    }
    return out;
  }

  Result<std::vector<PackageRequest>> ReadPackages(const YAML::Node& node,
                                                   SourceLocation at) const {
    const std::string path = "packages";
    std::vector<SourceLocation> where;
    HB_TRY(std::vector<std::string> items, ReadStringList(node, path, at, &where));
    if (items.empty()) {
      return ErrorAt(Where(node, at), path, "the list is empty: name at least one package");
    }
    std::vector<PackageRequest> out;
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      PackageRequest req;
      req.where = where[i];
      std::string_view item = items[i];
      if (item.find_first_of("<>() ") != std::string_view::npos) {
        return ErrorAt(where[i], p, InvalidPackageNameMessage(items[i], items[i]));
      }
      if (size_t eq = item.find('='); eq != std::string_view::npos) {
        req.name = std::string(item.substr(0, eq));
        req.version = std::string(item.substr(eq + 1));
        if (!IsValidVersion(req.version)) {
          return ErrorAt(where[i], p,
                         "invalid version '" + req.version + "' in '" + items[i] +
                             "': expected a Debian version such as 1.2-3 or 1:2.0~rc1-1");
        }
      } else {
        req.name = items[i];
      }
      if (!IsValidPackageName(req.name)) {
        return ErrorAt(where[i], p, InvalidPackageNameMessage(req.name, items[i]));
      }
      if (auto [pos, inserted] = first_line.try_emplace(req.name, where[i].line); !inserted) {
        return ErrorAt(where[i], p,
                       "duplicate package '" + req.name + "' (first at line " +
                           std::to_string(pos->second) + ")");
      }
      out.push_back(std::move(req));
    }
    return out;
  }

  static std::string InvalidPackageNameMessage(const std::string& name, const std::string& item) {
    std::string message = "invalid package name '" + name + "'";
    if (item.find_first_of("<>( ") != std::string::npos) {
      message += ": pin a version with name=version";
    } else if (name.find(':') != std::string::npos) {
      message += ": architecture qualifiers are not supported here; use archs";
    } else {
      message +=
          ": Debian package names are at least 2 characters of a-z, 0-9, '+', '-' and '.', "
          "starting with a letter or digit";
    }
    return message;
  }

  Result<PathFilter> ReadPaths(const YAML::Node& node, SourceLocation at) const {
    HB_TRY(Fields f, ReadMap(node, "paths", kPathsKeys, at));
    PathFilter out;
    for (std::string_view which : kPathsKeys) {
      const Field* field = f.Get(which);
      if (!field) continue;
      std::string p = "paths." + std::string(which);
      std::vector<SourceLocation> where;
      HB_TRY(std::vector<std::string> globs,
             ReadStringList(field->value, p, field->key_at, &where));
      for (size_t i = 0; i < globs.size(); ++i) {
        if (auto limits = CheckPathLimits(globs[i]); !limits) {
          return ErrorAt(where[i], p + "[" + std::to_string(i) + "]", limits.error().message);
        }
        if (!IsValidPathGlob(globs[i])) {
          return ErrorAt(where[i], p + "[" + std::to_string(i) + "]",
                         "invalid glob '" + globs[i] +
                             "': expected an absolute path pattern like /usr/share/doc/** "
                             "with every '[' closed");
        }
      }
      (which == "include" ? out.include : out.exclude) = std::move(globs);
    }
    return out;
  }

  // "user:group", "user" or "uid"; each part a name or a decimal id.
  Result<std::pair<std::string, std::string>> ParseOwner(const std::string& owner,
                                                         const std::string& path,
                                                         SourceLocation at) const {
    auto valid_part = [](std::string_view s) {
      if (IsUnsignedDecimal(s)) {
        uint64_t v = 0;
        if (s.size() > 10) return false;
        std::from_chars(s.data(), s.data() + s.size(), v);
        return v <= kMaxId;
      }
      return IsValidAccountName(s);
    };
    size_t colon = owner.find(':');
    std::string user = owner.substr(0, colon);
    std::string group;
    if (colon != std::string::npos) {
      group = owner.substr(colon + 1);
    } else if (IsUnsignedDecimal(user)) {
      group = user;
    }
    if (!valid_part(user) || (colon != std::string::npos && !valid_part(group))) {
      return ErrorAt(at, path,
                     "bad owner '" + owner +
                         "': expected user:group, each a name or a number (e.g. 65532:65532)");
    }
    return std::make_pair(user, group);
  }

  Result<std::vector<FileEntry>> ReadFiles(const YAML::Node& node, SourceLocation at) const {
    const std::string path = "files";
    if (!node.IsSequence()) {
      return ErrorAt(Where(node, at), path, "expected a list of {src, dest, mode, owner}");
    }
    std::vector<FileEntry> out;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      HB_TRY(Fields f, ReadMap(node[i], p, kFileKeys, Where(node, at)));
      FileEntry entry;
      entry.where = f.where;
      const Field* src = f.Get("src");
      if (!src) return ErrorAt(f.where, p, "missing required key 'src'");
      HB_TRY(entry.src, ReadLimitedPath(src->value, p + ".src", src->key_at));
      const Field* dest = f.Get("dest");
      if (!dest) return ErrorAt(f.where, p, "missing required key 'dest'");
      HB_TRY(entry.dest, ReadAbsolutePath(dest->value, p + ".dest", dest->key_at));
      if (const Field* mode = f.Get("mode")) {
        HB_TRY(entry.mode, ReadMode(mode->value, p + ".mode", mode->key_at));
      }
      if (const Field* owner = f.Get("owner")) {
        HB_TRY(std::string text, ReadString(owner->value, p + ".owner", owner->key_at));
        HB_TRY(auto parts, ParseOwner(text, p + ".owner", Where(owner->value, owner->key_at)));
        entry.user = std::move(parts.first);
        entry.group = std::move(parts.second);
      }
      out.push_back(std::move(entry));
    }
    return out;
  }

  Result<Accounts> ReadAccounts(const YAML::Node& node, SourceLocation at) const {
    HB_TRY(Fields f, ReadMap(node, "accounts", kAccountsKeys, at));
    Accounts out;
    std::map<uint32_t, std::string> gid_owner;  // gid -> path of the group that has it
    std::map<std::string, std::string> group_names;
    if (const Field* groups = f.Get("groups")) {
      if (!groups->value.IsSequence()) {
        return ErrorAt(Where(groups->value, groups->key_at), "accounts.groups",
                       "expected a list of {name, gid}");
      }
      for (size_t i = 0; i < groups->value.size(); ++i) {
        std::string p = "accounts.groups[" + std::to_string(i) + "]";
        HB_TRY(Fields g, ReadMap(groups->value[i], p, kGroupKeys, groups->key_at));
        Group group;
        const Field* name = g.Get("name");
        if (!name) return ErrorAt(g.where, p, "missing required key 'name'");
        HB_TRY(group.name, ReadString(name->value, p + ".name", name->key_at));
        if (!IsValidAccountName(group.name)) {
          return ErrorAt(Where(name->value, name->key_at), p + ".name",
                         "invalid group name '" + group.name + "'");
        }
        const Field* gid = g.Get("gid");
        if (!gid) return ErrorAt(g.where, p, "missing required key 'gid'");
        HB_TRY(group.gid, ReadId(gid->value, p + ".gid", gid->key_at));
        if (group.name == "root" || group.gid == 0) {
          return ErrorAt(g.where, p, "group root (gid 0) comes from base-passwd; do not list it");
        }
        if (auto [pos, ok] = group_names.try_emplace(group.name, p); !ok) {
          return ErrorAt(g.where, p, "group name '" + group.name + "' repeats " + pos->second);
        }
        if (auto [pos, ok] = gid_owner.try_emplace(group.gid, p); !ok) {
          return ErrorAt(g.where, p,
                         "gid " + std::to_string(group.gid) + " repeats " + pos->second);
        }
        out.groups.push_back(std::move(group));
      }
    }
    const Field* users = f.Get("users");
    if (users) {
      if (!users->value.IsSequence()) {
        return ErrorAt(Where(users->value, users->key_at), "accounts.users",
                       "expected a list of {name, uid, gid, home, shell}");
      }
      std::map<std::string, std::string> user_names;
      std::map<uint32_t, std::string> uids;
      for (size_t i = 0; i < users->value.size(); ++i) {
        std::string p = "accounts.users[" + std::to_string(i) + "]";
        HB_TRY(Fields u, ReadMap(users->value[i], p, kUserKeys, users->key_at));
        User user;
        const Field* name = u.Get("name");
        if (!name) return ErrorAt(u.where, p, "missing required key 'name'");
        HB_TRY(user.name, ReadString(name->value, p + ".name", name->key_at));
        if (!IsValidAccountName(user.name)) {
          return ErrorAt(Where(name->value, name->key_at), p + ".name",
                         "invalid user name '" + user.name + "'");
        }
        const Field* uid = u.Get("uid");
        if (!uid) return ErrorAt(u.where, p, "missing required key 'uid'");
        HB_TRY(user.uid, ReadId(uid->value, p + ".uid", uid->key_at));
        if (user.name == "root" || user.uid == 0) {
          return ErrorAt(u.where, p,
                         "user root (uid 0) comes from base-passwd; to run as root write "
                         "run-as: root");
        }
        user.gid = user.uid;
        if (const Field* gid = u.Get("gid")) {
          HB_TRY(user.gid, ReadId(gid->value, p + ".gid", gid->key_at));
        }
        user.home = "/home/" + user.name;
        if (const Field* home = u.Get("home")) {
          HB_TRY(user.home, ReadAbsolutePath(home->value, p + ".home", home->key_at,
                                             /*passwd_field=*/true));
        }
        if (const Field* shell = u.Get("shell")) {
          HB_TRY(user.shell, ReadAbsolutePath(shell->value, p + ".shell", shell->key_at,
                                              /*passwd_field=*/true));
        }
        if (auto [pos, ok] = user_names.try_emplace(user.name, p); !ok) {
          return ErrorAt(u.where, p, "user name '" + user.name + "' repeats " + pos->second);
        }
        if (auto [pos, ok] = uids.try_emplace(user.uid, p); !ok) {
          return ErrorAt(u.where, p, "uid " + std::to_string(user.uid) + " repeats " + pos->second);
        }
        out.users.push_back(std::move(user));
      }
    } else {
      out.users.push_back(DefaultUser());
    }
    if (!f.Get("groups")) {
      for (const User& user : out.users) {
        if (user.gid < 1000 || user.gid == kNogroup) continue;
        if (gid_owner.count(user.gid) || group_names.count(user.name)) continue;
        gid_owner.emplace(user.gid, user.name);
        group_names.emplace(user.name, user.name);
        out.groups.push_back(Group{user.name, user.gid});
      }
    }
    if (const Field* run_as = f.Get("run-as")) {
      HB_TRY(out.run_as, ReadNonEmptyString(run_as->value, "accounts.run-as", run_as->key_at));
      bool listed = std::any_of(out.users.begin(), out.users.end(),
                                [&](const User& u) { return u.name == out.run_as; });
      bool numeric = IsUnsignedDecimal(out.run_as) && out.run_as.size() <= 10 &&
                     std::stoull(out.run_as) <= kMaxId;
      if (!listed && !numeric && out.run_as != "root") {
        return ErrorAt(Where(run_as->value, run_as->key_at), "accounts.run-as",
                       "unknown user '" + out.run_as +
                           "': expected a user from accounts.users, root, or a numeric uid");
      }
    } else if (!out.users.empty()) {
      out.run_as = out.users.front().name;
    } else {
      return ErrorAt(f.where, "accounts",
                     "no users are listed, so run-as must say who runs the image");
    }
    return out;
  }

  static User DefaultUser() {
    return User{"nonroot", kNonrootId, kNonrootId, "/home/nonroot", "/usr/sbin/nologin"};
  }

  static Accounts DefaultAccounts() {
    return Accounts{{Group{"nonroot", kNonrootId}}, {DefaultUser()}, "nonroot"};
  }

  Result<ImageSpec> ReadSpec(const YAML::Node& root) const {
    if (!root.IsMap()) {
      SourceLocation at = Where(root, {1, 1});
      if (root.IsNull()) return ErrorAt(at, "", "the spec is empty");
      return ErrorAt(at, "", "expected a mapping of spec keys (name, packages, ...)");
    }
    HB_TRY(Fields f, ReadMap(root, "", kTopKeys, {1, 1}));
    ImageSpec spec;
    spec.accounts = DefaultAccounts();

    const Field* name = f.Get("name");
    if (!name) return ErrorAt(f.where, "", "missing required key 'name'");
    HB_TRY(spec.name, ReadString(name->value, "name", name->key_at));
    if (!IsValidImageName(spec.name)) {
      return ErrorAt(Where(name->value, name->key_at), "name",
                     "invalid image name '" + spec.name +
                         "': expected lowercase letters and digits separated by '.', '_', '-' "
                         "or '/'");
    }
    if (const Field* r = f.Get("repositories")) {
      HB_TRY(spec.repositories, ReadRepositories(r->value, r->key_at));
    }
    if (const Field* a = f.Get("archs")) {
      HB_TRY(spec.archs, ReadArchList(a->value, "archs", a->key_at, /*allow_empty=*/false));
    } else {
      HB_TRY(std::string host, HostArchitecture());
      spec.archs = {std::move(host)};
    }
    const Field* packages = f.Get("packages");
    if (!packages) return ErrorAt(f.where, "", "missing required key 'packages'");
    HB_TRY(spec.packages, ReadPackages(packages->value, packages->key_at));
    if (const Field* e = f.Get("exclude")) {
      std::vector<SourceLocation> where;
      HB_TRY(spec.exclude, ReadStringList(e->value, "exclude", e->key_at, &where));
      for (size_t i = 0; i < spec.exclude.size(); ++i) {
        std::string p = "exclude[" + std::to_string(i) + "]";
        const std::string& x = spec.exclude[i];
        if (!IsValidPackageName(x)) return ErrorAt(where[i], p, InvalidPackageNameMessage(x, x));
        auto named = std::find_if(spec.packages.begin(), spec.packages.end(),
                                  [&](const PackageRequest& r) { return r.name == x; });
        if (named != spec.packages.end()) {
          return ErrorAt(where[i], p,
                         "'" + x + "' is also listed in packages (line " +
                             std::to_string(named->where.line) + ")");
        }
      }
    }
    if (const Field* p = f.Get("paths")) {
      HB_TRY(spec.paths, ReadPaths(p->value, p->key_at));
    }
    if (const Field* p = f.Get("files")) {
      HB_TRY(spec.files, ReadFiles(p->value, p->key_at));
    }
    if (const Field* a = f.Get("accounts")) {
      HB_TRY(spec.accounts, ReadAccounts(a->value, a->key_at));
    }
    if (const Field* e = f.Get("entrypoint")) {
      HB_TRY(spec.entrypoint, ReadStringList(e->value, "entrypoint", e->key_at));
    }
    if (const Field* c = f.Get("cmd")) {
      HB_TRY(spec.cmd, ReadStringList(c->value, "cmd", c->key_at));
    }
    if (const Field* e = f.Get("env")) {
      HB_TRY(spec.env, ReadStringMap(e->value, "env", e->key_at));
      for (const auto& [key, value] : spec.env) {
        if (key.find('=') != std::string::npos) {
          return ErrorAt(Where(e->value, e->key_at), "env",
                         "variable name '" + key + "' must not contain '='");
        }
        if (std::any_of(key.begin(), key.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
          return ErrorAt(Where(e->value, e->key_at), "env",
                         "variable name '" + key + "' must not contain control characters");
        }
      }
    }
    spec.env.try_emplace("PATH", kDefaultPath);
    if (const Field* w = f.Get("workdir")) {
      HB_TRY(spec.workdir, ReadAbsolutePath(w->value, "workdir", w->key_at));
    }
    if (const Field* l = f.Get("labels")) {
      HB_TRY(spec.labels, ReadStringMap(l->value, "labels", l->key_at));
    }
    if (const Field* a = f.Get("annotations")) {
      HB_TRY(spec.annotations, ReadStringMap(a->value, "annotations", a->key_at));
    }
    if (const Field* v = f.Get("variant")) {
      HB_TRY(std::string variant, ReadString(v->value, "variant", v->key_at));
      if (variant != "debug") {
        return ErrorAt(Where(v->value, v->key_at), "variant",
                       "unknown variant '" + variant +
                           "': the only variant is debug (leave "
                           "variant out for the standard image)");
      }
      spec.variant = Variant::kDebug;
    }
    return spec;
  }

 private:
  std::string file_;
};

// Records where each document of a YAML stream starts, nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// A spec is one YAML document. This also guards against a yaml-cpp 0.7 bug: on a token that
// cannot start a node (a stray ',' as in ", x" or "[a], b") the parser reports an empty document
// without consuming the token, so YAML::LoadAll loops forever (fixed upstream after 0.8, PR #1319).
// Here at most three documents are looked at, and a document starting where the previous one
// started means the parser is stuck on that character.
Result<void> CheckSingleDocument(const std::string& text, const SpecReader& reader) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts docs;
  for (int i = 0; i < 3 && parser.HandleNextDocument(docs); ++i) {
  }
  for (size_t i = 1; i < docs.starts.size(); ++i) {
    if (docs.starts[i].pos == docs.starts[i - 1].pos) {
      auto pos = static_cast<size_t>(docs.starts[i].pos);
      std::string what = pos < text.size() ? "'" + text.substr(pos, 1) + "'" : "input";
      return reader.ErrorAt(ToLocation(docs.starts[i]), "", "invalid YAML: unexpected " + what);
    }
  }
  if (docs.starts.size() > 1) {
    return reader.ErrorAt(ToLocation(docs.starts[1]), "",
                          "a second YAML document starts here; a spec is one document");
  }
  return {};
}

std::pair<int, int> LineColumnOf(std::string_view text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

std::string ResolveRelativePath(std::string_view base_dir, std::string_view path) {
  std::filesystem::path p{std::string(path)};
  if (p.is_absolute() || base_dir.empty() || base_dir == ".") {
    std::string out = p.lexically_normal().string();
    return out.empty() ? "." : out;
  }
  std::string out = (std::filesystem::path{std::string(base_dir)} / p).lexically_normal().string();
  return out.empty() ? "." : out;
}

std::string ImageSpec::ResolvePath(std::string_view path) const {
  return ResolveRelativePath(base_dir, path);
}

std::string ImageSpec::Locate(SourceLocation where) const {
  if (where.line <= 0) return source_file;
  return source_file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

Result<ImageSpec> ParseImageSpec(std::string_view yaml_text, std::string_view file_name) {
  const std::string file(file_name);
  SpecReader reader(file);
  if (size_t bad = FirstInvalidUtf8(yaml_text); bad != std::string_view::npos) {
    auto [line, column] = LineColumnOf(yaml_text, bad);
    return reader.ErrorAt({line, column}, "", "the spec is not valid UTF-8");
  }
  try {
    const std::string text(yaml_text);
    HB_TRY_VOID(CheckSingleDocument(text, reader));
    YAML::Node root = YAML::Load(text);
    HB_TRY(ImageSpec spec, reader.ReadSpec(root));
    spec.source_file = file;
    spec.base_dir = DirName(file);
    return spec;
  } catch (const YAML::Exception& e) {
    return reader.ErrorAt(ToLocation(e.mark), "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kSpec,
                EscapeControlCharacters(file + ": cannot read spec: " + e.what()));
  }
}

Result<ImageSpec> LoadImageSpec(const std::string& path) {
  auto text = ReadRegularFile(path, kMaxSpecBytes);
  if (!text) return Fail(std::move(text.error()).Wrap("load spec"));
  return ParseImageSpec(*text, path);
}

std::vector<PackageRequest> RequestedPackages(const ImageSpec& spec) {
  std::vector<PackageRequest> out = spec.packages;
  if (spec.variant == Variant::kDebug &&
      std::none_of(out.begin(), out.end(),
                   [](const PackageRequest& r) { return r.name == "busybox"; })) {
    out.push_back(PackageRequest{"busybox", "", {}});
  }
  return out;
}

std::string ResolutionDigest(const ImageSpec& spec) {
  using nlohmann::json;
  auto sorted_unique = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  json repos = json::array();
  for (const Repository& r : spec.repositories) {
    repos.push_back(json{{"url", r.url},
                         {"suites", r.suites},
                         {"components", r.components},
                         {"keyring", r.keyring},
                         {"architectures", r.architectures}});
  }
  std::vector<std::string> packages;
  for (const PackageRequest& p : spec.packages) packages.push_back(p.ToString());
  // nlohmann::json objects keep keys sorted, so dump() is canonical for this shape.
  json doc = {
      {"digest_version", 1},
      {"repositories", repos},
      {"archs", sorted_unique(spec.archs)},
      {"packages", sorted_unique(std::move(packages))},
      {"exclude", sorted_unique(spec.exclude)},
      {"variant", spec.variant == Variant::kDebug ? "debug" : "standard"},
  };
  // Spec strings are checked to be UTF-8 when parsed; `replace` keeps this total for values made
  // in code.
  std::string canonical = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  return "sha256:" + Sha256Hex(canonical);
}

}  // namespace hardbase::spec
