#include "sbom/copyright.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace hardbase::sbom {
namespace {

// The fields of a stanza this module reads: names lowercased, first-line values, and the text on
// the continuation lines of License (" ." lines are blank lines).
struct Stanza {
  std::map<std::string, std::string> fields;
  std::string license_text;
};

std::vector<Stanza> ParseStanzas(std::string_view text) {
  std::vector<Stanza> stanzas;
  bool open = false;
  std::string current;  // lowercased name of the field continuation lines belong to
  for (const Line& each : Lines(text)) {
    std::string_view line = each.text;
    if (Trim(line).empty()) {
      open = false;
      continue;
    }
    if (line.front() == '#') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!open || current != "license") continue;
      std::string_view body = Trim(line);
      std::string& out = stanzas.back().license_text;
      out += body == "." ? "" : std::string(body);
      out += '\n';
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // tolerated: not a field
    if (!open) stanzas.emplace_back();
    open = true;
    current = AsciiLower(Trim(line.substr(0, colon)));
    stanzas.back().fields.emplace(current, std::string(Trim(line.substr(colon + 1))));
  }
  return stanzas;
}

// A DEP-5 file says so in its first stanza (Format, or Format-Specification in early drafts).
bool IsDep5(const std::vector<Stanza>& stanzas) {
  if (stanzas.empty()) return false;
  for (const char* name : {"format", "format-specification"}) {
    auto it = stanzas.front().fields.find(name);
    if (it == stanzas.front().fields.end()) continue;
    std::string value = AsciiLower(it->second);
    if (value.find("copyright-format") != std::string::npos ||
        value.find("dep5") != std::string::npos || value.find("dep-5") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Characters of an SPDX idstring.
bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

// "LicenseRef-" + `name` reduced to the characters an SPDX idstring allows ('+' spelt "plus").
std::string LicenseRef(std::string_view name) {
  std::string id;
  for (char c : name) {
    if (IsIdChar(c) && c != '-') {
      id += c;
    } else if (c == '+') {
      id += id.empty() || id.back() == '-' ? "plus" : "-plus";
    } else if (!id.empty() && id.back() != '-') {
      id += '-';
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id.empty() ? "" : "LicenseRef-" + id;
}

// Short names (lowercased) with one SPDX id; versioned GNU families are handled by GnuFamily.
constexpr std::pair<std::string_view, std::string_view> kIds[] = {
    {"0bsd", "0BSD"},
    {"afl-2.1", "AFL-2.1"},
    {"apache-1.0", "Apache-1.0"},
    {"apache-1.1", "Apache-1.1"},
    {"apache-2", "Apache-2.0"},
    {"apache-2.0", "Apache-2.0"},
    {"apache-2-llvm-exceptions", "Apache-2.0 WITH LLVM-exception"},  // as llvm-toolchain writes it
    {"artistic", "Artistic-1.0-Perl"},  // Debian's common-licenses/Artistic is Perl's text
    {"artistic-1.0", "Artistic-1.0"},
    {"artistic-1.0-perl", "Artistic-1.0-Perl"},
    {"artistic-2.0", "Artistic-2.0"},
    {"bsd-0-clause", "0BSD"},
    {"bsd-1-clause", "BSD-1-Clause"},
    {"bsd-2-clause", "BSD-2-Clause"},
    {"bsd-3-clause", "BSD-3-Clause"},
    {"bsd-4-clause", "BSD-4-Clause"},
    {"bsd-4-clause-uc", "BSD-4-Clause-UC"},
    {"bsl-1.0", "BSL-1.0"},
    {"bzip2-1.0.6", "bzip2-1.0.6"},
    {"cc-by-3.0", "CC-BY-3.0"},
    {"cc-by-4.0", "CC-BY-4.0"},
    {"cc-by-sa-3.0", "CC-BY-SA-3.0"},
    {"cc-by-sa-4.0", "CC-BY-SA-4.0"},
    {"cc0", "CC0-1.0"},
    {"cc0-1.0", "CC0-1.0"},
    {"cddl-1", "CDDL-1.0"},
    {"cddl-1.0", "CDDL-1.0"},
    {"curl", "curl"},
    {"epl-1.0", "EPL-1.0"},
    {"epl-2.0", "EPL-2.0"},
    {"expat", "MIT"},
    {"fsfap", "FSFAP"},
    {"fsful", "FSFUL"},
    {"fsfullr", "FSFULLR"},
    {"ftl", "FTL"},
    {"ijg", "IJG"},
    {"info-zip", "Info-ZIP"},
    {"isc", "ISC"},
    {"libpng", "Libpng"},
    {"libpng-2.0", "libpng-2.0"},
    {"mit", "MIT"},
    {"mit-0", "MIT-0"},
    {"mpl-1.1", "MPL-1.1"},
    {"mpl-2.0", "MPL-2.0"},
    {"ncsa", "NCSA"},
    {"ofl-1.1", "OFL-1.1"},
    {"openssl", "OpenSSL"},
    {"postgresql", "PostgreSQL"},
    {"psf-2", "PSF-2.0"},
    {"psf-2.0", "PSF-2.0"},
    {"python", "Python-2.0"},
    {"python-2.0", "Python-2.0"},
    {"ruby", "Ruby"},
    {"sil-1.1", "OFL-1.1"},
    {"sil-ofl-1.1", "OFL-1.1"},
    {"tcl", "TCL"},
    {"unicode-dfs-2016", "Unicode-DFS-2016"},
    {"unlicense", "Unlicense"},
    {"w3c", "W3C"},
    {"wtfpl", "WTFPL"},
    {"x11", "X11"},
    {"zlib", "Zlib"},
    {"zlib-acknowledgement", "zlib-acknowledgement"},
    {"zpl-2.0", "ZPL-2.0"},
    {"zpl-2.1", "ZPL-2.1"},
};

// GNU licences: Debian "GPL-2", "GPL-2+", "LGPL-2.1", "GFDL-NIV-1.3"; SPDX "GPL-2.0-only" etc.
// `key` is lowercased and `or_later` already stripped of a trailing '+'.
std::string GnuFamily(std::string_view key, bool or_later) {
  struct Family {
    std::string_view prefix, spdx, suffix;
    std::array<std::string_view, 3> versions;
  };
  static constexpr std::array<Family, 5> kFamilies{{
      {"gfdl-niv-", "GFDL-", "-no-invariants", {"1.1", "1.2", "1.3"}},
      {"gfdl-", "GFDL-", "", {"1.1", "1.2", "1.3"}},
      {"agpl-", "AGPL-", "", {"1.0", "3.0", ""}},
      {"lgpl-", "LGPL-", "", {"2.0", "2.1", "3.0"}},
      {"gpl-", "GPL-", "", {"1.0", "2.0", "3.0"}},
  }};
  for (const Family& f : kFamilies) {
    if (key.substr(0, f.prefix.size()) != f.prefix) continue;
    std::string version(key.substr(f.prefix.size()));
    // Already SPDX-style: "2.0-only", "2.0-or-later".
    if (version.ends_with("-or-later")) {
      version.resize(version.size() - 9);
      or_later = true;
    } else if (version.ends_with("-only")) {
      version.resize(version.size() - 5);
    }
    if (version.find('.') == std::string::npos) version += ".0";
    if (std::find(f.versions.begin(), f.versions.end(), version) == f.versions.end()) return "";
    return std::string(f.spdx) + version + std::string(f.suffix) +
           (or_later ? "-or-later" : "-only");
  }
  return "";
}

// SPDX id of a licence name without an exception, or "" when it has none.
std::string KnownId(std::string_view name) {
  std::string key = AsciiLower(name);
  bool or_later = !key.empty() && key.back() == '+';
  if (or_later) key.pop_back();
  if (std::string gnu = GnuFamily(key, or_later); !gnu.empty()) return gnu;
  for (const auto& [debian, spdx] : kIds) {
    if (key != debian) continue;
    if (!or_later) return std::string(spdx);
    return spdx.find(' ') == std::string_view::npos ? std::string(spdx) + "+" : "";
  }
  return "";
}

// SPDX exception id for Debian's "with <word> exception", given the licence it modifies.
std::string ExceptionId(std::string_view word, std::string_view license) {
  std::string key = AsciiLower(word);
  bool v3 = license.find("-3.0") != std::string_view::npos;
  if (key == "classpath") return "Classpath-exception-2.0";
  if (key == "gcc" || key == "gcc-3.1" || key == "gcc-exception-3.1") return "GCC-exception-3.1";
  if (key == "autoconf") return v3 ? "Autoconf-exception-3.0" : "Autoconf-exception-2.0";
  if (key == "bison") return "Bison-exception-2.2";
  if (key == "libtool") return "Libtool-exception";
  if (key == "font") return "Font-exception-2.0";
  if (key == "texinfo") return "Texinfo-exception";
  return "";
}

// An expression under construction: operands joined by AND, or (is_or) by OR. An OR inside an
// AND is parenthesised; an AND inside an OR needs none (AND binds tighter in SPDX, as in DEP-5
// within a comma-separated part).
struct Expr {
  std::vector<std::string> terms;
  bool is_or = false;
};

std::string Render(const Expr& e) {
  std::string out;
  for (const std::string& t : e.terms) {
    if (!out.empty()) out += e.is_or ? " OR " : " AND ";
    out += t;
  }
  return out;
}

std::vector<std::string> AndTerms(const Expr& e) {
  if (e.is_or && e.terms.size() > 1) return {"(" + Render(e) + ")"};
  return e.terms;
}

Expr Combine(const Expr& a, const Expr& b, bool is_or) {
  if (a.terms.empty()) return b;
  if (b.terms.empty()) return a;
  Expr out{{}, is_or};
  for (const Expr* e : {&a, &b}) {
    std::vector<std::string> terms =
        is_or ? (e->is_or ? e->terms : std::vector<std::string>{Render(*e)}) : AndTerms(*e);
    out.terms.insert(out.terms.end(), terms.begin(), terms.end());
  }
  if (out.terms.size() == 1) out.is_or = false;
  return out;
}

std::string Join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : " ") + std::string(w);
  return out;
}

// A DEP-5 License synopsis: "A or B and C, and D" is (A OR (B AND C)) AND D.
Expr ParseSynopsis(std::string_view synopsis) {
  Expr whole;
  size_t start = 0;
  while (start <= synopsis.size()) {
    size_t comma = synopsis.find(',', start);
    if (comma == std::string_view::npos) comma = synopsis.size();
    std::vector<std::string_view> words = Words(synopsis.substr(start, comma - start));
    start = comma + 1;
    bool joins_with_or = false;
    if (!words.empty() &&
        (AsciiLower(words.front()) == "or" || AsciiLower(words.front()) == "and")) {
      joins_with_or = AsciiLower(words.front()) == "or";
      words.erase(words.begin());
    }
    Expr part, conjunction;
    std::vector<std::string_view> operand;
    auto flush = [&] {
      std::string id = SpdxLicenseId(Join(operand));
      if (!id.empty()) conjunction = Combine(conjunction, Expr{{id}, false}, false);
      operand.clear();
    };
    for (std::string_view w : words) {
      std::string word = AsciiLower(w);
      if (word != "or" && word != "and") {
        operand.push_back(w);
        continue;
      }
      flush();
      if (word == "or") {
        part = Combine(part, conjunction, true);
        conjunction = {};
      }
    }
    flush();
    part = Combine(part, conjunction, true);
    whole = Combine(whole, part, joins_with_or);
  }
  return whole;
}

// The stanzas whose License counts: the header and every Files stanza.
std::vector<const Stanza*> DeclaringStanzas(const std::vector<Stanza>& stanzas) {
  std::vector<const Stanza*> out;
  if (!IsDep5(stanzas)) return out;
  for (size_t i = 0; i < stanzas.size(); ++i) {
    if (i == 0 || stanzas[i].fields.contains("files")) out.push_back(&stanzas[i]);
  }
  return out;
}

}  // namespace

std::string SpdxLicenseId(std::string_view name) {
  std::vector<std::string_view> words = Words(name);
  auto with = std::find_if(words.begin(), words.end(),
                           [](std::string_view w) { return AsciiLower(w) == "with"; });
  if (with == words.end()) {
    std::string joined = Join(words);
    std::string id = KnownId(joined);
    return id.empty() ? LicenseRef(joined) : id;
  }
  std::string license = KnownId(Join({words.begin(), with}));
  std::vector<std::string_view> exception(with + 1, words.end());
  if (!exception.empty() && AsciiLower(exception.back()) == "exception") exception.pop_back();
  std::string exception_id = license.empty() ? "" : ExceptionId(Join(exception), license);
  if (exception_id.empty() || license.back() == '+' || license.find(' ') != std::string::npos) {
    return LicenseRef(Join(words));
  }
  return license + " WITH " + exception_id;
}

std::string LicenseExpression(std::string_view copyright_text) {
  std::vector<Stanza> stanzas = ParseStanzas(copyright_text);
  // Simple ids sort before parenthesised choices, then by text.
  std::set<std::pair<bool, std::string>> conjuncts;
  for (const Stanza* s : DeclaringStanzas(stanzas)) {
    auto it = s->fields.find("license");
    if (it == s->fields.end()) continue;
    for (std::string& term : AndTerms(ParseSynopsis(it->second))) {
      bool choice = term.front() == '(';
      conjuncts.emplace(choice, std::move(term));
    }
  }
  std::string out;
  for (const auto& [choice, term] : conjuncts) out += (out.empty() ? "" : " AND ") + term;
  return out;
}

std::map<std::string, std::string> LicenseRefTexts(std::string_view copyright_text) {
  std::set<std::string> used = LicenseRefsIn(LicenseExpression(copyright_text));
  std::map<std::string, std::string> texts;
  for (const Stanza& s : ParseStanzas(copyright_text)) {
    auto it = s.fields.find("license");
    if (it == s.fields.end() || s.license_text.empty()) continue;
    std::string id = SpdxLicenseId(it->second);
    if (used.contains(id)) texts.emplace(id, s.license_text);
  }
  return texts;
}

std::set<std::string> LicenseRefsIn(std::string_view expression) {
  std::set<std::string> refs;
  for (size_t at = expression.find("LicenseRef-"); at != std::string_view::npos;
       at = expression.find("LicenseRef-", at + 1)) {
    size_t end = at + 11;
    while (end < expression.size() && IsIdChar(expression[end])) ++end;
    if (end > at + 11) refs.emplace(expression.substr(at, end - at));
  }
  return refs;
}

}  // namespace hardbase::sbom
