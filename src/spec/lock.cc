#include "spec/lock.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "base/sha256.h"
#include "spec/path_checks.h"

namespace hardbase::spec {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// A lock of thousands of packages is a few MiB; a larger file is refused before it is parsed.
constexpr uint64_t kMaxLockBytes = uint64_t{64} << 20;

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// OpenPGP v4 fingerprints are 40 hex digits, v5/v6 ones 64.
bool IsFingerprint(std::string_view s) { return (s.size() == 40 || s.size() == 64) && IsHex(s); }

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYY-MM-DDTHH:MM:SSZ" with fields in range (leap seconds allowed, days not checked per month).
bool IsRfc3339Utc(std::string_view s) {
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z') {
    return false;
  }
  auto num = [&](size_t pos, size_t len, int lo, int hi) {
    std::string_view part = s.substr(pos, len);
    if (!IsDigits(part)) return false;
    int v = std::stoi(std::string(part));
    return v >= lo && v <= hi;
  };
  return num(0, 4, 0, 9999) && num(5, 2, 1, 12) && num(8, 2, 1, 31) && num(11, 2, 0, 23) &&
         num(14, 2, 0, 59) && num(17, 2, 0, 60);
}

// Who may want an excluded or left-out package: the spec or a package.
bool IsRequirer(std::string_view s) { return s == kRequiredBySpec || IsValidPackageName(s); }

// Who may require a locked package: those, or hardbase for a reason of its own.
bool IsPackageRequirer(std::string_view s) {
  return IsRequirer(s) || s == kRequiredForLocale || s == kRequiredForEssential;
}

// Reads one JSON value into lock fields, checking types and syntax; errors carry the JSON pointer.
class LockReader {
 public:
  LockReader(std::string file, std::string_view text) : file_(std::move(file)), text_(text) {}

  // "file: pointer: message", or "file:line: pointer: message" when `line` is known.
  tl::unexpected<Error> ErrorAt(const std::string& pointer, std::string_view message,
                                int line = 0) const {
    std::string text = file_ + (line > 0 ? ":" + std::to_string(line) : "") + ": " +
                       (pointer.empty() ? std::string("/") : pointer) + ": " + std::string(message);
    return Fail(ErrorCode::kSpec, EscapeControlCharacters(text));
  }

  // The line of the lock text where the string `value` is first written (as JSON writes it), or
  // 0 if it is written some other way (with \u escapes, say).
  int LineOf(const std::string& value) const {
    std::string quoted = json(value).dump(-1, ' ', false, json::error_handler_t::replace);
    size_t at = text_.find(quoted);
    if (at == std::string_view::npos) return 0;
    return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + at, '\n'));
  }

  // Checks that `v` is an object with exactly the `required` keys plus any of `optional`.
  Result<void> CheckObject(const json& v, const std::string& ptr,
                           std::initializer_list<std::string_view> required,
                           std::initializer_list<std::string_view> optional = {}) const {
    if (!v.is_object()) return ErrorAt(ptr, "expected an object");
    for (std::string_view key : required) {
      if (!v.contains(key)) return ErrorAt(ptr, "missing required key '" + std::string(key) + "'");
    }
    for (const auto& [key, value] : v.items()) {
      bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                   std::find(optional.begin(), optional.end(), key) != optional.end();
      if (!known) return ErrorAt(ptr + "/" + Escape(key), "unknown key");
    }
    return {};
  }

  static std::string Escape(std::string_view key) {
    std::string out;
    for (char c : key) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }

  Result<std::string> String(const json& v, const std::string& ptr) const {
    if (!v.is_string()) return ErrorAt(ptr, "expected a string");
    return v.get<std::string>();
  }

  // A string that passes `check`, else `what` ("expected ...") as the error.
  template <class Check>
  Result<std::string> Checked(const json& v, const std::string& ptr, Check check,
                              std::string_view what) const {
    HB_TRY(std::string s, String(v, ptr));
    if (!check(s)) return ErrorAt(ptr, std::string(what) + ", got '" + Shorten(s) + "'");
    return s;
  }

  template <class Check>
  Result<std::vector<std::string>> CheckedList(const json& v, const std::string& ptr, Check check,
                                               std::string_view what, bool non_empty) const {
    if (!v.is_array()) return ErrorAt(ptr, "expected an array of strings");
    if (non_empty && v.empty()) return ErrorAt(ptr, "must not be empty");
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
      HB_TRY(std::string s, Checked(v[i], ptr + "/" + std::to_string(i), check, what));
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<uint64_t> Unsigned(const json& v, const std::string& ptr) const {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return ErrorAt(ptr, "expected a non-negative integer");
    }
    return v.get<uint64_t>();
  }

  static std::string Shorten(const std::string& s) {
    return s.size() <= 80 ? s : s.substr(0, 77) + "...";
  }

  Result<LockedPackage> Package(const json& v, const std::string& ptr) const {
    HB_TRY_VOID(CheckObject(v, ptr,
                            {"name", "version", "architecture", "source", "source_version",
                             "repository", "filename", "size", "sha256", "required_by"}));
    LockedPackage p;
    HB_TRY(p.name,
           Checked(v["name"], ptr + "/name", IsValidPackageName, "expected a Debian package name"));
    HB_TRY(p.version,
           Checked(v["version"], ptr + "/version", IsValidVersion, "expected a Debian version"));
    HB_TRY(p.architecture,
           Checked(
               v["architecture"], ptr + "/architecture",
               [](std::string_view a) { return a == "all" || IsKnownArchitecture(a); },
               "expected a Debian architecture or all"));
    HB_TRY(p.source, Checked(v["source"], ptr + "/source", IsValidPackageName,
                             "expected a Debian source package name"));
    HB_TRY(p.source_version, Checked(v["source_version"], ptr + "/source_version", IsValidVersion,
                                     "expected a Debian version"));
    const std::string rptr = ptr + "/repository";
    const json& r = v["repository"];
    HB_TRY_VOID(CheckObject(r, rptr, {"origin", "suite", "component"}));
    HB_TRY(p.repository.origin, String(r["origin"], rptr + "/origin"));
    auto non_empty = [](std::string_view s) { return !s.empty(); };
    HB_TRY(p.repository.suite,
           Checked(r["suite"], rptr + "/suite", non_empty, "expected a suite name"));
    HB_TRY(p.repository.component,
           Checked(r["component"], rptr + "/component", non_empty, "expected a component name"));
    // The one value joined to a mirror's URI: it must stay inside the repository.
    HB_TRY(p.filename, String(v["filename"], ptr + "/filename"));
    if (auto confined = CheckRepositoryPath(p.filename); !confined) {
      return ErrorAt(ptr + "/filename", confined.error().message, LineOf(p.filename));
    }
    HB_TRY(p.size, Unsigned(v["size"], ptr + "/size"));
    HB_TRY(p.sha256,
           Checked(v["sha256"], ptr + "/sha256", IsSha256Hex, "expected 64 lowercase hex digits"));
    HB_TRY(p.required_by,
           CheckedList(v["required_by"], ptr + "/required_by", IsPackageRequirer,
                       "expected a package name, (spec), " + std::string(kRequiredForLocale) +
                           " or " + std::string(kRequiredForEssential),
                       /*non_empty=*/true));
    return p;
  }

  // The `excluded` or `left_out` list of an arch (`what`: "excluded", "left out"): packages
  // someone wanted, none of them locked (`locked`) or listed before (`listed`, which each name
  // joins).
  Result<std::vector<Exclusion>> Exclusions(const json& v, const std::string& ptr,
                                            std::string_view what,
                                            const std::set<std::string, std::less<>>& locked,
                                            std::set<std::string, std::less<>>& listed) const {
    if (!v.is_array()) return ErrorAt(ptr, "expected an array");
    std::vector<Exclusion> out;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string eptr = ptr + "/" + std::to_string(i);
      HB_TRY_VOID(CheckObject(v[i], eptr, {"name", "wanted_by"}));
      Exclusion e;
      HB_TRY(e.name, Checked(v[i]["name"], eptr + "/name", IsValidPackageName,
                             "expected a Debian package name"));
      if (locked.count(e.name)) {
        return ErrorAt(eptr + "/name",
                       "'" + e.name + "' is both " + std::string(what) + " and locked");
      }
      if (!listed.insert(e.name).second) {
        return ErrorAt(eptr + "/name", "'" + e.name + "' is listed twice (excluded or left out)");
      }
      HB_TRY(e.wanted_by, CheckedList(v[i]["wanted_by"], eptr + "/wanted_by", IsRequirer,
                                      "expected a package name or (spec)", /*non_empty=*/true));
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<ArchLock> Arch(const json& v, const std::string& ptr) const {
    HB_TRY_VOID(CheckObject(v, ptr, {"arch", "packages", "excluded"}, {"left_out"}));
    ArchLock a;
    HB_TRY(a.arch, Checked(v["arch"], ptr + "/arch", IsKnownArchitecture,
                           "expected a Debian architecture"));
    const json& packages = v["packages"];
    if (!packages.is_array()) return ErrorAt(ptr + "/packages", "expected an array");
    if (packages.empty()) return ErrorAt(ptr + "/packages", "must not be empty");
    std::set<std::string, std::less<>> seen;
    for (size_t i = 0; i < packages.size(); ++i) {
      std::string pptr = ptr + "/packages/" + std::to_string(i);
      HB_TRY(LockedPackage p, Package(packages[i], pptr));
      if (p.architecture != a.arch && p.architecture != "all") {
        return ErrorAt(pptr + "/architecture",
                       "'" + p.architecture + "' package in the " + a.arch + " lock");
      }
      if (!seen.insert(p.name).second) {
        return ErrorAt(pptr + "/name", "package '" + p.name + "' is listed twice");
      }
      a.packages.push_back(std::move(p));
    }
    std::set<std::string, std::less<>> listed;
    HB_TRY(a.excluded, Exclusions(v["excluded"], ptr + "/excluded", "excluded", seen, listed));
    if (v.contains("left_out")) {
      HB_TRY(a.left_out, Exclusions(v["left_out"], ptr + "/left_out", "left out", seen, listed));
    }
    return a;
  }

  Result<Lock> Read(const json& doc) const {
    if (!doc.is_object()) return ErrorAt("", "expected a JSON object");
    // The version decides how to read the rest, so it is checked before anything else.
    if (!doc.contains("lock_version")) return ErrorAt("", "missing required key 'lock_version'");
    const json& version = doc["lock_version"];
    if (!version.is_number_integer()) return ErrorAt("/lock_version", "expected an integer");
    if (version.get<int64_t>() != kLockVersion) {
      return ErrorAt("/lock_version", "unsupported lock_version " + version.dump() +
                                          " (this hardbase reads " + std::to_string(kLockVersion) +
                                          "): use a matching hardbase or run hardbase lock");
    }
    HB_TRY_VOID(CheckObject(doc, "",
                            {"lock_version", "spec_digest", "keyring_fingerprints", "releases",
                             "source_date_epoch", "archs"}));
    Lock lock;
    lock.lock_version = kLockVersion;
    HB_TRY(lock.spec_digest, Checked(
                                 doc["spec_digest"], "/spec_digest",
                                 [](std::string_view s) {
                                   return s.starts_with("sha256:") && IsSha256Hex(s.substr(7));
                                 },
                                 "expected sha256: and 64 lowercase hex digits"));
    HB_TRY(lock.keyring_fingerprints,
           CheckedList(doc["keyring_fingerprints"], "/keyring_fingerprints", IsFingerprint,
                       "expected a key fingerprint (40 or 64 hex digits)", /*non_empty=*/false));
    const json& releases = doc["releases"];
    if (!releases.is_array()) return ErrorAt("/releases", "expected an array");
    for (size_t i = 0; i < releases.size(); ++i) {
      std::string ptr = "/releases/" + std::to_string(i);
      const json& r = releases[i];
      HB_TRY_VOID(CheckObject(r, ptr, {"origin", "suite", "codename", "date", "signed_by"}));
      ReleaseRecord rec;
      HB_TRY(rec.origin, String(r["origin"], ptr + "/origin"));
      HB_TRY(rec.suite,
             Checked(
                 r["suite"], ptr + "/suite", [](std::string_view s) { return !s.empty(); },
                 "expected a suite name"));
      HB_TRY(rec.codename, String(r["codename"], ptr + "/codename"));
      HB_TRY(rec.date, Checked(r["date"], ptr + "/date", IsRfc3339Utc,
                               "expected an RFC 3339 UTC time like 2025-02-08T10:44:01Z"));
      HB_TRY(rec.signed_by, CheckedList(r["signed_by"], ptr + "/signed_by", IsFingerprint,
                                        "expected a key fingerprint (40 or 64 hex digits)",
                                        /*non_empty=*/true));
      lock.releases.push_back(std::move(rec));
    }
    HB_TRY(uint64_t epoch, Unsigned(doc["source_date_epoch"], "/source_date_epoch"));
    if (epoch > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return ErrorAt("/source_date_epoch", "out of range");
    }
    lock.source_date_epoch = static_cast<int64_t>(epoch);
    const json& archs = doc["archs"];
    if (!archs.is_array()) return ErrorAt("/archs", "expected an array");
    if (archs.empty()) return ErrorAt("/archs", "must not be empty");
    std::set<std::string> seen;
    for (size_t i = 0; i < archs.size(); ++i) {
      std::string ptr = "/archs/" + std::to_string(i);
      HB_TRY(ArchLock a, Arch(archs[i], ptr));
      if (!seen.insert(a.arch).second) {
        return ErrorAt(ptr + "/arch", "architecture '" + a.arch + "' is listed twice");
      }
      lock.archs.push_back(std::move(a));
    }
    return lock;
  }

 private:
  std::string file_;
  std::string_view text_;
};

ordered_json PackageJson(const LockedPackage& p) {
  ordered_json j;
  j["name"] = p.name;
  j["version"] = p.version;
  j["architecture"] = p.architecture;
  j["source"] = p.source;
  j["source_version"] = p.source_version;
  ordered_json r;
  r["origin"] = p.repository.origin;
  r["suite"] = p.repository.suite;
  r["component"] = p.repository.component;
  j["repository"] = std::move(r);
  j["filename"] = p.filename;
  j["size"] = p.size;
  j["sha256"] = p.sha256;
  j["required_by"] = p.required_by;
  return j;
}

ordered_json ExclusionsJson(const std::vector<Exclusion>& list) {
  ordered_json out = ordered_json::array();
  for (const Exclusion& e : list) {
    ordered_json x;
    x["name"] = e.name;
    x["wanted_by"] = e.wanted_by;
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

Lock CanonicalLock(Lock lock) {
  SortUnique(lock.keyring_fingerprints);
  for (ReleaseRecord& r : lock.releases) SortUnique(r.signed_by);
  std::sort(lock.releases.begin(), lock.releases.end(),
            [](const ReleaseRecord& a, const ReleaseRecord& b) {
              return std::tie(a.origin, a.suite, a.codename, a.date) <
                     std::tie(b.origin, b.suite, b.codename, b.date);
            });
  for (ArchLock& a : lock.archs) {
    for (LockedPackage& p : a.packages) SortUnique(p.required_by);
    std::sort(a.packages.begin(), a.packages.end(),
              [](const LockedPackage& x, const LockedPackage& y) {
                return std::tie(x.name, x.architecture, x.version, x.sha256) <
                       std::tie(y.name, y.architecture, y.version, y.sha256);
              });
    for (std::vector<Exclusion>* list : {&a.excluded, &a.left_out}) {
      for (Exclusion& e : *list) SortUnique(e.wanted_by);
      std::sort(list->begin(), list->end(),
                [](const Exclusion& x, const Exclusion& y) { return x.name < y.name; });
    }
  }
  std::sort(lock.archs.begin(), lock.archs.end(),
            [](const ArchLock& x, const ArchLock& y) { return x.arch < y.arch; });
  return lock;
}

std::string LockToJson(const Lock& input) {
  const Lock lock = CanonicalLock(input);
  ordered_json doc;
  doc["lock_version"] = lock.lock_version;
  doc["spec_digest"] = lock.spec_digest;
  doc["keyring_fingerprints"] = lock.keyring_fingerprints;
  ordered_json releases = ordered_json::array();
  for (const ReleaseRecord& r : lock.releases) {
    ordered_json j;
    j["origin"] = r.origin;
    j["suite"] = r.suite;
    j["codename"] = r.codename;
    j["date"] = r.date;
    j["signed_by"] = r.signed_by;
    releases.push_back(std::move(j));
  }
  doc["releases"] = std::move(releases);
  doc["source_date_epoch"] = lock.source_date_epoch;
  ordered_json archs = ordered_json::array();
  for (const ArchLock& a : lock.archs) {
    ordered_json j;
    j["arch"] = a.arch;
    ordered_json packages = ordered_json::array();
    for (const LockedPackage& p : a.packages) packages.push_back(PackageJson(p));
    j["packages"] = std::move(packages);
    j["excluded"] = ExclusionsJson(a.excluded);
    j["left_out"] = ExclusionsJson(a.left_out);
    archs.push_back(std::move(j));
  }
  doc["archs"] = std::move(archs);
  // `replace` keeps this total: strings that did not come through ParseLock may be any bytes.
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

Result<Lock> ParseLock(std::string_view text, std::string_view file_name) {
  const std::string file(file_name);
  LockReader reader(file, text);
  try {
    json doc = json::parse(text.begin(), text.end());
    return reader.Read(doc);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: detail".
    std::string what = e.what();
    size_t at = what.find("parse error");
    size_t colon = at == std::string::npos ? std::string::npos : what.find(": ", at);
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    int line = 1, column = 1;
    size_t end = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string where = file + ":" + std::to_string(line) + ":" + std::to_string(column);
    return Fail(ErrorCode::kSpec, EscapeControlCharacters(where + ": invalid JSON: " + detail));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kSpec,
                EscapeControlCharacters(file + ": cannot read lock: " + e.what()));
  }
}

Result<Lock> LoadLock(const std::string& path) {
  if (!PathExists(path)) {
    return Fail(ErrorCode::kNotFound, "lock " + path + " does not exist: run hardbase lock");
  }
  auto text = ReadRegularFile(path, kMaxLockBytes);
  if (!text) return Fail(std::move(text.error()).Wrap("load lock"));
  return ParseLock(*text, path);
}

std::string DefaultLockPath(const std::string& spec_path) {
  std::string base = BaseName(spec_path);
  for (std::string_view ext : {".yaml", ".yml"}) {
    if (base.size() > ext.size() && base.ends_with(ext)) {
      return spec_path.substr(0, spec_path.size() - ext.size()) + ".lock.json";
    }
  }
  return spec_path + ".lock.json";
}

Result<void> CheckLockMatchesSpec(const Lock& lock, const ImageSpec& spec,
                                  std::string_view lock_path) {
  std::string digest = ResolutionDigest(spec);
  if (lock.spec_digest != digest) {
    return Fail(ErrorCode::kStale, std::string(lock_path) + " was made for another spec (digest " +
                                       lock.spec_digest + ", spec now " + digest +
                                       "): run hardbase lock");
  }
  return {};
}

}  // namespace hardbase::spec
