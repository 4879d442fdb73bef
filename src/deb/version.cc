#include "deb/version.h"

#include <string>

namespace hardbase::deb {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }

// dpkg's weight of a character in a non-digit run: '~' before the end of the string, the end
// before letters, letters before everything else.
int Order(char c) {
  if (IsDigit(c)) return 0;
  if (IsAlpha(c)) return c;
  if (c == '~') return -1;
  if (c) return static_cast<unsigned char>(c) + 256;
  return 0;
}

// dpkg's verrevcmp over two upstream or revision parts.
int CompareFragment(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !IsDigit(a[i])) || (j < b.size() && !IsDigit(b[j]))) {
      int ac = Order(at(a, i));
      int bc = Order(at(b, j));
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    while (IsDigit(at(a, i)) && IsDigit(at(b, j))) {
      if (!first_diff) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    if (IsDigit(at(a, i))) return 1;
    if (IsDigit(at(b, j))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

VersionParts SplitLoosely(std::string_view v) {
  VersionParts p;
  auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    unsigned long epoch = 0;
    bool ok = colon > 0;
    for (size_t k = 0; k < colon && ok; ++k) {
      if (!IsDigit(v[k]))
        ok = false;
      else
        epoch = epoch * 10 + static_cast<unsigned long>(v[k] - '0');
    }
    if (ok) {
      p.epoch = epoch;
      v.remove_prefix(colon + 1);
    }
  }
  auto dash = v.rfind('-');
  if (dash != std::string_view::npos) {
    p.upstream = v.substr(0, dash);
    p.revision = v.substr(dash + 1);
  } else {
    p.upstream = v;
  }
  return p;
}

}  // namespace

Result<VersionParts> ParseVersion(std::string_view version) {
  auto fail = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec,
                "invalid version '" + std::string(version) + "': " + std::string(why));
  };
  std::string_view v = version;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return fail("empty");
  if (v.find_first_of(" \t\n") != std::string_view::npos) return fail("contains white space");
  auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    if (colon == 0) return fail("empty epoch");
    for (size_t k = 0; k < colon; ++k) {
      if (!IsDigit(v[k])) return fail("epoch is not a number");
    }
    if (colon > 10) return fail("epoch is too big");
  }
  VersionParts p = SplitLoosely(v);
  if (p.epoch > 0x7fffffffUL) return fail("epoch is too big");
  if (v.back() == '-') return fail("empty revision");
  if (p.upstream.empty()) return fail("empty upstream version");
  if (!IsDigit(p.upstream.front())) return fail("upstream version does not start with a digit");
  for (char c : p.upstream) {
    if (!IsAlnum(c) && c != '.' && c != '-' && c != '+' && c != '~' && c != ':') {
      return fail(std::string("invalid character '") + c + "' in upstream version");
    }
  }
  for (char c : p.revision) {
    if (!IsAlnum(c) && c != '.' && c != '+' && c != '~') {
      return fail(std::string("invalid character '") + c + "' in revision");
    }
  }
  return p;
}

int CompareVersions(std::string_view a, std::string_view b) {
  VersionParts pa = SplitLoosely(a);
  VersionParts pb = SplitLoosely(b);
  if (pa.epoch != pb.epoch) return pa.epoch < pb.epoch ? -1 : 1;
  if (int r = CompareFragment(pa.upstream, pb.upstream)) return r;
  return CompareFragment(pa.revision, pb.revision);
}

bool Satisfies(std::string_view version, Relation op, std::string_view reference) {
  if (op == Relation::kAny) return true;
  int c = CompareVersions(version, reference);
  switch (op) {
    case Relation::kLess:
      return c < 0;
    case Relation::kLessEq:
      return c <= 0;
    case Relation::kEq:
      return c == 0;
    case Relation::kGreaterEq:
      return c >= 0;
    case Relation::kGreater:
      return c > 0;
    case Relation::kAny:
      return true;
  }
  return false;
}

}  // namespace hardbase::deb
