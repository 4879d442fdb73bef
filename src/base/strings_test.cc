#include "base/strings.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "support/process.h"

namespace hardbase {
namespace {

TEST(StringsTest, TrimDropsBlanksAtTheEnds) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(TrimLeft("\t a "), "a ");
  EXPECT_EQ(Trim(" \t\r\n"), "");
  EXPECT_EQ(Trim(""), "");
}

// Every line as (number, text), the way a parser sees them.
std::vector<std::pair<size_t, std::string>> AllLines(std::string_view text, LineOptions o = {}) {
  std::vector<std::pair<size_t, std::string>> out;
  for (auto [line, number] : Lines(text, o)) out.emplace_back(number, std::string(line));
  return out;
}

using Numbered = std::vector<std::pair<size_t, std::string>>;

TEST(LinesTest, SplitsAtLineFeedsAndNumbersFromOne) {
  EXPECT_EQ(AllLines(""), Numbered{});
  EXPECT_EQ(AllLines("\n"), (Numbered{{1, ""}}));
  EXPECT_EQ(AllLines("a"), (Numbered{{1, "a"}}));
  EXPECT_EQ(AllLines("a\nb"), (Numbered{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(AllLines("a\nb\n"), (Numbered{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(AllLines("a\n\n\nb"), (Numbered{{1, "a"}, {2, ""}, {3, ""}, {4, "b"}}));
  std::string with_nul("a\0b\nc", 5);
  EXPECT_EQ(AllLines(with_nul), (Numbered{{1, std::string("a\0b", 3)}, {2, "c"}}));
}

TEST(LinesTest, StripsOneCarriageReturnUnlessKept) {
  EXPECT_EQ(AllLines("a\r\nb\r\r\nc\r"), (Numbered{{1, "a"}, {2, "b\r"}, {3, "c"}}));
  EXPECT_EQ(AllLines("\r\n"), (Numbered{{1, ""}}));
  EXPECT_EQ(AllLines("a\r\nb\r", {.strip_cr = false}), (Numbered{{1, "a\r"}, {2, "b\r"}}));
  EXPECT_EQ(AllLines("a\rb\n"), (Numbered{{1, "a\rb"}}));  // a lone CR inside a line stays
}

TEST(LinesTest, SkipsBlankAndCommentLinesButCountsThem) {
  const char* text = "# head\n\n  \t\r\n x # not a comment\n  # indented\n#\ny\n\n";
  EXPECT_EQ(AllLines(text, {.skip_blank = true, .comment = '#'}),
            (Numbered{{4, " x # not a comment"}, {7, "y"}}));
  EXPECT_EQ(
      AllLines(text, {.skip_blank = true}),
      (Numbered{
          {1, "# head"}, {4, " x # not a comment"}, {5, "  # indented"}, {6, "#"}, {7, "y"}}));
  EXPECT_EQ(AllLines(text, {.comment = '#'}),
            (Numbered{{2, ""}, {3, "  \t"}, {4, " x # not a comment"}, {7, "y"}, {8, ""}}));
  EXPECT_EQ(AllLines("\n\n# only\n", {.skip_blank = true, .comment = '#'}), Numbered{});
}

TEST(LinesTest, LineNumberOfAPartOfTheText) {
  std::string_view text = "a: 1\nb: 2\n\nc: 3";
  EXPECT_EQ(LineNumberOf(text, text.substr(0, 1)), 1u);
  EXPECT_EQ(LineNumberOf(text, text.substr(4)), 1u);  // the line feed itself ends line 1
  EXPECT_EQ(LineNumberOf(text, text.substr(5)), 2u);
  EXPECT_EQ(LineNumberOf(text, text.substr(text.find('c'))), 4u);
  EXPECT_EQ(LineNumberOf(text, text.substr(text.size())), 4u);
}

TEST(StringsTest, WordsSplitAtRunsOfBlanks) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(Words(""), V{});
  EXPECT_EQ(Words(" \t\r\n"), V{});
  EXPECT_EQ(Words("a"), V{"a"});
  EXPECT_EQ(Words("  hl java\t/usr/bin/java\r\n"), (V{"hl", "java", "/usr/bin/java"}));
  EXPECT_EQ(Words("a,b  c"), (V{"a,b", "c"}));
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

TEST(StringsTest, PercentEncodeKeepsOnlyUnreservedCharactersAndKeep) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("repository:team/app:pull,push"),
            "repository%3Ateam%2Fapp%3Apull%2Cpush");
  EXPECT_EQ(PercentEncode("a b+c&d=e?"), "a%20b%2Bc%26d%3De%3F");
  EXPECT_EQ(PercentEncode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode("1:1.2+dfsg", ":"), "1:1.2%2Bdfsg");
}

TEST(StringsTest, AlignColumnsPadsNamesLeftAndNumbersRight) {
  EXPECT_EQ(AlignColumns({{"NAME", "SIZE"}, {"python3", "17"}, {"cc", "8"}}, 1),
            "NAME     SIZE\n"
            "python3    17\n"
            "cc          8\n");
  EXPECT_EQ(AlignColumns({}, 1), "");
}

TEST(StringsTest, FormatMiBHasOneDecimalAndASignForChanges) {
  EXPECT_EQ(FormatMiB(0), "0.0 MiB");
  EXPECT_EQ(FormatMiB(1572864), "1.5 MiB");
  EXPECT_EQ(FormatMiB(-209715, true), "-0.2 MiB");
  EXPECT_EQ(FormatMiB(1048576, true), "+1.0 MiB");
}

}  // namespace
}  // namespace hardbase
