#include "deb/distro.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "base/strings.h"

namespace hardbase::deb {
namespace {

// Debian's releases by codename (https://www.debian.org/releases/; "duke" is announced).
constexpr std::pair<std::string_view, std::string_view> kCodenames[] = {
    {"buzz", "1.1"},    {"rex", "1.2"},     {"bo", "1.3"},    {"hamm", "2.0"},  {"slink", "2.1"},
    {"potato", "2.2"},  {"woody", "3.0"},   {"sarge", "3.1"}, {"etch", "4.0"},  {"lenny", "5.0"},
    {"squeeze", "6.0"}, {"wheezy", "7"},    {"jessie", "8"},  {"stretch", "9"}, {"buster", "10"},
    {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"},  {"duke", "15"},
};

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// A value as a shell reads it: quoted or not, backslash escapes resolved; what follows a closing
// quote is ignored (os-release(5) does not allow concatenation).
std::string Unquote(std::string_view value) {
  std::string out;
  char quote = 0;
  if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
    quote = value.front();
    value.remove_prefix(1);
  }
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quote != 0 && c == quote) break;
    // Inside single quotes a backslash is itself; elsewhere it escapes the next character.
    if (c == '\\' && quote != '\'' && i + 1 < value.size()) c = value[++i];
    out += c;
  }
  return out;
}

}  // namespace

std::string Distro::PurlQualifier() const {
  if (id.empty()) return "";
  if (!version_id.empty()) return id + "-" + version_id;
  if (!codename.empty()) return id + "-" + codename;
  return id;
}

Result<std::string> Distro::DebianRelease() const {
  if (id != "debian") {
    return Fail(ErrorCode::kSpec,
                fmt::format("the image is {}, not Debian: hardbase matches Debian's data only",
                            id.empty() ? "of an unknown distribution" : id));
  }
  if (!version_id.empty()) return version_id.substr(0, version_id.find('.'));
  if (auto release = ReleaseForCodename(codename)) return *release;
  return Fail(ErrorCode::kSpec,
              fmt::format("os-release names no Debian release (VERSION_ID, VERSION_CODENAME "
                          "'{}'): say which with --release",
                          codename));
}

std::map<std::string, std::string> ParseOsReleaseFields(std::string_view text) {
  std::map<std::string, std::string> fields;
  for (const Line& line : Lines(text, {.skip_blank = true, .comment = '#'})) {
    std::string_view assignment = Trim(line.text);
    size_t eq = assignment.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    std::string_view key = assignment.substr(0, eq);
    if (!std::all_of(key.begin(), key.end(), IsKeyChar)) continue;
    fields[std::string(key)] = Unquote(assignment.substr(eq + 1));
  }
  return fields;
}

Distro ParseOsRelease(std::string_view text) {
  auto fields = ParseOsReleaseFields(text);
  return Distro{AsciiLower(fields["ID"]), fields["VERSION_ID"], fields["VERSION_CODENAME"]};
}

std::optional<std::string> ReleaseForCodename(std::string_view codename) {
  for (const auto& [name, release] : kCodenames) {
    if (name == codename) return std::string(release);
  }
  return std::nullopt;
}

std::optional<Distro> DebianDistroOfCodename(std::string_view codename) {
  std::string_view base = codename.substr(0, codename.find('-'));
  auto release = ReleaseForCodename(base);
  if (!release) return std::nullopt;
  return Distro{"debian", *release, std::string(base)};
}

}  // namespace hardbase::deb
