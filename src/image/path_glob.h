// Globs over absolute paths in an image, as used by the spec's `paths:` include/exclude lists and
// the builder's default strip list.
//
// Syntax: `*` matches any run of characters within one path component (not '/'), `?` one character
// but '/', `[abc]`, `[a-z]` and `[!a-z]` a character class (never '/'), `**` as a whole component
// any number (zero or more) of components: "/usr/share/doc/**" matches "/usr/share/doc" itself and
// everything below it; "/usr/**/*.so" matches "/usr/a.so" and "/usr/lib/x/b.so". A backslash
// escapes the next character. A pattern matches a directory's contents only through `**`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::image {

// The non-empty components of a path: "/usr//lib/" -> {"usr", "lib"}.
std::vector<std::string_view> PathComponents(std::string_view path);

// Whether `path` is `dir` or lies below it, component-wise: "/usr/lib" is below "/usr",
// "/usrx" is not.
bool IsAtOrBelow(std::string_view path, std::string_view dir);

class PathGlob {
 public:
  // kSpec error for a pattern that is not absolute, has an unterminated '[' class or a trailing
  // backslash.
  static Result<PathGlob> Compile(std::string_view pattern);

  bool Matches(std::string_view path) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::vector<std::string> components_;
};

}  // namespace hardbase::image
