#include "image/path_glob.h"

#include <fnmatch.h>
#include <gtest/gtest.h>
#include <regex.h>

#include <chrono>
#include <random>
#include <string>

#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

bool Match(const std::string& pattern, const std::string& path) {
  auto glob = PathGlob::Compile(pattern);
  EXPECT_TRUE(glob.has_value()) << pattern << ": " << glob.error().message;
  return glob && glob->Matches(path);
}

TEST(PathGlobTest, Table) {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  };
  const Case cases[] = {
      {"/usr/bin/env", "/usr/bin/env", true},
      {"/usr/bin/env", "/usr/bin/envx", false},
      {"/usr/bin/env", "/usr/bin", false},
      {"/usr/bin", "/usr/bin/env", false},  // contents only through **
      {"/usr/bin/*", "/usr/bin/env", true},
      {"/usr/bin/*", "/usr/bin/.hidden", true},
      {"/usr/bin/*", "/usr/bin/x/y", false},
      {"/usr/bin/*", "/usr/bin", false},
      {"/usr/*/env", "/usr/bin/env", true},
      {"/usr/*/env", "/usr/a/b/env", false},
      {"/usr/lib/*.so", "/usr/lib/libc.so", true},
      {"/usr/lib/*.so", "/usr/lib/.so", true},
      {"/usr/lib/*.so", "/usr/lib/libc.so.6", false},
      {"/usr/lib/*.so*", "/usr/lib/libc.so.6", true},
      {"/usr/share/doc/**", "/usr/share/doc", true},
      {"/usr/share/doc/**", "/usr/share/doc/bash/copyright", true},
      {"/usr/share/doc/**", "/usr/share/docs", false},
      {"/usr/share/doc/**", "/usr/share", false},
      {"/usr/**/*.so", "/usr/a.so", true},
      {"/usr/**/*.so", "/usr/lib/x/b.so", true},
      {"/usr/**/*.so", "/usr/lib/x/b.so.1", false},
      {"/usr/**/*.so", "/lib/b.so", false},
      {"/**", "/", true},
      {"/**", "/anything/at/all", true},
      {"/**/man/**", "/usr/share/man/man1/ls.1.gz", true},
      {"/**/man/**", "/usr/share/man", true},
      {"/**/man/**", "/usr/share/manx/a", false},
      {"/usr/**/**/x", "/usr/x", true},
      {"/usr/**/**/x", "/usr/a/b/c/x", true},
      {"/usr/a**b", "/usr/axyb", true},  // not a whole component: like *
      {"/usr/a**b", "/usr/ax/yb", false},
      {"/etc/?ss", "/etc/ass", true},
      {"/etc/?ss", "/etc/ss", false},
      {"/etc/[abc]x", "/etc/bx", true},
      {"/etc/[abc]x", "/etc/dx", false},
      {"/etc/[a-c]x", "/etc/cx", true},
      {"/etc/[a-c]x", "/etc/bx", true},
      {"/etc/[!a-c]x", "/etc/cx", false},
      {"/etc/[!a-c]x", "/etc/dx", true},
      {"/etc/[]a]", "/etc/]", true},
      {"/etc/[a-]", "/etc/-", true},
      {"/etc/\\*", "/etc/*", true},
      {"/etc/\\*", "/etc/a", false},
      {"/etc/\\[x]", "/etc/[x]", true},
      {"/etc/\\**", "/etc/*abc", true},
      {"/etc/\\**", "/etc/abc", false},
      {"/usr//bin/", "/usr/bin", true},  // empty components do not count
      {"/usr/bin", "/usr/bin/", true},
      {"/", "/", true},
      {"/", "/usr", false},
      {"/usr/bin/env", "usr/bin/env", false},  // paths are absolute
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Match(c.pattern, c.path), c.match) << c.pattern << " vs " << c.path;
  }
}

TEST(PathGlobTest, CompileErrors) {
  for (const char* bad :
       {"", "usr/bin", "*/bin", "/usr/[abc", "/usr/[]", "/usr/[!]", "/a\\", "/usr/[a/b]/c"}) {
    auto glob = PathGlob::Compile(bad);
    ASSERT_FALSE(glob.has_value()) << bad;
    EXPECT_THAT(glob, FailsWith(ErrorCode::kSpec));
    EXPECT_NE(glob.error().message.find(bad), std::string::npos) << glob.error().message;
  }
  auto glob = PathGlob::Compile("/usr/share/doc/**");
  ASSERT_TRUE(glob.has_value());
  EXPECT_EQ(glob->pattern(), "/usr/share/doc/**");
}

// Random patterns over a small alphabet so that matches are frequent.
std::string RandomComponentPattern(std::mt19937& rng, bool classes) {
  const std::string chars = "ab.-]^!";
  auto pick = [&](const std::string& from) { return from[rng() % from.size()]; };
  std::string out;
  int n = 1 + rng() % 4;
  for (int i = 0; i < n; ++i) {
    switch (rng() % (classes ? 6 : 4)) {
      case 0:
        out += '*';
        break;
      case 1:
        out += '?';
        break;
      case 2:
      case 3:
        out += pick("ab.-");
        break;
      case 4:
        out += '\\';
        out += pick(chars + "*?[\\");
        break;
      default: {
        out += '[';
        if (rng() % 3 == 0) out += pick("!^");
        int members = 1 + rng() % 3;
        for (int m = 0; m < members; ++m) {
          // A leading '^' or '!' would negate, leaving the class open past the intended ']'
          // into the next class, where glibc reads "[." as a collating symbol.
          char c = pick(m == 0 ? std::string("ab.-]") : chars);
          if (rng() % 4 == 0) {
            out += '\\';
            out += c;
          } else {
            out += c;
          }
          if (rng() % 3 == 0) {
            out += '-';
            out += pick("ab.");
          }
        }
        out += ']';
      }
    }
  }
  return out;
}

std::string RandomPath(std::mt19937& rng, int max_components) {
  const std::string chars = "ab.-]^![*?\\";
  std::string out;
  int n = 1 + rng() % max_components;
  for (int i = 0; i < n; ++i) {
    out += '/';
    int len = 1 + rng() % 4;
    for (int k = 0; k < len; ++k) out += chars[rng() % (rng() % 2 ? 2 : chars.size())];
  }
  return out;
}

// Without `**`, a pattern means what fnmatch(3) with FNM_PATHNAME says (glibc's, in the C locale).
TEST(PathGlobTest, AgreesWithFnmatchWithoutDoubleStar) {
  std::mt19937 rng(4242);
  int compared = 0, matched = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string pattern;
    int n = 1 + rng() % 3;
    for (int k = 0; k < n; ++k) pattern += "/" + RandomComponentPattern(rng, true);
    auto glob = PathGlob::Compile(pattern);
    if (!glob) continue;  // an unterminated class: fnmatch would take '[' literally
    bool has_double_star = false;
    for (size_t at = pattern.find("/**"); at != std::string::npos;
         at = pattern.find("/**", at + 1)) {
      has_double_star |= at + 3 == pattern.size() || pattern[at + 3] == '/';
    }
    if (has_double_star) continue;
    std::string path = RandomPath(rng, 3);
    bool expected = ::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0;
    ASSERT_EQ(glob->Matches(path), expected) << pattern << " vs " << path;
    ++compared;
    matched += expected;
  }
  EXPECT_GT(compared, 100000);
  EXPECT_GT(matched, 2000);  // the comparison is not all mismatches
}

// With `**`, compared with a translation to a POSIX extended regex (glibc's regexec): each
// component "/c" becomes "/" plus c's regex, and "/**" becomes "(/[^/]+)*".
TEST(PathGlobTest, AgreesWithRegexTranslationWithDoubleStar) {
  std::mt19937 rng(777);
  int matched = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string pattern, regex = "^";
    int n = 1 + rng() % 5;
    for (int k = 0; k < n; ++k) {
      if (rng() % 3 == 0) {
        pattern += "/**";
        regex += "(/[^/]+)*";
        continue;
      }
      std::string component = RandomComponentPattern(rng, false);
      if (component == "**") component = "*";
      pattern += "/" + component;
      regex += "/";
      for (char c : component) {
        if (c == '*')
          regex += "[^/]*";
        else if (c == '?')
          regex += "[^/]";
        else if (c == '.')
          regex += "\\.";
        else
          regex += c;
      }
    }
    std::string path = RandomPath(rng, 5);
    auto glob = PathGlob::Compile(pattern);
    ASSERT_TRUE(glob.has_value()) << pattern;
    regex_t compiled;
    ASSERT_EQ(::regcomp(&compiled, (regex + "$").c_str(), REG_EXTENDED | REG_NOSUB), 0) << regex;
    bool expected = ::regexec(&compiled, path.c_str(), 0, nullptr, 0) == 0;
    ::regfree(&compiled);
    ASSERT_EQ(glob->Matches(path), expected) << pattern << " vs " << path;
    matched += expected;
  }
  EXPECT_GT(matched, 400);
}

// Patterns that make a backtracking matcher exponential stay fast.
TEST(PathGlobTest, NoBacktrackingBlowUp) {
  auto start = std::chrono::steady_clock::now();
  std::string stars = "/";
  for (int i = 0; i < 30; ++i) stars += "**/";
  stars += "x";
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "/a";
  EXPECT_FALSE(Match(stars, deep));
  EXPECT_TRUE(Match(stars, deep + "/x"));
  EXPECT_FALSE(Match("/*a*a*a*a*a*a*a*a*a*a*a*a*b", "/" + std::string(5000, 'a')));
  EXPECT_TRUE(Match("/*a*a*a*a*a*a*a*a*a*a*a*a*b", "/" + std::string(5000, 'a') + "b"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(IsAtOrBelowTest, WholeComponentsOnly) {
  EXPECT_TRUE(IsAtOrBelow("/usr", "/usr"));
  EXPECT_TRUE(IsAtOrBelow("/usr/lib/x", "/usr"));
  EXPECT_FALSE(IsAtOrBelow("/usrx", "/usr"));
  EXPECT_FALSE(IsAtOrBelow("/us", "/usr"));
  EXPECT_FALSE(IsAtOrBelow("/var/usr", "/usr"));
}

}  // namespace
}  // namespace hardbase::image
