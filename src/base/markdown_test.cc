#include "base/markdown.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace hardbase {
namespace {

// A table row's cells as GitHub's table extension (cmark-gfm) splits them: at each pipe, where a
// backslash and the ASCII punctuation character after it count as one escaped character; then
// `\|` in a cell reads as `|`.
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < row.size(); ++i) {  // past the leading pipe
    char c = row[i];
    if (c == '\\' && i + 1 < row.size() && std::ispunct(static_cast<unsigned char>(row[i + 1]))) {
      cell += row[i + 1] == '|' ? "|" : row.substr(i, 2);
      ++i;
    } else if (c == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  return cells;
}

TEST(MarkdownCodeTest, PlainTextInBackticks) {
  EXPECT_EQ(MarkdownCode("libssl3"), "`libssl3`");
  EXPECT_EQ(MarkdownCode("1:2.36-9+deb12u4"), "`1:2.36-9+deb12u4`");
  EXPECT_EQ(MarkdownCode(""), "");
}

// Nothing in a code span is Markdown, so emphasis, HTML, links and mentions stay text as they are.
TEST(MarkdownCodeTest, MetacharactersStayLiteral) {
  EXPECT_EQ(MarkdownCode("*x* _y_ <img src=x onerror=alert(1)> [a](http://b) @team #1 ~~z~~"),
            "`*x* _y_ <img src=x onerror=alert(1)> [a](http://b) @team #1 ~~z~~`");
}

TEST(MarkdownCodeTest, BackticksGetALongerFence) {
  EXPECT_EQ(MarkdownCode("a`b"), "``a`b``");
  EXPECT_EQ(MarkdownCode("a``b`c"), "```a``b`c```");
  // At either end, a space keeps the fence apart from the text (CommonMark strips it again).
  EXPECT_EQ(MarkdownCode("`x"), "`` `x ``");
  EXPECT_EQ(MarkdownCode(" x "), "`  x  `");
  EXPECT_EQ(MarkdownCode("`"), "`` ` ``");
}

TEST(MarkdownCodeTest, NoLineOfItsOwn) {
  EXPECT_EQ(MarkdownCode("a\n# heading\r\n"), "`a\\x0a# heading\\x0d\\x0a`");
}

TEST(MarkdownTableCodeTest, PipesAreEscapedAndTheRowKeepsItsCells) {
  EXPECT_EQ(MarkdownTableCode("a|b"), "`a\\|b`");
  for (std::string hostile : {"a|b", "a\\|b", "a\\\\|b", "\\\\\\|", "|", "x\\", "`|`", "a||b"}) {
    std::string row = "| " + MarkdownTableCode(hostile) + " | " + MarkdownTableCode("2") + " |";
    std::vector<std::string> cells = Cells(row);
    ASSERT_EQ(cells.size(), 2u) << row;
    EXPECT_EQ(cells[1], " `2` ") << row;
  }
  // A backslash before a pipe would free it: the last of an odd run is shown as \x5c.
  EXPECT_EQ(MarkdownTableCode("a\\|b"), "`a\\x5c\\|b`");
  EXPECT_EQ(MarkdownTableCode("a\\\\|b"), "`a\\\\\\|b`");
  EXPECT_EQ(Cells("| " + MarkdownTableCode("a\\\\|b") + " |")[0], " `a\\\\|b` ");
}

}  // namespace
}  // namespace hardbase
