#include "audit/secrets.h"

#include <algorithm>
#include <functional>
#include <set>

#include "base/strings.h"

namespace hardbase::audit {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
bool IsBase64(char c) { return IsAlnum(c) || c == '+' || c == '/' || c == '='; }
bool IsBase64Url(char c) { return IsAlnum(c) || c == '-' || c == '_'; }
bool IsUpperBase32(char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); }

// How many characters from `at` satisfy `ok`.
size_t Run(std::string_view text, size_t at, const std::function<bool(char)>& ok) {
  size_t end = at;
  while (end < text.size() && ok(text[end])) ++end;
  return end - at;
}

bool WordStart(std::string_view text, size_t at) { return at == 0 || !IsWordChar(text[at - 1]); }

std::string_view FileName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void Add(std::string_view kind, size_t offset) {
    // Lines are counted from the last hit on: hits come in few and mostly in order.
    if (offset < counted_to_) {
      counted_to_ = 0;
      line_ = 1;
    }
    line_ +=
        static_cast<int>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(counted_to_),
                                    text_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    counted_to_ = offset;
    hits_.insert({line_, std::string(kind)});
  }

  // Calls `check(at)` for each place `anchor` occurs; `check` says whether it is a hit.
  void Each(std::string_view anchor, std::string_view kind,
            const std::function<bool(size_t)>& check) {
    for (size_t at = text_.find(anchor); at != std::string_view::npos;
         at = text_.find(anchor, at + 1)) {
      if (check(at)) Add(kind, at);
    }
  }

  std::vector<SecretMatch> Matches() const {
    std::vector<SecretMatch> out;
    for (const auto& [line, kind] : hits_) out.push_back({kind, line});
    return out;
  }

  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  size_t counted_to_ = 0;
  int line_ = 1;
  std::set<std::pair<int, std::string>> hits_;
};

// "-----BEGIN <label>-----" of a private key, followed by key material: after optional header
// lines (Proc-Type, DEK-Info, Version, Comment) and blank lines, a line of base64. Also in source
// code's one-line string literals, where lines are separated by "\n" escapes.
bool PrivateKeyAt(std::string_view text, size_t at) {
  size_t label = at + 11;  // "-----BEGIN "
  size_t close = text.find("-----", label);
  if (close == std::string_view::npos || close - label > 40) return false;
  std::string_view name = text.substr(label, close - label);
  if (!name.ends_with("PRIVATE KEY") && name != "PGP PRIVATE KEY BLOCK") return false;
  size_t pos = close + 5;
  for (int lines = 0; lines < 8 && pos < text.size(); ++lines) {
    // The next line break: a newline (CRLF too) or an escaped "\n".
    if (text.substr(pos).starts_with("\r\n")) {
      pos += 2;
    } else if (text[pos] == '\n') {
      pos += 1;
    } else if (text.substr(pos).starts_with("\\n")) {
      pos += 2;
    } else {
      return false;
    }
    size_t body = Run(text, pos, IsBase64);
    if (body >= 16) return true;
    // A header line ("Proc-Type: 4,ENCRYPTED") or a blank one: go on to the line after it.
    size_t end = pos;
    while (end < text.size() && text[end] != '\n' && !text.substr(end).starts_with("\\n")) ++end;
    std::string_view line = text.substr(pos, end - pos);
    if (!Trim(line).empty() && line.find(':') == std::string_view::npos) return false;
    pos = end;
  }
  return false;
}

// The value assigned after `key`: past a closing quote of the key, '=' or ':', blanks, the value
// up to its closing quote, or when unquoted up to a blank, ',', ';' or '}'. "" when there is no
// assignment.
std::string_view AssignedValue(std::string_view line, size_t key_end) {
  size_t pos = key_end;
  while (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  if (pos >= line.size() || (line[pos] != '=' && line[pos] != ':')) return {};
  ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
    size_t close = line.find(line[pos], pos + 1);
    if (close == std::string_view::npos) close = line.size();
    return line.substr(pos + 1, close - pos - 1);
  }
  size_t end = line.find_first_of(" \t\r,;}", pos);
  return line.substr(pos, (end == std::string_view::npos ? line.size() : end) - pos);
}

// A value that holds something, not a reference to a secret kept elsewhere.
bool RealValue(std::string_view value) {
  value = Trim(value);
  return !value.empty() && !value.starts_with('$') && !value.starts_with("<");
}

void ScanTokens(Scanner& s) {
  std::string_view t = s.text();
  s.Each("-----BEGIN ", "private-key", [&](size_t at) { return PrivateKeyAt(t, at); });
  for (std::string_view prefix : {"AKIA", "ASIA"}) {
    s.Each(prefix, "aws-access-key", [&](size_t at) {
      if (!WordStart(t, at) || Run(t, at + 4, IsUpperBase32) != 16) return false;
      size_t end = at + 20;
      if (end < t.size() && IsAlnum(t[end])) return false;
      return !t.substr(at, 20).ends_with("EXAMPLE");
    });
  }
  for (std::string_view key : {"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"}) {
    s.Each(key, "aws-secret-key", [&](size_t at) {
      size_t eol = std::min(t.find('\n', at), t.size());
      std::string_view value = AssignedValue(t.substr(0, eol), at + key.size());
      return value.size() == 40 && Run(value, 0, IsBase64) == 40;
    });
  }
  for (std::string_view prefix : {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}) {
    s.Each(prefix, "github-token",
           [&](size_t at) { return WordStart(t, at) && Run(t, at + 4, IsAlnum) == 36; });
  }
  s.Each("github_pat_", "github-token",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 11, IsWordChar) >= 22; });
  s.Each("glpat-", "gitlab-token",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 6, IsBase64Url) >= 20; });
  s.Each("xox", "slack-token", [&](size_t at) {
    if (!WordStart(t, at) || at + 5 > t.size() || t[at + 4] != '-') return false;
    if (std::string_view("bpaosr").find(t[at + 3]) == std::string_view::npos) return false;
    size_t length = Run(t, at + 5, [](char c) { return IsAlnum(c) || c == '-'; });
    std::string_view body = t.substr(at + 5, length);
    return length >= 10 && body.find_first_of("0123456789") != std::string_view::npos;
  });
  s.Each("AIza", "google-api-key",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 4, IsBase64Url) == 35; });
  s.Each("npm_", "npm-token",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 4, IsAlnum) == 36; });
  s.Each("pypi-AgEIcHlwaS5vcmc", "pypi-token",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 20, IsBase64Url) >= 50; });
  s.Each("sk_live_", "stripe-key",
         [&](size_t at) { return WordStart(t, at) && Run(t, at + 8, IsAlnum) >= 24; });
  s.Each("eyJ", "jwt", [&](size_t at) {
    if (!WordStart(t, at)) return false;
    size_t header = Run(t, at, IsBase64Url);
    size_t dot = at + header;
    if (header < 10 || dot >= t.size() || t[dot] != '.') return false;
    if (!t.substr(dot + 1).starts_with("eyJ")) return false;
    size_t payload = Run(t, dot + 1, IsBase64Url);
    size_t dot2 = dot + 1 + payload;
    if (payload < 10 || dot2 >= t.size() || t[dot2] != '.') return false;
    return Run(t, dot2 + 1, IsBase64Url) >= 16;
  });
}

// Each line's offset and text, for the line-based credential files.
void EachLine(Scanner& s, std::string_view kind,
              const std::function<bool(std::string_view line)>& check) {
  std::string_view t = s.text();
  size_t start = 0;
  while (start < t.size()) {
    size_t end = std::min(t.find('\n', start), t.size());
    std::string_view line = t.substr(start, end - start);
    std::string_view trimmed = TrimLeft(line);
    if (!trimmed.starts_with('#') && check(line)) s.Add(kind, start);
    start = end + 1;
  }
}

// The value of "key" assigned on a line (key at the line's start), lower-case key match.
bool AssignsKey(std::string_view line, std::string_view key) {
  std::string_view rest = TrimLeft(line);
  if (rest.size() < key.size() || !EqualsIgnoreCase(rest.substr(0, key.size()), key)) {
    return false;
  }
  return RealValue(AssignedValue(rest, key.size()));
}

void ScanCredentialFile(Scanner& s, std::string_view path) {
  std::string_view name = FileName(path);
  if (name == ".netrc" || name == "_netrc") {
    EachLine(s, "password", [](std::string_view line) {
      auto words = Words(line);
      for (size_t i = 0; i + 1 < words.size(); ++i) {
        if (words[i] == "password" && RealValue(words[i + 1])) return true;
      }
      return false;
    });
  } else if (name == ".pypirc" || name == ".my.cnf") {
    EachLine(s, "password", [](std::string_view line) { return AssignsKey(line, "password"); });
  } else if (name == ".pgpass") {
    EachLine(s, "password", [](std::string_view line) {
      size_t colons = std::count(line.begin(), line.end(), ':');
      return colons >= 4 && RealValue(line.substr(line.rfind(':') + 1));
    });
  } else if (name == ".env" || name.ends_with(".env")) {
    EachLine(s, "password", [](std::string_view line) {
      std::string_view rest = TrimLeft(line);
      if (rest.starts_with("export ")) rest = TrimLeft(rest.substr(7));
      size_t eq = rest.find('=');
      if (eq == std::string_view::npos) return false;
      std::string_view value = rest.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
        value = value.substr(1, value.size() - 2);
      }
      return IsSecretName(Trim(rest.substr(0, eq))) && RealValue(value);
    });
  } else if (name == ".npmrc") {
    EachLine(s, "npm-credentials", [](std::string_view line) {
      for (std::string_view key : {"_authToken", "_auth", "_password"}) {
        size_t at = line.find(key);
        if (at == std::string_view::npos) continue;
        size_t eq = line.find('=', at);
        if (eq != std::string_view::npos && eq == at + key.size() &&
            RealValue(line.substr(eq + 1))) {
          return true;
        }
      }
      return false;
    });
  } else if (name == "config.json" && path.ends_with(".docker/config.json")) {
    std::string_view t = s.text();
    for (std::string_view key : {"\"auth\"", "\"identitytoken\""}) {
      s.Each(key, "docker-auth", [&](size_t at) {
        size_t eol = std::min(t.find('\n', at), t.size());
        return RealValue(AssignedValue(t.substr(0, eol), at + key.size()));
      });
    }
  } else if (name == ".git-credentials") {
    EachLine(s, "git-credentials", [](std::string_view line) {
      size_t scheme = line.find("://");
      if (scheme == std::string_view::npos) return false;
      std::string_view rest = line.substr(scheme + 3);
      size_t at = rest.find('@');
      if (at == std::string_view::npos) return false;
      std::string_view userinfo = rest.substr(0, at);
      size_t colon = userinfo.find(':');
      return colon != std::string_view::npos && colon + 1 < userinfo.size() &&
             userinfo.find('/') == std::string_view::npos;
    });
  }
}

}  // namespace

bool LooksBinary(std::string_view content) {
  return content.substr(0, 8000).find('\0') != std::string_view::npos;
}

std::vector<SecretMatch> FindSecrets(std::string_view path, std::string_view content) {
  if (LooksBinary(content)) return {};
  Scanner scanner(content);
  ScanTokens(scanner);
  ScanCredentialFile(scanner, path);
  return scanner.Matches();
}

bool IsSecretName(std::string_view name) {
  std::string upper;
  for (char c : name) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  for (std::string_view place : {"_FILE", "_PATH", "_DIR"}) {
    if (upper.ends_with(place)) return false;
  }
  for (std::string_view word : {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "API_KEY",
                                "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> SecretEnvNames(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  for (const auto& var : env) {
    size_t eq = var.find('=');
    std::string name = var.substr(0, eq);
    std::string_view value = eq == std::string::npos ? "" : std::string_view(var).substr(eq + 1);
    bool secret = (IsSecretName(name) && RealValue(value)) || !FindSecrets("", value).empty();
    if (secret && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

}  // namespace hardbase::audit
