#include "registry/auth.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/base64.h"
#include "base/fs.h"
#include "base/json_limits.h"
#include "base/strings.h"

namespace hardbase::registry {
namespace {

// ordered_json keeps the members of a credential file in the order the user (or docker) wrote them.
using Json = nlohmann::ordered_json;

// --- RFC 7235 tokenizer -------------------------------------------------------------------------

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken68Char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : s_(text) {}

  Result<std::vector<Challenge>> Parse() {
    std::vector<Challenge> out;
    bool after_scheme = false;  // a scheme and whitespace were just read: a token68 may follow
    bool had_token68 = false;   // the current challenge has a token68, so no parameters
    for (;;) {
      SkipSpace();
      if (i_ == s_.size()) break;
      if (s_[i_] == ',') {
        ++i_;
        after_scheme = false;
        continue;
      }
      size_t start = i_;
      if (after_scheme && SkipToken68()) {  // `Negotiate abc==`: accepted, not kept
        after_scheme = false;
        had_token68 = true;
        continue;
      }
      while (i_ < s_.size() && IsTchar(s_[i_])) ++i_;
      if (i_ == start) {
        if (s_[i_] == '=') return Bad(start, "a parameter without a name");
        return Bad(start, fmt::format("unexpected character {:?}", s_[i_]));
      }
      std::string name = AsciiLower(s_.substr(start, i_ - start));
      size_t name_end = i_;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == '=') {  // auth-param
        if (out.empty()) return Bad(start, fmt::format("parameter {:?} before any scheme", name));
        if (had_token68) return Bad(start, fmt::format("parameter {:?} after a token68", name));
        ++i_;
        HB_TRY(std::string value, ParseValue(name));
        out.back().params.emplace(std::move(name),
                                  std::move(value));  // a repeated name: first wins
        SkipSpace();
        if (i_ < s_.size() && s_[i_] != ',') return Bad(i_, "expected ',' after a parameter");
        after_scheme = false;
        continue;
      }
      if (after_scheme) return Bad(start, "expected ',' before another scheme");
      out.push_back(Challenge{std::move(name), {}});
      had_token68 = false;
      i_ = name_end;
      if (i_ < s_.size() && !IsSpace(s_[i_]) && s_[i_] != ',') {
        return Bad(i_, fmt::format("unexpected character {:?} after a scheme", s_[i_]));
      }
      after_scheme = i_ < s_.size() && IsSpace(s_[i_]);
    }
    return out;
  }

 private:
  tl::unexpected<Error> Bad(size_t offset, std::string_view why) const {
    return Fail(ErrorCode::kSpec, fmt::format("WWW-Authenticate: {} at offset {}", why, offset));
  }

  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
  }

  // A token68 that ends its list element; consumes it and returns true, else moves nothing.
  bool SkipToken68() {
    size_t j = i_;
    while (j < s_.size() && IsToken68Char(s_[j])) ++j;
    if (j == i_) return false;
    while (j < s_.size() && s_[j] == '=') ++j;
    while (j < s_.size() && IsSpace(s_[j])) ++j;
    if (j < s_.size() && s_[j] != ',') return false;
    i_ = j;
    return true;
  }

  // token / quoted-string after "name=" (and optional whitespace).
  Result<std::string> ParseValue(const std::string& name) {
    SkipSpace();
    std::string value;
    if (i_ < s_.size() && s_[i_] == '"') {
      size_t open = i_++;
      for (;;) {
        if (i_ == s_.size())
          return Bad(open, fmt::format("unterminated quoted value of {:?}", name));
        char c = s_[i_++];
        if (c == '"') break;
        if (c == '\\') {
          if (i_ == s_.size()) {
            return Bad(open, fmt::format("unterminated quoted value of {:?}", name));
          }
          c = s_[i_++];
        }
        value.push_back(c);
      }
      return value;
    }
    size_t start = i_;
    while (i_ < s_.size() && IsTchar(s_[i_])) ++i_;
    if (i_ == start) return Bad(start, fmt::format("parameter {:?} without a value", name));
    return std::string(s_.substr(start, i_ - start));
  }

  std::string_view s_;
  size_t i_ = 0;
};

// --- JSON helpers -------------------------------------------------------------------------------

// Parses a JSON object; an empty (or all-whitespace) text is an empty object. The parser's own
// message is not used: it quotes the input, which may hold a secret.
Result<Json> ParseObject(std::string_view text, std::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  HB_TRY_VOID(CheckUntrustedJson(text, what));
  try {
    Json doc = Json::parse(text);
    if (!doc.is_object()) return Fail(ErrorCode::kSpec, fmt::format("{}: not a JSON object", what));
    return doc;
  } catch (const Json::parse_error& e) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: invalid JSON at byte {}", what, e.byte));
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: invalid JSON (error {})", what, e.id));
  }
}

Result<std::string> Dump(const Json& doc) {
  try {
    return doc.dump(1, '\t') + "\n";
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kInternal,
                fmt::format("credentials file: cannot write JSON (error {})", e.id));
  }
}

// --- hosts --------------------------------------------------------------------------------------

// The host part of an "auths" key: "https://host/v1/" -> "host"; Docker Hub's names -> "docker.io".
std::string NormalizeHost(std::string_view key) {
  std::string lower = AsciiLower(key);
  std::string_view host = lower;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (host.substr(0, scheme.size()) == scheme) {
      host.remove_prefix(scheme.size());
      break;
    }
  }
  host = host.substr(0, host.find('/'));
  if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
  return std::string(host);
}

// The key `login` writes for a host: the bare host, except Docker Hub, which docker itself only
// finds under its legacy URL (podman and skopeo normalise that URL too).
std::string KeyForHost(const std::string& normalized) {
  if (normalized == "docker.io") return "https://index.docker.io/v1/";
  return normalized;
}

// The "auths" object of a credentials document (nullptr when absent).
Result<Json*> Auths(Json& doc) {
  auto it = doc.find("auths");
  if (it == doc.end() || it->is_null()) return nullptr;
  if (!it->is_object()) return Fail(ErrorCode::kSpec, "\"auths\" is not an object");
  return &*it;
}

Result<std::optional<std::string>> StringMember(const Json& entry, const char* name,
                                                const std::string& key) {
  auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Fail(ErrorCode::kSpec, fmt::format("auths[{:?}].{} is not a string", key, name));
  }
  return std::optional<std::string>(it->get<std::string>());
}

// The credentials of one "auths" entry; nullopt when it holds none (as with a credsStore).
Result<std::optional<Credentials>> EntryCredentials(const Json& entry, const std::string& key) {
  if (!entry.is_object()) {
    return Fail(ErrorCode::kSpec, fmt::format("auths[{:?}] is not an object", key));
  }
  HB_TRY(auto auth, StringMember(entry, "auth", key));
  HB_TRY(auto username, StringMember(entry, "username", key));
  HB_TRY(auto password, StringMember(entry, "password", key));
  HB_TRY(auto identity_token, StringMember(entry, "identitytoken", key));
  if (auth && auth->empty()) auth.reset();
  if (!auth && !username && !password && !identity_token) return std::optional<Credentials>();
  Credentials out;
  if (auth) {
    std::string padded = *auth;
    while (padded.size() % 4 != 0) padded.push_back('=');
    auto decoded = Base64Decode(padded);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("auths[{:?}].auth is not base64 of \"user:password\"", key));
    }
    out.username = decoded->substr(0, colon);
    out.password = decoded->substr(colon + 1);
  } else {
    out.username = username.value_or("");
    out.password = password.value_or("");
  }
  out.identity_token = identity_token.value_or("");
  return std::optional<Credentials>(std::move(out));
}

// --- files --------------------------------------------------------------------------------------

std::string Getenv(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string DockerConfigFile() {
  std::string dir = Getenv("DOCKER_CONFIG");
  if (!dir.empty()) return dir + "/config.json";
  std::string home = Getenv("HOME");
  if (home.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) home = pw->pw_dir;
  }
  if (home.empty()) return "";
  return home + "/.docker/config.json";
}

// The file's contents; nullopt when it does not exist.
Result<std::optional<std::string>> ReadIfExists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
    return std::optional<std::string>();
  }
  HB_TRY(std::string text, ReadFile(path));
  return std::optional<std::string>(std::move(text));
}

// mkdir -p, each directory created with mode 0700.
Result<void> MakePrivateDirs(const std::string& dir) {
  if (dir.empty() || dir == "." || dir == "/") return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Fail(ErrorCode::kIo, fmt::format("create directory {}: not a directory", dir));
  }
  HB_TRY_VOID(MakePrivateDirs(DirName(dir)));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(ErrorCode::kIo, fmt::format("create directory {}: {}", dir, std::strerror(errno)));
  }
  return {};
}

}  // namespace

Result<std::vector<Challenge>> ParseWwwAuthenticate(std::string_view header) {
  return ChallengeParser(header).Parse();
}

Result<Token> ParseTokenResponse(std::string_view body) {
  auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("token response: {}", why));
  };
  // Not ParseObject: an empty body is no token.
  Json doc;
  if (auto bounded = CheckUntrustedJson(body, "token response", 16, kMaxTokenResponseBytes);
      !bounded) {
    return Fail(std::move(bounded.error()));
  }
  try {
    doc = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return bad(fmt::format("invalid JSON at byte {}", e.byte));
  } catch (const Json::exception& e) {
    return bad(fmt::format("invalid JSON (error {})", e.id));
  }
  if (!doc.is_object()) return bad("not a JSON object");
  Token out;
  for (const char* name : {"token", "access_token"}) {
    auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) continue;
    if (!it->is_string()) return bad(fmt::format("\"{}\" is not a string", name));
    if (out.token.empty()) out.token = it->get<std::string>();
  }
  if (out.token.empty()) return bad("no \"token\" or \"access_token\"");
  constexpr int64_t kMinimum = 60;
  constexpr int64_t kMaximum = int64_t{1} << 40;  // far beyond any real lifetime; no overflow
  int64_t seconds = kMinimum;
  auto it = doc.find("expires_in");
  if (it != doc.end() && !it->is_null()) {
    if (it->is_number_unsigned()) {
      seconds = static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), kMaximum));
    } else if (it->is_number_integer()) {
      seconds = it->get<int64_t>();
    } else if (it->is_number_float()) {
      double value = it->get<double>();
      seconds = value >= static_cast<double>(kMaximum) ? kMaximum
                : value > 0                            ? static_cast<int64_t>(value)
                                                       : 0;
    } else {
      return bad("\"expires_in\" is not a number");
    }
  }
  out.expires_in = std::chrono::seconds(std::clamp(seconds, kMinimum, kMaximum));
  return out;
}

Result<Credentials> ParseCredsFlag(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Fail(ErrorCode::kUsage, "--creds: expected USER:PASSWORD");
  }
  if (colon == 0) return Fail(ErrorCode::kUsage, "--creds: empty user name");
  return Credentials{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)), ""};
}

Result<std::optional<Credentials>> FindCredentials(std::string_view config_json,
                                                   std::string_view host) {
  HB_TRY(Json doc, ParseObject(config_json, "credentials file"));
  HB_TRY(Json * auths, Auths(doc));
  if (auths == nullptr) return std::optional<Credentials>();
  std::string wanted = NormalizeHost(host);
  // The key spelled exactly as asked wins over other spellings of the same host.
  if (auto it = auths->find(std::string(host)); it != auths->end()) {
    HB_TRY(auto found, EntryCredentials(*it, it.key()));
    if (found) return found;
  }
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    if (NormalizeHost(it.key()) != wanted) continue;
    HB_TRY(auto found, EntryCredentials(*it, it.key()));
    if (found) return found;
  }
  return std::optional<Credentials>();
}

Result<std::string> WithCredentials(std::string_view config_json, std::string_view host,
                                    const Credentials& credentials) {
  HB_TRY(Json doc, ParseObject(config_json, "credentials file"));
  HB_TRY(Json * auths, Auths(doc));
  if (auths == nullptr) {
    doc["auths"] = Json::object();
    auths = &doc["auths"];
  }
  std::string wanted = NormalizeHost(host);
  for (auto it = auths->begin(); it != auths->end();) {
    it = NormalizeHost(it.key()) == wanted ? auths->erase(it) : std::next(it);
  }
  Json entry = Json::object();
  bool token_only = credentials.username.empty() && credentials.password.empty() &&
                    !credentials.identity_token.empty();
  if (!token_only) {
    entry["auth"] = Base64Encode(credentials.username + ":" + credentials.password);
  }
  if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
  (*auths)[KeyForHost(wanted)] = std::move(entry);
  return Dump(doc);
}

Result<std::string> WithoutCredentials(std::string_view config_json, std::string_view host,
                                       bool* removed) {
  if (removed) *removed = false;
  HB_TRY(Json doc, ParseObject(config_json, "credentials file"));
  HB_TRY(Json * auths, Auths(doc));
  if (auths == nullptr) return std::string(config_json);
  std::string wanted = NormalizeHost(host);
  bool any = false;
  for (auto it = auths->begin(); it != auths->end();) {
    bool match = NormalizeHost(it.key()) == wanted;
    any = any || match;
    it = match ? auths->erase(it) : std::next(it);
  }
  if (!any) return std::string(config_json);
  if (removed) *removed = true;
  return Dump(doc);
}

std::vector<std::string> AuthFileCandidates(const std::string& auth_file) {
  if (!auth_file.empty()) return {auth_file};
  std::vector<std::string> out;
  if (std::string env = Getenv("REGISTRY_AUTH_FILE"); !env.empty()) out.push_back(env);
  if (std::string docker = DockerConfigFile(); !docker.empty()) out.push_back(docker);
  return out;
}

std::string AuthFileForWriting(const std::string& auth_file) {
  if (!auth_file.empty()) return auth_file;
  if (std::string env = Getenv("REGISTRY_AUTH_FILE"); !env.empty()) return env;
  return DockerConfigFile();
}

Result<std::optional<Credentials>> LoadCredentials(std::string_view host,
                                                   const std::string& auth_file) {
  for (const std::string& path : AuthFileCandidates(auth_file)) {
    HB_TRY(auto text, ReadIfExists(path));
    if (!text) continue;
    HB_TRY(auto found, WithContext(FindCredentials(*text, host), path));
    if (found) return found;
  }
  return std::optional<Credentials>();
}

Result<std::string> StoreCredentials(std::string_view host, const Credentials& credentials,
                                     const std::string& auth_file) {
  std::string path = AuthFileForWriting(auth_file);
  if (path.empty()) {
    return Fail(ErrorCode::kUsage, "no credentials file: set $HOME, $DOCKER_CONFIG or --authfile");
  }
  HB_TRY_VOID(MakePrivateDirs(DirName(path)));
  HB_TRY(FileLock lock, FileLock::Acquire(path + ".lock", FileLock::Mode::kExclusive));
  HB_TRY(auto text, ReadIfExists(path));
  HB_TRY(std::string updated,
         WithContext(WithCredentials(text.value_or(""), host, credentials), path));
  HB_TRY_VOID(WriteFileAtomic(path, updated, 0600));
  return path;
}

Result<bool> RemoveCredentials(std::string_view host, const std::string& auth_file) {
  std::string path = AuthFileForWriting(auth_file);
  if (path.empty()) return false;
  HB_TRY(auto exists, ReadIfExists(path));
  if (!exists) return false;
  HB_TRY(FileLock lock, FileLock::Acquire(path + ".lock", FileLock::Mode::kExclusive));
  HB_TRY(auto text, ReadIfExists(path));  // again, under the lock
  if (!text) return false;
  bool removed = false;
  HB_TRY(std::string updated, WithContext(WithoutCredentials(*text, host, &removed), path));
  if (removed) HB_TRY_VOID(WriteFileAtomic(path, updated, 0600));
  return removed;
}

}  // namespace hardbase::registry
