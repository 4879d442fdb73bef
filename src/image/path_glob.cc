#include "image/path_glob.h"

#include <bitset>
#include <optional>

namespace hardbase::image {
namespace {

// One element of a component pattern that matches exactly one character: a literal, `?` or a
// bracket class. `end` is where the next element starts.
struct Element {
  std::bitset<256> accepts;
  size_t end = 0;
};

// Reads the element at `p` of a component pattern that Compile validated (so every '[' is closed
// and no backslash is last). `[` classes follow glibc's fnmatch: '!' or '^' negates, a ']' right
// after the opening (or the negation) is literal, '-' between two members is a range, a backslash
// escapes; '/' is never accepted.
Element ReadElement(std::string_view pattern, size_t p) {
  Element e;
  unsigned char c = pattern[p];
  if (c == '?') {
    e.accepts.set();
    e.accepts.reset('/');
    e.end = p + 1;
    return e;
  }
  if (c == '\\') {
    e.accepts.set(static_cast<unsigned char>(pattern[p + 1]));
    e.end = p + 2;
    return e;
  }
  if (c != '[') {
    e.accepts.set(c);
    e.end = p + 1;
    return e;
  }
  size_t i = p + 1;
  bool negate = pattern[i] == '!' || pattern[i] == '^';
  if (negate) ++i;
  auto member = [&](size_t& at) -> unsigned char {
    if (pattern[at] == '\\') ++at;
    return static_cast<unsigned char>(pattern[at++]);
  };
  bool first = true;
  while (first || pattern[i] != ']') {
    first = false;
    unsigned char lo = member(i);
    unsigned char hi = lo;
    if (pattern[i] == '-' && pattern[i + 1] != ']') {
      ++i;
      hi = member(i);
    }
    for (unsigned v = lo; v <= hi; ++v) e.accepts.set(v);
  }
  if (negate) e.accepts.flip();
  e.accepts.reset('/');
  e.end = i + 1;
  return e;
}

// End of the bracket class opening at `p`, or nullopt when it is not closed in `component`.
std::optional<size_t> ClassEnd(std::string_view component, size_t p) {
  size_t i = p + 1;
  if (i < component.size() && (component[i] == '!' || component[i] == '^')) ++i;
  bool first = true;
  while (i < component.size()) {
    if (component[i] == ']' && !first) return i + 1;
    first = false;
    if (component[i] == '\\') ++i;
    ++i;
  }
  return std::nullopt;
}

// Glob match of one component; `*` matches any run of characters. The classic greedy scan that
// backtracks only to the last `*` is exact here because every other element matches exactly one
// character, and it bounds the work to O(|pattern| * |text|).
bool MatchComponent(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  std::optional<size_t> star_p;  // pattern position after the last `*`
  size_t star_t = 0;             // text position that `*` was last tried to end at
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      Element e = ReadElement(pattern, p);
      if (e.accepts.test(static_cast<unsigned char>(text[t]))) {
        p = e.end;
        ++t;
        continue;
      }
    }
    if (!star_p) return false;
    p = *star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::vector<std::string_view> PathComponents(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > i) parts.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return parts;
}

bool IsAtOrBelow(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

Result<PathGlob> PathGlob::Compile(std::string_view pattern) {
  auto error = [&](std::string_view what) {
    return Fail(ErrorCode::kSpec,
                "path pattern '" + std::string(pattern) + "': " + std::string(what));
  };
  if (pattern.empty() || pattern[0] != '/') return error("not an absolute path");
  PathGlob glob;
  glob.pattern_ = std::string(pattern);
  // Split at every '/', an escaped one included (a component cannot hold '/', so "\/" can only
  // mean the separator, as in fnmatch with FNM_PATHNAME); empty components are dropped.
  std::string component;
  auto finish = [&]() -> Result<void> {
    for (size_t i = 0; i < component.size(); ++i) {
      if (component[i] == '\\') {
        ++i;
      } else if (component[i] == '[') {
        auto end = ClassEnd(component, i);
        if (!end) return error("unterminated '[' class");
        i = *end - 1;
      }
    }
    if (!component.empty()) glob.components_.push_back(std::move(component));
    component.clear();
    return {};
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) return error("trailing backslash");
      if (pattern[i + 1] != '/') {
        component += pattern.substr(i, 2);
        ++i;
        continue;
      }
      ++i;
    }
    if (pattern[i] == '/') {
      HB_TRY_VOID(finish());
    } else {
      component += pattern[i];
    }
  }
  HB_TRY_VOID(finish());
  return glob;
}

// Dynamic programming over (pattern component, path component): `reach[j]` says whether the
// components so far can match the first j path components. `**` extends any reachable prefix by
// any number of components.
bool PathGlob::Matches(std::string_view path) const {
  if (path.empty() || path[0] != '/') return false;
  std::vector<std::string_view> parts = PathComponents(path);
  std::vector<char> reach(parts.size() + 1, 0), next(parts.size() + 1);
  reach[0] = 1;
  for (const std::string& component : components_) {
    if (component == "**") {
      char any = 0;
      for (size_t j = 0; j <= parts.size(); ++j) next[j] = any = any || reach[j];
    } else {
      next[0] = 0;
      for (size_t j = 0; j < parts.size(); ++j) {
        next[j + 1] = reach[j] && MatchComponent(component, parts[j]);
      }
    }
    reach.swap(next);
  }
  return reach[parts.size()];
}

}  // namespace hardbase::image
