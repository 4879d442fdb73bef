#include "base/purl.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "base/printable.h"
#include "base/strings.h"

namespace hardbase {
namespace {

// Types whose namespace, and types whose name, the purl-spec type definitions
// (types/<type>-definition.json: "case_sensitive": false) declare case-insensitive: their
// canonical form is lower case. Sorted, for binary search.
// clang-format off
constexpr std::array<std::string_view, 13> kCaseInsensitiveNamespace = {
    "alpm", "apk", "bitbucket", "brew", "composer", "deb", "github",
    "hex", "luarocks", "qpkg", "rpm", "vscode-extension", "yocto"};
constexpr std::array<std::string_view, 16> kCaseInsensitiveName = {
    "alpm", "apk", "bitbucket", "bitnami", "brew", "chrome-extension", "composer", "deb",
    "github", "hex", "luarocks", "oci", "otp", "pub", "pypi", "vscode-extension"};
// clang-format on
static_assert(std::is_sorted(kCaseInsensitiveNamespace.begin(), kCaseInsensitiveNamespace.end()));
static_assert(std::is_sorted(kCaseInsensitiveName.begin(), kCaseInsensitiveName.end()));

template <size_t N>
bool Contains(const std::array<std::string_view, N>& sorted, std::string_view type) {
  return std::binary_search(sorted.begin(), sorted.end(), type);
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// A type: ASCII letters, digits, '.' and '-', starting with a letter.
bool IsValidType(std::string_view type) {
  return !type.empty() && IsAsciiAlpha(type[0]) &&
         std::all_of(type.begin(), type.end(), [](char c) {
           return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '.' || c == '-';
         });
}

// A qualifier key, already lower-cased: letters, digits, '.', '-' and '_', starting with a letter.
bool IsValidKey(std::string_view key) {
  return !key.empty() && IsAsciiAlpha(key[0]) && std::all_of(key.begin(), key.end(), [](char c) {
    return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '.' || c == '-' || c == '_';
  });
}

bool IsUtf8(std::string_view s) {
  while (!s.empty()) {
    char32_t code_point;
    size_t n = DecodeUtf8(s, &code_point);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

int HexValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `s` on `sep` (every occurrence; empty parts kept).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// Parse's state: the input, for the messages.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  tl::unexpected<Error> Bad(std::string_view why) const {
    constexpr size_t kShown = 200;
    std::string shown = Printable(text_.substr(0, kShown));
    if (text_.size() > kShown) shown += "...";
    return Fail(ErrorCode::kSpec, fmt::format("purl '{}': {}", shown, why));
  }

  // `s` percent-decoded: what `what` holds. A '%' must start %XX, and the result must be UTF-8.
  Result<std::string> Decode(std::string_view s, std::string_view what) const {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        out += s[i];
        continue;
      }
      int high = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      int low = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Bad(fmt::format("the {} has a '%' that is not followed by two hex digits", what));
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (!IsUtf8(out)) return Bad(fmt::format("the {} is not UTF-8 once decoded", what));
    return out;
  }

  // Segments separated by '/', decoded; empty ones (and with `drop_dots` "." and "..") dropped.
  Result<std::string> Segments(std::string_view s, std::string_view what, bool drop_dots) const {
    std::string out;
    for (std::string_view raw : Split(s, '/')) {
      if (raw.empty()) continue;
      // (Not HB_TRY: GCC 12 takes the moved-into string for uninitialised in the comparisons.)
      Result<std::string> decoded = Decode(raw, what);
      if (!decoded) return Fail(std::move(decoded.error()));
      const std::string& segment = *decoded;
      if (drop_dots && (segment == "." || segment == "..")) continue;
      if (segment.find('/') != std::string::npos) {
        return Bad(fmt::format("a segment of the {} holds an encoded '/'", what));
      }
      if (segment.empty()) continue;
      if (!out.empty()) out += '/';
      out += segment;
    }
    return out;
  }

  Result<std::map<std::string, std::string>> Qualifiers(std::string_view s) const {
    std::map<std::string, std::string> out;
    std::vector<std::string> keys;
    for (std::string_view pair : Split(s, '&')) {
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        return Bad(fmt::format("the qualifier '{}' has no '='", Printable(pair)));
      }
      std::string key = AsciiLower(pair.substr(0, eq));
      if (!IsValidKey(key)) {
        return Bad(
            fmt::format("'{}' is not a qualifier key (letters, digits, '.', '-', '_', "
                        "starting with a letter)",
                        Printable(pair.substr(0, eq))));
      }
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        return Bad(fmt::format("the qualifier '{}' is given twice", key));
      }
      keys.push_back(key);
      HB_TRY(std::string value, Decode(pair.substr(eq + 1), "qualifier " + key));
      if (!value.empty()) out.emplace(std::move(key), std::move(value));
    }
    return out;
  }

 private:
  std::string_view text_;
};

// The type-specific normalisation of a namespace and name (see purl.h).
void Normalize(std::string_view type, std::string& ns, std::string& name) {
  if (Contains(kCaseInsensitiveNamespace, type)) ns = AsciiLower(ns);
  if (Contains(kCaseInsensitiveName, type)) name = AsciiLower(name);
  if (type == "pypi") std::replace(name.begin(), name.end(), '_', '-');
}

}  // namespace

// The colon is never encoded (ECMA-427 5.4).
std::string PurlEncode(std::string_view s) { return PercentEncode(s, ":"); }

Result<Purl> Purl::Parse(std::string_view text) {
  const Parser parser(text);
  Purl purl;
  std::string_view rest = text;
  // Right to left, as the specification parses: subpath, qualifiers, then scheme and type from
  // the left, then version, name and namespace from the right.
  if (size_t hash = rest.rfind('#'); hash != std::string_view::npos) {
    HB_TRY(purl.subpath, parser.Segments(rest.substr(hash + 1), "subpath", true));
    rest = rest.substr(0, hash);
  }
  if (size_t question = rest.rfind('?'); question != std::string_view::npos) {
    HB_TRY(purl.qualifiers, parser.Qualifiers(rest.substr(question + 1)));
    rest = rest.substr(0, question);
  }
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || AsciiLower(rest.substr(0, colon)) != "pkg") {
    return parser.Bad("it does not start with the scheme 'pkg:'");
  }
  rest.remove_prefix(colon + 1);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return parser.Bad("no type and name ('pkg:TYPE/NAME')");
  if (!IsValidType(rest.substr(0, slash))) {
    return parser.Bad(
        fmt::format("'{}' is not a type (letters, digits, '.' and '-', starting "
                    "with a letter)",
                    Printable(rest.substr(0, slash))));
  }
  purl.type = AsciiLower(rest.substr(0, slash));
  rest.remove_prefix(slash + 1);
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    HB_TRY(purl.version, parser.Decode(rest.substr(at + 1), "version"));
    rest = rest.substr(0, at);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  size_t last = rest.rfind('/');
  std::string_view name = last == std::string_view::npos ? rest : rest.substr(last + 1);
  if (name.empty()) return parser.Bad("no name");
  HB_TRY(purl.name, parser.Decode(name, "name"));
  if (purl.name.empty()) return parser.Bad("no name");
  if (last != std::string_view::npos) {
    HB_TRY(purl.namespace_, parser.Segments(rest.substr(0, last), "namespace", false));
  }
  Normalize(purl.type, purl.namespace_, purl.name);
  return purl;
}

std::string Purl::ToString() const {
  std::string lower_type = AsciiLower(type);
  std::string ns = namespace_, folded_name = name;
  Normalize(lower_type, ns, folded_name);
  std::string out = "pkg:" + lower_type + "/";
  for (std::string_view segment : Split(ns, '/')) {
    if (!segment.empty()) out += PurlEncode(segment) + "/";
  }
  out += PurlEncode(folded_name);
  if (!version.empty()) out += "@" + PurlEncode(version);
  std::map<std::string, std::string_view> sorted;
  for (const auto& [key, value] : qualifiers) {
    if (!value.empty()) sorted[AsciiLower(key)] = value;
  }
  char separator = '?';
  for (const auto& [key, value] : sorted) {
    out += separator + key + "=" + PurlEncode(value);
    separator = '&';
  }
  separator = '#';
  for (std::string_view segment : Split(subpath, '/')) {
    if (segment.empty() || segment == "." || segment == "..") continue;
    out += separator + PurlEncode(segment);
    separator = '/';
  }
  return out;
}

}  // namespace hardbase
