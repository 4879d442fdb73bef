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

constexpr std::string_view kTopKeys[] = {"name",       "repositories", "archs",   "packages",
                                         "exclude",    "paths",        "files",   "accounts",
                                         "entrypoint", "cmd",          "env",     "workdir",
                                         "labels",     "annotations",  "variant", "dirs"};
constexpr std::string_view kRepositoryKeys[] = {"url", "suites", "components", "keyring",
                                                "architectures"};
constexpr std::string_view kPathsKeys[] = {"include", "exclude"};
constexpr std::string_view kFileKeys[] = {"src", "dest", "mode", "owner"};
constexpr std::string_view kDirKeys[] = {"path", "owner", "mode"};
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

// The known keys present in one mapping. Unknown and repeated keys have been reported and left
// out; `suggested` holds the known keys that an unknown key's did-you-mean pointed at.
struct Fields {
  std::map<std::string, Field, std::less<>> by_key;
  std::set<std::string, std::less<>> suggested;
  SourceLocation where;
  const Field* Get(std::string_view key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &it->second;
  }
};

// One string of a YAML list, with its index in the list and where it was written.
struct ListItem {
  std::string value;
  size_t index = 0;
  SourceLocation at;
};

// One mistake in a spec: where it is (to sort by) and its finished message line.
struct Problem {
  SourceLocation at;
  std::string text;
};

// A spec with more mistakes than this lists the first ones and counts the rest.
constexpr size_t kMaxListedProblems = 20;
// Reading stops after this many mistakes: aliases let a small hostile spec repeat one mistake
// without end, and no one reads past the first few anyway.
constexpr size_t kMaxProblems = 1000;

// Thrown by SpecReader when one more mistake than kMaxProblems is found; ParseImageSpec catches it.
struct TooManyProblems {};

std::string Indexed(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// Turns YAML nodes into spec values and collects every mistake instead of stopping at the first:
// each names the file, the position and the path of the value inside the spec
// ("accounts.users[0].uid"), and Report() gives them all at once, sorted by position.
//
// Recovery: a reader that finds a mistake records it (ErrorAt) and fails for the value it could
// not read; its caller goes on with the next key of the mapping or the next item of the list and
// leaves the bad one out. Checks that relate values to each other (repeated names and ids, exclude
// against packages, dirs against files) only see values read without a mistake, so they report
// nothing that is not there. A check that could fail only *because* something was left out is not
// made, as its message would be a cascade of a mistake already reported: no user being listed when
// some were left out, a required key missing when an unknown key's did-you-mean names it
// ("nmae: x" is one mistake), a list being empty when it had items that were all bad. A mistake in
// the YAML syntax stops parsing: yaml-cpp gives no tree to go on with.
class SpecReader {
 public:
  explicit SpecReader(std::string file) : file_(std::move(file)) {}

  // Records the mistake "file:line:column: path: message" and returns it as a failure.
  tl::unexpected<Error> ErrorAt(SourceLocation at, std::string_view path,
                                std::string_view message) {
    std::string text = file_;
    if (at.line > 0) text += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    text += ": ";
    if (!path.empty()) {
      text += path;
      text += ": ";
    }
    text += message;
    text = EscapeControlCharacters(text);
    Record(Problem{at, text});
    return Fail(ErrorCode::kSpec, std::move(text));
  }

  // Records a mistake whose message is complete as it is and has no position in the spec.
  void Note(std::string_view text) { Record(Problem{{}, EscapeControlCharacters(text)}); }

  bool HasProblems() const { return !problems_.empty(); }
  size_t ProblemCount() const { return problems_.size(); }

  // After this, a mistake past kMaxProblems is counted but no longer throws TooManyProblems (for
  // the handler of an exception that ended reading).
  void EndReading() { reading_ = false; }

  // Every recorded mistake as one kSpec error, in source order (by line, then column), each once.
  // A single mistake is the message itself; several give "file: N errors" with one detail line
  // each, at most kMaxListedProblems of them and then "... and M more errors".
  Error Report() const {
    std::vector<Problem> sorted = problems_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
      return std::pair(a.at.line, a.at.column) < std::pair(b.at.line, b.at.column);
    });
    std::set<std::string_view> seen;
    std::vector<std::string> lines;
    for (const Problem& p : sorted) {
      if (seen.insert(p.text).second) lines.push_back(p.text);
    }
    if (lines.size() == 1 && !stopped_) return Error(ErrorCode::kSpec, lines.front());
    const std::string more_than = stopped_ ? "more than " : "";
    Error error(ErrorCode::kSpec, EscapeControlCharacters(file_) + ": " + more_than +
                                      std::to_string(lines.size()) + " errors");
    size_t listed = std::min(lines.size(), kMaxListedProblems);
    error.details.assign(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(listed));
    if (lines.size() > listed || stopped_) {
      error.details.push_back("... and " + more_than + std::to_string(lines.size() - listed) +
                              " more errors");
    }
    return error;
  }

  // Where a value is, for messages: a null value (`key:` with nothing after it) has no useful
  // position of its own, so its key's is used.
  static SourceLocation Where(const YAML::Node& node, SourceLocation fallback = {}) {
    if (node.IsNull() || node.Mark().is_null()) return fallback;
    return ToLocation(node.Mark());
  }

  // The keys of a mapping; unknown, repeated and non-string keys are reported and left out. Fails
  // only when `node` is not a mapping.
  Result<Fields> ReadMap(const YAML::Node& node, const std::string& path,
                         std::span<const std::string_view> known, SourceLocation at) {
    if (!node.IsMap()) {
      return ErrorAt(Where(node, at), path,
                     "expected a mapping with keys " + JoinCandidates(known));
    }
    Fields fields;
    fields.where = Where(node, at);
    for (auto it = node.begin(); it != node.end(); ++it) {
      SourceLocation key_at = ToLocation(it->first.Mark());
      if (!it->first.IsScalar()) {
        ErrorAt(key_at, path, "expected a string key");
        continue;
      }
      const std::string& key = it->first.Scalar();
      if (FirstInvalidUtf8(key) != std::string_view::npos) {
        ErrorAt(key_at, path, "key is not valid UTF-8");
        continue;
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message = "unknown key '" + key + "'";
        std::string near = ClosestMatch(key, known);
        if (!near.empty()) {
          message += " (did you mean '" + near + "'?)";
          fields.suggested.insert(near);
        } else {
          message += " (expected one of " + JoinCandidates(known) + ")";
        }
        ErrorAt(key_at, path, message);
        continue;
      }
      auto [pos, inserted] = fields.by_key.try_emplace(key, Field{it->first, it->second, key_at});
      if (!inserted) {
        ErrorAt(key_at, path,
                "duplicate key '" + key + "' (first at line " +
                    std::to_string(pos->second.key_at.line) + ")");
      }
    }
    return fields;
  }

  // The field `key` of `fields`, or nullptr after reporting it missing (unless an unknown key's
  // did-you-mean already named it: that mistake is the one to fix).
  const Field* Required(const Fields& fields, std::string_view key, const std::string& path) {
    const Field* field = fields.Get(key);
    if (!field && !fields.suggested.contains(key)) {
      ErrorAt(fields.where, path, "missing required key '" + std::string(key) + "'");
    }
    return field;
  }

  Result<std::string> ReadString(const YAML::Node& node, const std::string& path,
                                 SourceLocation at) {
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
                                         SourceLocation at) {
    HB_TRY(std::string s, ReadString(node, path, at));
    if (s.empty()) return ErrorAt(Where(node, at), path, "must not be empty");
    return s;
  }

  // The strings of a list; an item that is not a string is reported and left out (the others
  // keep their index, for messages). Fails only when `node` is not a list.
  Result<std::vector<ListItem>> ReadStringItems(const YAML::Node& node, const std::string& path,
                                                SourceLocation at) {
    if (!node.IsSequence()) return ErrorAt(Where(node, at), path, "expected a list of strings");
    std::vector<ListItem> out;
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node& item = node[i];
      std::string item_path = Indexed(path, i);
      SourceLocation item_at = Where(item, Where(node, at));
      if (!item.IsScalar()) {
        ErrorAt(item_at, item_path, "expected a list of strings");
        continue;
      }
      auto s = ReadString(item, item_path, item_at);
      if (s) out.push_back(ListItem{std::move(*s), i, item_at});
    }
    return out;
  }

  Result<std::vector<std::string>> ReadStringList(const YAML::Node& node, const std::string& path,
                                                  SourceLocation at) {
    HB_TRY(std::vector<ListItem> items, ReadStringItems(node, path, at));
    std::vector<std::string> out;
    for (ListItem& item : items) out.push_back(std::move(item.value));
    return out;
  }

  // A mapping of strings to strings; bad entries are reported and left out.
  Result<std::map<std::string, std::string>> ReadStringMap(const YAML::Node& node,
                                                           const std::string& path,
                                                           SourceLocation at) {
    if (!node.IsMap()) return ErrorAt(Where(node, at), path, "expected a map of strings");
    std::map<std::string, std::string> out;
    std::map<std::string, int> lines;
    for (auto it = node.begin(); it != node.end(); ++it) {
      SourceLocation key_at = ToLocation(it->first.Mark());
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        ErrorAt(it->first.IsScalar() ? Where(it->second, key_at) : key_at, path,
                "expected a map of strings");
        continue;
      }
      auto key = ReadNonEmptyString(it->first, path, key_at);
      if (!key) continue;
      auto value = ReadString(it->second, path + "." + *key, key_at);
      if (!value) continue;
      if (auto [pos, inserted] = lines.try_emplace(*key, key_at.line); !inserted) {
        ErrorAt(key_at, path,
                "duplicate key '" + *key + "' (first at line " + std::to_string(pos->second) + ")");
        continue;
      }
      out.emplace(std::move(*key), std::move(*value));
    }
    return out;
  }

  Result<uint32_t> ReadId(const YAML::Node& node, const std::string& path, SourceLocation at) {
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
  Result<uint32_t> ReadMode(const YAML::Node& node, const std::string& path, SourceLocation at) {
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
                                      SourceLocation at) {
    HB_TRY(std::string s, ReadNonEmptyString(node, path, at));
    if (auto limits = CheckPathLimits(s); !limits) {
      return ErrorAt(Where(node, at), path, limits.error().message);
    }
    return s;
  }

  // An absolute, lexically normal path in the image ("/srv/app", not "/srv//app/" or "/srv/./app").
  // A `passwd_field` (a home or shell) also must not hold ':', which separates /etc/passwd fields.
  Result<std::string> ReadAbsolutePath(const YAML::Node& node, const std::string& path,
                                       SourceLocation at, bool passwd_field = false) {
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

  // A non-empty list of Debian architectures, each named once; bad items are reported and left
  // out.
  Result<std::vector<std::string>> ReadArchList(const YAML::Node& node, const std::string& path,
                                                SourceLocation at) {
    HB_TRY(std::vector<ListItem> items, ReadStringItems(node, path, at));
    if (node.size() == 0) {
      return ErrorAt(Where(node, at), path, "must name at least one architecture");
    }
    std::vector<std::string> archs;
    std::vector<SourceLocation> arch_at;
    for (const ListItem& item : items) {
      std::string item_path = Indexed(path, item.index);
      if (!IsKnownArchitecture(item.value)) {
        std::string message = "invalid architecture '" + item.value + "'";
        if (auto debian = DebianArchitectureForMachine(item.value); debian) {
          message += ": Debian calls it " + *debian;
        } else if (std::string near = ClosestMatch(item.value, KnownArchitectures());
                   !near.empty()) {
          message += " (did you mean '" + near + "'?)";
        } else {
          message += ": expected a Debian architecture such as amd64 or arm64";
        }
        ErrorAt(item.at, item_path, message);
        continue;
      }
      auto first = std::find(archs.begin(), archs.end(), item.value);
      if (first != archs.end()) {
        ErrorAt(item.at, item_path,
                "duplicate architecture '" + item.value + "' (first at line " +
                    std::to_string(arch_at[static_cast<size_t>(first - archs.begin())].line) + ")");
        continue;
      }
      archs.push_back(item.value);
      arch_at.push_back(item.at);
    }
    return archs;
  }

  // The repositories read without a mistake; each entry's keys are checked independently.
  Result<std::vector<Repository>> ReadRepositories(const YAML::Node& node, SourceLocation at) {
    const std::string path = "repositories";
    if (!node.IsSequence()) {
      return ErrorAt(Where(node, at), path, "expected a list of repositories (url, suites, ...)");
    }
    std::vector<Repository> out;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = Indexed(path, i);
      const size_t problems_before = ProblemCount();
      auto f = ReadMap(node[i], p, kRepositoryKeys, Where(node, at));
      if (!f) continue;
      Repository repo;
      repo.where = f->where;
      if (const Field* url = Required(*f, "url", p)) {
        if (auto v = ReadNonEmptyString(url->value, p + ".url", url->key_at)) {
          repo.url = std::move(*v);
          if (!(repo.url.starts_with("http://") || repo.url.starts_with("https://") ||
                repo.url.starts_with("file:/")) ||
              std::any_of(repo.url.begin(), repo.url.end(), [](char c) {
                return c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
              })) {
            ErrorAt(Where(url->value, url->key_at), p + ".url",
                    "expected an http://, https:// or file:/ URL, got '" + repo.url + "'");
          }
        }
      }
      // Suites and components are path parts of the repository's URLs.
      auto read_parts = [&](const Field& field, const std::string& key, std::string_view what,
                            std::string_view empty_message) {
        std::vector<std::string> parts;
        auto items = ReadStringItems(field.value, p + "." + key, field.key_at);
        if (!items) return parts;
        if (field.value.size() == 0) {
          ErrorAt(Where(field.value, field.key_at), p + "." + key, empty_message);
        }
        for (const ListItem& item : *items) {
          if (!IsRepositoryPathPart(item.value)) {
            ErrorAt(item.at, Indexed(p + "." + key, item.index),
                    "invalid " + std::string(what) + " name '" + item.value + "'");
            continue;
          }
          parts.push_back(item.value);
        }
        return parts;
      };
      if (const Field* suites = Required(*f, "suites", p)) {
        repo.suites = read_parts(*suites, "suites", "suite", "must name at least one suite");
      }
      if (const Field* c = f->Get("components")) {
        repo.components = read_parts(*c, "components", "component",
                                     "must name at least one component (default: [main])");
      }
      if (const Field* k = f->Get("keyring")) {
        if (auto v = ReadLimitedPath(k->value, p + ".keyring", k->key_at)) {
          repo.keyring = std::move(*v);
        }
      }
      if (const Field* a = f->Get("architectures")) {
        if (auto v = ReadArchList(a->value, p + ".architectures", a->key_at)) {
          repo.architectures = std::move(*v);
        }
      }
      if (ProblemCount() == problems_before) out.push_back(std::move(repo));
    }
    return out;
  }

  // The package requests read without a mistake, each name at most once.
  Result<std::vector<PackageRequest>> ReadPackages(const YAML::Node& node, SourceLocation at) {
    const std::string path = "packages";
    HB_TRY(std::vector<ListItem> items, ReadStringItems(node, path, at));
    if (node.size() == 0) {
      return ErrorAt(Where(node, at), path, "the list is empty: name at least one package");
    }
    std::vector<PackageRequest> out;
    std::map<std::string, int> first_line;
    for (const ListItem& entry : items) {
      std::string p = Indexed(path, entry.index);
      const std::string& text = entry.value;
      PackageRequest req;
      req.where = entry.at;
      if (text.find_first_of("<>() ") != std::string::npos) {
        ErrorAt(entry.at, p, InvalidPackageNameMessage(text, text));
        continue;
      }
      if (size_t eq = text.find('='); eq != std::string::npos) {
        req.name = text.substr(0, eq);
        req.version = text.substr(eq + 1);
        if (!IsValidVersion(req.version)) {
          ErrorAt(entry.at, p,
                  "invalid version '" + req.version + "' in '" + text +
                      "': expected a Debian version such as 1.2-3 or 1:2.0~rc1-1");
          continue;
        }
      } else {
        req.name = text;
      }
      if (!IsValidPackageName(req.name)) {
        ErrorAt(entry.at, p, InvalidPackageNameMessage(req.name, text));
        continue;
      }
      if (auto [pos, inserted] = first_line.try_emplace(req.name, entry.at.line); !inserted) {
        ErrorAt(entry.at, p,
                "duplicate package '" + req.name + "' (first at line " +
                    std::to_string(pos->second) + ")");
        continue;
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

  // `exclude`: package names, none of them also in `packages` (as far as those were read); the
  // location of each name kept is added to `where`.
  Result<std::vector<std::string>> ReadExclude(const Field& field,
                                               const std::vector<PackageRequest>& packages,
                                               std::vector<SourceLocation>& where) {
    HB_TRY(std::vector<ListItem> items, ReadStringItems(field.value, "exclude", field.key_at));
    std::vector<std::string> out;
    for (const ListItem& item : items) {
      std::string p = Indexed("exclude", item.index);
      const std::string& x = item.value;
      if (!IsValidPackageName(x)) {
        ErrorAt(item.at, p, InvalidPackageNameMessage(x, x));
        continue;
      }
      auto named = std::find_if(packages.begin(), packages.end(),
                                [&](const PackageRequest& r) { return r.name == x; });
      if (named != packages.end()) {
        ErrorAt(item.at, p,
                "'" + x + "' is also listed in packages (line " +
                    std::to_string(named->where.line) + ")");
        continue;
      }
      out.push_back(x);
      where.push_back(item.at);
    }
    return out;
  }

  Result<PathFilter> ReadPaths(const YAML::Node& node, SourceLocation at) {
    HB_TRY(Fields f, ReadMap(node, "paths", kPathsKeys, at));
    PathFilter out;
    for (std::string_view which : kPathsKeys) {
      const Field* field = f.Get(which);
      if (!field) continue;
      std::string p = "paths." + std::string(which);
      auto items = ReadStringItems(field->value, p, field->key_at);
      if (!items) continue;
      std::vector<std::string> globs;
      for (const ListItem& item : *items) {
        if (auto limits = CheckPathLimits(item.value); !limits) {
          ErrorAt(item.at, Indexed(p, item.index), limits.error().message);
          continue;
        }
        if (!IsValidPathGlob(item.value)) {
          ErrorAt(item.at, Indexed(p, item.index),
                  "invalid glob '" + item.value +
                      "': expected an absolute path pattern like /usr/share/doc/** "
                      "with every '[' closed");
          continue;
        }
        globs.push_back(item.value);
      }
      (which == "include" ? out.include : out.exclude) = std::move(globs);
    }
    return out;
  }

  // "user:group", "user" or "uid"; each part a name or a decimal id.
  Result<std::pair<std::string, std::string>> ParseOwner(const std::string& owner,
                                                         const std::string& path,
                                                         SourceLocation at) {
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

  // The `files` entries read without a mistake; each entry's keys are checked independently.
  Result<std::vector<FileEntry>> ReadFiles(const YAML::Node& node, SourceLocation at) {
    const std::string path = "files";
    if (!node.IsSequence()) {
      return ErrorAt(Where(node, at), path, "expected a list of {src, dest, mode, owner}");
    }
    std::vector<FileEntry> out;
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = Indexed(path, i);
      const size_t problems_before = ProblemCount();
      auto f = ReadMap(node[i], p, kFileKeys, Where(node, at));
      if (!f) continue;
      FileEntry entry;
      entry.where = f->where;
      if (const Field* src = Required(*f, "src", p)) {
        if (auto v = ReadLimitedPath(src->value, p + ".src", src->key_at)) entry.src = *v;
      }
      if (const Field* dest = Required(*f, "dest", p)) {
        if (auto v = ReadAbsolutePath(dest->value, p + ".dest", dest->key_at)) entry.dest = *v;
      }
      if (const Field* mode = f->Get("mode")) {
        if (auto v = ReadMode(mode->value, p + ".mode", mode->key_at)) entry.mode = *v;
      }
      if (const Field* owner = f->Get("owner")) {
        if (auto text = ReadString(owner->value, p + ".owner", owner->key_at)) {
          if (auto parts = ParseOwner(*text, p + ".owner", Where(owner->value, owner->key_at))) {
            entry.user = std::move(parts->first);
            entry.group = std::move(parts->second);
          }
        }
      }
      if (ProblemCount() == problems_before) out.push_back(std::move(entry));
    }
    return out;
  }

  // The `dirs` entries read without a mistake, each path once and none also a `files` dest (as far
  // as those were read).
  Result<std::vector<DirEntry>> ReadDirs(const YAML::Node& node, SourceLocation at,
                                         const std::vector<FileEntry>& files) {
    const std::string path = "dirs";
    if (!node.IsSequence()) {
      return ErrorAt(Where(node, at), path, "expected a list of {path, owner, mode}");
    }
    std::vector<DirEntry> out;
    std::map<std::string, std::string> first;  // path -> the entry that has it
    for (size_t i = 0; i < node.size(); ++i) {
      std::string p = Indexed(path, i);
      const size_t problems_before = ProblemCount();
      auto f = ReadMap(node[i], p, kDirKeys, Where(node, at));
      if (!f) continue;
      DirEntry entry;
      entry.where = f->where;
      if (const Field* dir = Required(*f, "path", p)) {
        if (auto v = ReadAbsolutePath(dir->value, p + ".path", dir->key_at)) {
          if (*v == "/") {
            ErrorAt(Where(dir->value, dir->key_at), p + ".path",
                    "the root directory is the image's own: name a directory below it");
          }
          entry.path = std::move(*v);
        }
      }
      if (const Field* mode = f->Get("mode")) {
        if (auto v = ReadMode(mode->value, p + ".mode", mode->key_at)) entry.mode = *v;
      }
      if (const Field* owner = f->Get("owner")) {
        if (auto text = ReadString(owner->value, p + ".owner", owner->key_at)) {
          if (auto parts = ParseOwner(*text, p + ".owner", Where(owner->value, owner->key_at))) {
            entry.user = std::move(parts->first);
            entry.group = std::move(parts->second);
          }
        }
      }
      if (ProblemCount() != problems_before) continue;
      if (auto [pos, ok] = first.try_emplace(entry.path, p); !ok) {
        ErrorAt(entry.where, p, "path '" + entry.path + "' repeats " + pos->second);
        continue;
      }
      auto file = std::find_if(files.begin(), files.end(),
                               [&](const FileEntry& fe) { return fe.dest == entry.path; });
      if (file != files.end()) {
        ErrorAt(entry.where, p,
                "path '" + entry.path + "' is also the dest of a files entry (line " +
                    std::to_string(file->where.line) + "): give its owner and mode there");
        continue;
      }
      out.push_back(std::move(entry));
    }
    return out;
  }

  // `accounts`. Group and user entries are read independently; one with a mistake is left out
  // before the repeated-name/id checks. No users are reported as listed when some were left out,
  // nor is run-as reported as a bad name when it may name a user entry left out for a mistake.
  // run-as may name any user: the build checks it against the image's /etc/passwd.
  Result<Accounts> ReadAccounts(const YAML::Node& node, SourceLocation at) {
    HB_TRY(Fields f, ReadMap(node, "accounts", kAccountsKeys, at));
    Accounts out;
    std::map<uint32_t, std::string> gid_owner;  // gid -> path of the group that has it
    std::map<std::string, std::string> group_names;
    if (const Field* groups = f.Get("groups")) {
      if (!groups->value.IsSequence()) {
        ErrorAt(Where(groups->value, groups->key_at), "accounts.groups",
                "expected a list of {name, gid}");
      } else {
        for (size_t i = 0; i < groups->value.size(); ++i) {
          std::string p = Indexed("accounts.groups", i);
          const size_t problems_before = ProblemCount();
          auto g = ReadMap(groups->value[i], p, kGroupKeys, groups->key_at);
          if (!g) continue;
          Group group;
          if (const Field* name = Required(*g, "name", p)) {
            if (auto v = ReadString(name->value, p + ".name", name->key_at)) {
              group.name = std::move(*v);
              if (!IsValidAccountName(group.name)) {
                ErrorAt(Where(name->value, name->key_at), p + ".name",
                        "invalid group name '" + group.name + "'");
              }
            }
          }
          if (const Field* gid = Required(*g, "gid", p)) {
            if (auto v = ReadId(gid->value, p + ".gid", gid->key_at)) group.gid = *v;
          }
          if (ProblemCount() != problems_before) continue;
          if (group.name == "root" || group.gid == 0) {
            ErrorAt(g->where, p, "group root (gid 0) comes from base-passwd; do not list it");
            continue;
          }
          if (auto [pos, ok] = group_names.try_emplace(group.name, p); !ok) {
            ErrorAt(g->where, p, "group name '" + group.name + "' repeats " + pos->second);
            continue;
          }
          if (auto [pos, ok] = gid_owner.try_emplace(group.gid, p); !ok) {
            ErrorAt(g->where, p, "gid " + std::to_string(group.gid) + " repeats " + pos->second);
            continue;
          }
          out.groups.push_back(std::move(group));
        }
      }
    }
    // What is known of the user entries left out for a mistake: the names they give, and whether
    // every one of them gave a name (false also when `users` is not a list at all).
    std::set<std::string, std::less<>> left_out_names;
    bool left_out_names_known = true;
    if (const Field* users = f.Get("users")) {
      if (!users->value.IsSequence()) {
        ErrorAt(Where(users->value, users->key_at), "accounts.users",
                "expected a list of {name, uid, gid, home, shell}");
        left_out_names_known = false;
      } else {
        std::map<std::string, std::string> user_names;
        std::map<uint32_t, std::string> uids;
        for (size_t i = 0; i < users->value.size(); ++i) {
          std::string p = Indexed("accounts.users", i);
          const size_t problems_before = ProblemCount();
          User user;
          bool name_read = false;
          auto leave_out = [&] {
            if (name_read) {
              left_out_names.insert(user.name);
            } else {
              left_out_names_known = false;
            }
          };
          auto u = ReadMap(users->value[i], p, kUserKeys, users->key_at);
          if (!u) {
            leave_out();
            continue;
          }
          if (const Field* name = Required(*u, "name", p)) {
            if (auto v = ReadString(name->value, p + ".name", name->key_at)) {
              user.name = std::move(*v);
              name_read = true;
              if (!IsValidAccountName(user.name)) {
                ErrorAt(Where(name->value, name->key_at), p + ".name",
                        "invalid user name '" + user.name + "'");
              }
            }
          }
          if (const Field* uid = Required(*u, "uid", p)) {
            if (auto v = ReadId(uid->value, p + ".uid", uid->key_at)) user.uid = *v;
          }
          user.gid = user.uid;
          if (const Field* gid = u->Get("gid")) {
            if (auto v = ReadId(gid->value, p + ".gid", gid->key_at)) user.gid = *v;
          }
          user.home = "/home/" + user.name;
          if (const Field* home = u->Get("home")) {
            if (auto v = ReadAbsolutePath(home->value, p + ".home", home->key_at,
                                          /*passwd_field=*/true)) {
              user.home = std::move(*v);
            }
          }
          if (const Field* shell = u->Get("shell")) {
            if (auto v = ReadAbsolutePath(shell->value, p + ".shell", shell->key_at,
                                          /*passwd_field=*/true)) {
              user.shell = std::move(*v);
            }
          }
          if (ProblemCount() != problems_before) {
            leave_out();
            continue;
          }
          if (user.name == "root" || user.uid == 0) {
            ErrorAt(u->where, p,
                    "user root (uid 0) comes from base-passwd; to run as root write run-as: root");
            leave_out();
            continue;
          }
          if (auto [pos, ok] = user_names.try_emplace(user.name, p); !ok) {
            ErrorAt(u->where, p, "user name '" + user.name + "' repeats " + pos->second);
            continue;  // the name is listed all the same
          }
          if (auto [pos, ok] = uids.try_emplace(user.uid, p); !ok) {
            ErrorAt(u->where, p, "uid " + std::to_string(user.uid) + " repeats " + pos->second);
            leave_out();
            continue;
          }
          out.users.push_back(std::move(user));
        }
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
      if (auto v = ReadNonEmptyString(run_as->value, "accounts.run-as", run_as->key_at)) {
        out.run_as = std::move(*v);
        bool numeric = IsUnsignedDecimal(out.run_as) && out.run_as.size() <= 10 &&
                       std::stoull(out.run_as) <= kMaxId;
        // Any user name: it may name a system user, or a service user a package makes (redis,
        // postgres), which only the build knows; it checks the name against the image's
        // /etc/passwd. A bad name that a user entry left out for a mistake gives is that
        // mistake's consequence.
        bool maybe_left_out = !left_out_names_known || left_out_names.contains(out.run_as);
        if (!numeric && !IsValidAccountName(out.run_as) && !maybe_left_out) {
          ErrorAt(Where(run_as->value, run_as->key_at), "accounts.run-as",
                  "invalid user name '" + out.run_as +
                      "': expected a user name (from accounts.users, base-passwd or a package), "
                      "root, or a numeric uid");
        }
      }
    } else if (!out.users.empty()) {
      out.run_as = out.users.front().name;
    } else if (left_out_names_known && left_out_names.empty()) {
      ErrorAt(f.where, "accounts", "no users are listed, so run-as must say who runs the image");
    }
    return out;
  }

  static User DefaultUser() {
    return User{"nonroot", kNonrootId, kNonrootId, "/home/nonroot", "/usr/sbin/nologin"};
  }

  static Accounts DefaultAccounts() {
    return Accounts{{Group{"nonroot", kNonrootId}}, {DefaultUser()}, "nonroot"};
  }

  // The spec, with every mistake recorded; when there are any, the value returned is incomplete
  // and only Report() counts. Fails without recording only for what is not the spec's fault (the
  // host's architecture cannot be read).
  Result<ImageSpec> ReadSpec(const YAML::Node& root) {
    if (!root.IsMap()) {
      SourceLocation at = Where(root, {1, 1});
      if (root.IsNull()) return ErrorAt(at, "", "the spec is empty");
      return ErrorAt(at, "", "expected a mapping of spec keys (name, packages, ...)");
    }
    HB_TRY(Fields f, ReadMap(root, "", kTopKeys, {1, 1}));
    ImageSpec spec;
    spec.accounts = DefaultAccounts();

    if (const Field* name = Required(f, "name", "")) {
      if (auto v = ReadString(name->value, "name", name->key_at)) {
        spec.name = std::move(*v);
        if (!IsValidImageName(spec.name)) {
          ErrorAt(Where(name->value, name->key_at), "name",
                  "invalid image name '" + spec.name +
                      "': expected lowercase letters and digits separated by '.', '_', '-' or "
                      "'/'");
        }
      }
    }
    if (const Field* r = f.Get("repositories")) {
      if (auto v = ReadRepositories(r->value, r->key_at)) spec.repositories = std::move(*v);
    }
    if (const Field* a = f.Get("archs")) {
      if (auto v = ReadArchList(a->value, "archs", a->key_at)) spec.archs = std::move(*v);
    } else if (auto host = HostArchitecture()) {
      spec.archs = {std::move(*host)};
    } else if (host.error().code == ErrorCode::kSpec) {
      Note(host.error().message);  // an unknown machine: the spec has to name its archs
    } else {
      return Fail(std::move(host.error()));
    }
    if (const Field* packages = Required(f, "packages", "")) {
      if (auto v = ReadPackages(packages->value, packages->key_at)) {
        spec.packages = std::move(*v);
      }
    }
    if (const Field* e = f.Get("exclude")) {
      if (auto v = ReadExclude(*e, spec.packages, spec.exclude_where)) {
        spec.exclude = std::move(*v);
      }
    }
    if (const Field* p = f.Get("paths")) {
      if (auto v = ReadPaths(p->value, p->key_at)) spec.paths = std::move(*v);
    }
    if (const Field* p = f.Get("files")) {
      if (auto v = ReadFiles(p->value, p->key_at)) spec.files = std::move(*v);
    }
    if (const Field* d = f.Get("dirs")) {
      if (auto v = ReadDirs(d->value, d->key_at, spec.files)) spec.dirs = std::move(*v);
    }
    if (const Field* a = f.Get("accounts")) {
      if (auto v = ReadAccounts(a->value, a->key_at)) spec.accounts = std::move(*v);
    }
    if (const Field* e = f.Get("entrypoint")) {
      if (auto v = ReadStringList(e->value, "entrypoint", e->key_at)) {
        spec.entrypoint = std::move(*v);
      }
    }
    if (const Field* c = f.Get("cmd")) {
      if (auto v = ReadStringList(c->value, "cmd", c->key_at)) spec.cmd = std::move(*v);
    }
    if (const Field* e = f.Get("env")) {
      if (auto v = ReadStringMap(e->value, "env", e->key_at)) {
        for (const auto& [key, value] : *v) {
          if (key.find('=') != std::string::npos) {
            ErrorAt(Where(e->value, e->key_at), "env",
                    "variable name '" + key + "' must not contain '='");
          } else if (std::any_of(key.begin(), key.end(), [](char c) {
                       return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                     })) {
            ErrorAt(Where(e->value, e->key_at), "env",
                    "variable name '" + key + "' must not contain control characters");
          }
        }
        spec.env = std::move(*v);
      }
    }
    spec.env.try_emplace("PATH", kDefaultPath);
    if (const Field* w = f.Get("workdir")) {
      if (auto v = ReadAbsolutePath(w->value, "workdir", w->key_at)) spec.workdir = std::move(*v);
    }
    if (const Field* l = f.Get("labels")) {
      if (auto v = ReadStringMap(l->value, "labels", l->key_at)) spec.labels = std::move(*v);
    }
    if (const Field* a = f.Get("annotations")) {
      if (auto v = ReadStringMap(a->value, "annotations", a->key_at)) {
        spec.annotations = std::move(*v);
      }
    }
    if (const Field* v = f.Get("variant")) {
      if (auto variant = ReadString(v->value, "variant", v->key_at)) {
        if (*variant == "debug") {
          spec.variant = Variant::kDebug;
        } else if (*variant == "dev") {
          spec.variant = Variant::kDev;
        } else {
          ErrorAt(Where(v->value, v->key_at), "variant",
                  "unknown variant '" + *variant +
                      "': the variants are debug and dev (leave variant out for the standard "
                      "image)");
        }
      }
    }
    // A dev image is a build stage: it runs as root unless `accounts` says otherwise.
    if (spec.variant == Variant::kDev && !f.Get("accounts")) spec.accounts.run_as = "root";
    return spec;
  }

 private:
  void Record(Problem problem) {
    if (problems_.size() < kMaxProblems) {
      problems_.push_back(std::move(problem));
      return;
    }
    stopped_ = true;
    if (reading_) throw TooManyProblems{};
  }

  std::string file_;
  std::vector<Problem> problems_;
  bool reading_ = true;
  bool stopped_ = false;  // there were more than kMaxProblems mistakes
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
Result<void> CheckSingleDocument(const std::string& text, SpecReader& reader) {
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
    reader.ErrorAt({line, column}, "", "the spec is not valid UTF-8");
    return Fail(reader.Report());
  }
  try {
    const std::string text(yaml_text);
    if (!CheckSingleDocument(text, reader)) return Fail(reader.Report());
    YAML::Node root = YAML::Load(text);
    Result<ImageSpec> spec = reader.ReadSpec(root);
    if (reader.HasProblems()) return Fail(reader.Report());
    if (!spec) return spec;
    spec->source_file = file;
    spec->base_dir = DirName(file);
    return spec;
  } catch (const TooManyProblems&) {
    return Fail(reader.Report());
  } catch (const YAML::Exception& e) {
    reader.EndReading();
    reader.ErrorAt(ToLocation(e.mark), "", "invalid YAML: " + e.msg);
    return Fail(reader.Report());
  } catch (const std::exception& e) {
    reader.EndReading();
    reader.Note(file + ": cannot read spec: " + e.what());
    return Fail(reader.Report());
  }
}

Result<ImageSpec> LoadImageSpec(const std::string& path) {
  auto text = ReadRegularFile(path, kMaxSpecBytes);
  if (!text) return Fail(std::move(text.error()).Wrap("load spec"));
  return ParseImageSpec(*text, path);
}

std::string_view VariantName(Variant variant) {
  switch (variant) {
    case Variant::kStandard:
      return "standard";
    case Variant::kDebug:
      return "debug";
    case Variant::kDev:
      return "dev";
  }
  return "standard";
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
  // digest_version changes when the same inputs resolve differently, so that older locks are
  // stale: 2 leaves the variant's hardening exclusions out of the closure with what only they
  // need, and adds libc-bin (the C.UTF-8 locale) to a closure with libc6. A change to that list
  // (image::HardeningExclusions) needs a new version too.
  json doc = {
      {"digest_version", 2},
      {"repositories", repos},
      {"archs", sorted_unique(spec.archs)},
      {"packages", sorted_unique(std::move(packages))},
      {"exclude", sorted_unique(spec.exclude)},
      {"variant", VariantName(spec.variant)},
  };
  // Spec strings are checked to be UTF-8 when parsed; `replace` keeps this total for values made
  // in code.
  std::string canonical = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  return "sha256:" + Sha256Hex(canonical);
}

}  // namespace hardbase::spec
