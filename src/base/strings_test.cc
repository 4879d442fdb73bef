#include "base/strings.h"

#include <gtest/gtest.h>

#include "support/process.h"

namespace hardbase {
namespace {

TEST(StringsTest, TrimDropsBlanksAtTheEnds) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(TrimLeft("\t a "), "a ");
  EXPECT_EQ(Trim(" \t\r\n"), "");
  EXPECT_EQ(Trim(""), "");
}

TEST(StringsTest, ReplaceAllReplacesLeftToRightWithoutRescanning) {
  EXPECT_EQ(ReplaceAll("a.b.c", ".", ".."), "a..b..c");
  EXPECT_EQ(ReplaceAll("aaa", "aa", "b"), "ba");
  EXPECT_EQ(ReplaceAll("abc", "", "x"), "abc");
}

// What sh makes of the quoted word is the word itself, whatever it holds.
TEST(StringsTest, ShellQuoteGivesTheWordBackThroughSh) {
  EXPECT_EQ(ShellQuote("out/java17"), "out/java17");
  for (std::string word : {"", "a b", "it's", "$(id)", "`x`", "a\nb", "*", "~root", "-n"}) {
    auto r = testing::RunProcess({"/bin/sh", "-c", "printf %s " + ShellQuote(word)});
    ASSERT_EQ(r.exit_code, 0) << word;
    EXPECT_EQ(r.out, word);
  }
}

TEST(AsciiLowerTest, LowersOnlyAscii) {
  EXPECT_EQ(AsciiLower("MiXeD-1.2_Z"), "mixed-1.2_z");
  EXPECT_EQ(AsciiLower("\xc3\x84"), "\xc3\x84");  // not a locale's idea of case
  EXPECT_TRUE(EqualsIgnoreCase("Package", "pACKAGE"));
  EXPECT_FALSE(EqualsIgnoreCase("Package", "Packages"));
}

TEST(EditDistanceTest, CountsEditsAndTranspositions) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("nginx", "nginx"), 0u);
  EXPECT_EQ(EditDistance("ngnix", "nginx"), 1u);  // one transposition
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting", 2), 3u);  // past the bound: max + 1
  EXPECT_EQ(EditDistance("a", "abcdefgh", 2), 3u);
}

}  // namespace
}  // namespace hardbase
