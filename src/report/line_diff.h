// A unified line diff of two texts, for showing what `migrate` changed in a Dockerfile.
//
// Written here rather than taken from Debian's libdtl-dev: a few dozen lines that must stay
// bounded on untrusted input (the texts come from a JSON document), against one more build
// dependency whose Myers implementation has no such bound. The diff is a longest common
// subsequence of the lines between the common head and tail; when that middle part would need
// more than `max_cells` table cells, it is shown as all removed then all added: still a correct
// diff, only not a minimal one.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace hardbase::report {

struct DiffLine {
  enum class Kind { kContext, kRemoved, kAdded };
  Kind kind;
  std::string_view text;  // a view into the text it came from, without its line end
  size_t before_line;     // 1-based line number in `before`; 0 for an added line
  size_t after_line;      // 1-based line number in `after`; 0 for a removed line
};

// One "@@ -before_start,before_count +after_start,after_count @@" block: changed lines with up
// to `context` unchanged lines around them. A start is the first line's number, or for an empty
// range the number of the line before it (as diff -u writes them).
struct DiffHunk {
  size_t before_start = 0;
  size_t before_count = 0;
  size_t after_start = 0;
  size_t after_count = 0;
  std::vector<DiffLine> lines;
};

// 16 MiB of table: a minimal diff of up to ~2000 changed lines on each side, many times the size
// of any real Dockerfile.
inline constexpr size_t kMaxLineDiffCells = size_t{4} << 20;

// The hunks turning `before` into `after` (none when the texts have the same lines). Lines are
// split at '\n'; a '\r' before it is not part of the line. The views point into the arguments.
std::vector<DiffHunk> UnifiedLineDiff(std::string_view before, std::string_view after,
                                      size_t context = 3, size_t max_cells = kMaxLineDiffCells);

}  // namespace hardbase::report
