#include "report/line_diff.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/process.h"

namespace hardbase::report {
namespace {

using hardbase::testing::RunProcess;

// The hunks written as `diff -u` writes its body (without the two file header lines).
std::string Unified(const std::vector<DiffHunk>& hunks) {
  std::string out;
  auto range = [](size_t start, size_t count) {
    return count == 1 ? std::to_string(start) : std::to_string(start) + "," + std::to_string(count);
  };
  for (const DiffHunk& h : hunks) {
    out += "@@ -" + range(h.before_start, h.before_count) + " +" +
           range(h.after_start, h.after_count) + " @@\n";
    for (const DiffLine& line : h.lines) {
      out += line.kind == DiffLine::Kind::kAdded     ? '+'
             : line.kind == DiffLine::Kind::kRemoved ? '-'
                                                     : ' ';
      out += std::string(line.text) + "\n";
    }
  }
  return out;
}

// `before` with the hunks applied, checking each hunk's context and removed lines against it and
// its counts and line numbers against its lines.
std::string Apply(const std::string& before, const std::vector<DiffHunk>& hunks) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < before.size()) {
    size_t end = before.find('\n', start);
    if (end == std::string::npos) end = before.size();
    lines.push_back(before.substr(start, end - start));
    start = end + 1;
  }
  std::string out;
  size_t next = 0;  // 0-based index of the first line of `before` not yet copied
  for (const DiffHunk& h : hunks) {
    size_t first = h.before_count == 0 ? h.before_start : h.before_start - 1;
    EXPECT_GE(first, next);
    for (; next < first && next < lines.size(); ++next) out += lines[next] + "\n";
    size_t before_count = 0, after_count = 0;
    for (const DiffLine& line : h.lines) {
      if (line.kind != DiffLine::Kind::kAdded) {
        ++before_count;
        EXPECT_EQ(line.before_line, next + 1);
        EXPECT_LT(next, lines.size());
        if (next < lines.size()) {
          EXPECT_EQ(line.text, lines[next]);
        }
        ++next;
      }
      if (line.kind != DiffLine::Kind::kRemoved) {
        ++after_count;
        out += std::string(line.text) + "\n";
      }
    }
    EXPECT_EQ(before_count, h.before_count);
    EXPECT_EQ(after_count, h.after_count);
  }
  for (; next < lines.size(); ++next) out += lines[next] + "\n";
  return out;
}

TEST(LineDiffTest, SameTextsHaveNoHunk) {
  EXPECT_TRUE(UnifiedLineDiff("", "").empty());
  EXPECT_TRUE(UnifiedLineDiff("a\nb\n", "a\nb\n").empty());
  EXPECT_TRUE(UnifiedLineDiff("a\r\nb", "a\nb\n").empty());  // line ends are not lines' text
}

TEST(LineDiffTest, WritesHunksAsDiffDoes) {
  std::string before =
      "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
      "COPY app /app\nUSER root\nCMD [\"/app\"]\n";
  std::string after = "FROM hardbase/cc:12\nCOPY app /app\nUSER 65532\nCMD [\"/app\"]\n";
  EXPECT_EQ(Unified(UnifiedLineDiff(before, after)),
            "@@ -1,6 +1,4 @@\n"
            "-FROM debian:12\n"
            "-RUN apt-get update\n"
            "-RUN apt-get install -y curl\n"
            "+FROM hardbase/cc:12\n"
            " COPY app /app\n"
            "-USER root\n"
            "+USER 65532\n"
            " CMD [\"/app\"]\n");
  // Into and out of nothing: the empty side's start is 0.
  EXPECT_EQ(Unified(UnifiedLineDiff("", "a\nb\n")), "@@ -0,0 +1,2 @@\n+a\n+b\n");
  EXPECT_EQ(Unified(UnifiedLineDiff("a\n", "")), "@@ -1 +0,0 @@\n-a\n");
}

TEST(LineDiffTest, SplitsFarApartChangesIntoHunks) {
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += "line " + std::to_string(i) + "\n";
    after += (i == 2 || i == 18 ? "new " : "line ") + std::to_string(i) + "\n";
  }
  std::vector<DiffHunk> hunks = UnifiedLineDiff(before, after);
  ASSERT_EQ(hunks.size(), 2u);
  EXPECT_EQ(hunks[0].before_start, 1u);
  EXPECT_EQ(hunks[0].before_count, 5u);
  EXPECT_EQ(hunks[1].before_start, 15u);
  EXPECT_EQ(hunks[1].after_count, 6u);
  EXPECT_EQ(Apply(before, hunks), after);
}

// Random texts over a small alphabet of lines, against GNU diff as the oracle: the hunks turn one
// text into the other, and they change as few lines as `diff --minimal` does (both minimal diffs
// may still pick different lines among equal ones).
TEST(LineDiffTest, IsAMinimalDiffLikeGnuDiff) {
  auto dir = TempDir::Create("hardbase-line-diff-");
  ASSERT_TRUE(dir);
  std::mt19937 rng(7);
  auto text = [&](int max_lines) {
    std::string t;
    int n = static_cast<int>(rng() % static_cast<unsigned>(max_lines + 1));
    for (int i = 0; i < n; ++i) t += std::string(1, static_cast<char>('a' + rng() % 4)) + "\n";
    return t;
  };
  for (int round = 0; round < 40; ++round) {
    std::string before = text(30), after = text(30);
    std::vector<DiffHunk> hunks = UnifiedLineDiff(before, after);
    ASSERT_EQ(Apply(before, hunks), after) << before << "---\n" << after;
    ASSERT_TRUE(WriteFileAtomic(dir->path() + "/a", before));
    ASSERT_TRUE(WriteFileAtomic(dir->path() + "/b", after));
    auto diff = RunProcess({"diff", "--minimal", "-U3", dir->path() + "/a", dir->path() + "/b"});
    ASSERT_EQ(diff.exit_code, before == after ? 0 : 1) << diff.err;
    auto changed = [](const std::string& unified) {
      size_t n = 0;
      size_t start = 0;
      while (start < unified.size()) {
        size_t end = unified.find('\n', start);
        if (end == std::string::npos) end = unified.size();
        std::string_view line(unified.data() + start, end - start);
        if ((line.starts_with("+") && !line.starts_with("+++")) ||
            (line.starts_with("-") && !line.starts_with("---"))) {
          ++n;
        }
        start = end + 1;
      }
      return n;
    };
    EXPECT_EQ(changed(Unified(hunks)), changed(diff.out)) << before << "---\n" << after;
  }
}

TEST(LineDiffTest, FallsBackToRemoveThenAddBeyondTheBound) {
  std::string before = "same\na\nb\nc\nsame end\n", after = "same\nb\nx\nc\nsame end\n";
  std::vector<DiffHunk> minimal = UnifiedLineDiff(before, after, 3, 1 << 20);
  std::vector<DiffHunk> bounded = UnifiedLineDiff(before, after, 3, 4);
  EXPECT_EQ(Apply(before, minimal), after);
  EXPECT_EQ(Apply(before, bounded), after);
  // The common head and tail (c, same end) stay context; the middle is removed whole, then added
  // whole.
  EXPECT_EQ(Unified(bounded), "@@ -1,5 +1,5 @@\n same\n-a\n-b\n+b\n+x\n c\n same end\n");
  EXPECT_EQ(Unified(minimal), "@@ -1,5 +1,5 @@\n same\n-a\n b\n+x\n c\n same end\n");
}

TEST(LineDiffTest, LargeUnrelatedTextsStayCheap) {
  std::string before, after;
  for (int i = 0; i < 20000; ++i) {
    before += "a" + std::to_string(i) + "\n";
    after += "b" + std::to_string(i) + "\n";
  }
  std::vector<DiffHunk> hunks = UnifiedLineDiff(before, after);  // 4e8 cells: over the bound
  ASSERT_EQ(hunks.size(), 1u);
  EXPECT_EQ(hunks[0].lines.size(), 40000u);
  EXPECT_EQ(Apply(before, hunks), after);
}

}  // namespace
}  // namespace hardbase::report
