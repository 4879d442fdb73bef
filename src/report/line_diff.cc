#include "report/line_diff.h"

#include <algorithm>
#include <cstdint>

#include "base/strings.h"

namespace hardbase::report {
namespace {

// The texts of `text`'s lines (base/strings.h's reader).
std::vector<std::string_view> LineTexts(std::string_view text) {
  std::vector<std::string_view> out;
  for (const Line& line : Lines(text)) out.push_back(line.text);
  return out;
}

// The whole edit script: every line of both texts, in order, as context, removed or added.
std::vector<DiffLine> EditScript(const std::vector<std::string_view>& a,
                                 const std::vector<std::string_view>& b, size_t max_cells) {
  std::vector<DiffLine> script;
  script.reserve(a.size() + b.size());
  size_t n = a.size(), m = b.size();
  size_t head = 0;
  while (head < n && head < m && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < n - head && tail < m - head && a[n - 1 - tail] == b[m - 1 - tail]) ++tail;
  auto context = [&](size_t i, size_t j) {
    script.push_back({DiffLine::Kind::kContext, a[i], i + 1, j + 1});
  };
  auto removed = [&](size_t i) { script.push_back({DiffLine::Kind::kRemoved, a[i], i + 1, 0}); };
  auto added = [&](size_t j) { script.push_back({DiffLine::Kind::kAdded, b[j], 0, j + 1}); };

  for (size_t i = 0; i < head; ++i) context(i, i);
  size_t p = n - head - tail, q = m - head - tail;  // the middle parts' lengths
  if (p > 0 && q > 0 && p + 1 <= max_cells / (q + 1)) {
    // lcs[i * (q + 1) + j]: length of a longest common subsequence of the middle parts' suffixes
    // from i and from j; walking it forward gives removals before additions, as diff -u does.
    std::vector<uint32_t> lcs((p + 1) * (q + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (q + 1) + j]; };
    for (size_t i = p; i-- > 0;) {
      for (size_t j = q; j-- > 0;) {
        at(i, j) = a[head + i] == b[head + j] ? at(i + 1, j + 1) + 1
                                              : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < p || j < q) {
      if (i < p && j < q && a[head + i] == b[head + j]) {
        context(head + i++, head + j++);
      } else if (j == q || (i < p && at(i + 1, j) >= at(i, j + 1))) {
        removed(head + i++);
      } else {
        added(head + j++);
      }
    }
  } else {
    for (size_t i = 0; i < p; ++i) removed(head + i);
    for (size_t j = 0; j < q; ++j) added(head + j);
  }
  for (size_t k = tail; k > 0; --k) context(n - k, m - k);
  return script;
}

}  // namespace

std::vector<DiffHunk> UnifiedLineDiff(std::string_view before, std::string_view after,
                                      size_t context, size_t max_cells) {
  std::vector<DiffLine> script = EditScript(LineTexts(before), LineTexts(after), max_cells);
  std::vector<DiffHunk> hunks;
  size_t before_seen = 0, after_seen = 0;  // lines of each text before script[k]
  size_t k = 0;
  while (k < script.size()) {
    if (script[k].kind == DiffLine::Kind::kContext) {
      ++before_seen, ++after_seen, ++k;
      continue;
    }
    // A change at k: the hunk starts up to `context` lines earlier and runs on while the next
    // change is no more than 2 * context unchanged lines away.
    size_t start = k - std::min(k, context);
    size_t end = k;  // one past the last change so far
    for (size_t next = k; next < script.size(); ++next) {
      if (script[next].kind == DiffLine::Kind::kContext) {
        if (next - end >= 2 * context) break;
        continue;
      }
      end = next + 1;
    }
    end = std::min(script.size(), end + context);
    DiffHunk hunk;
    size_t before_at = before_seen - (k - start), after_at = after_seen - (k - start);
    hunk.lines.assign(script.begin() + static_cast<std::ptrdiff_t>(start),
                      script.begin() + static_cast<std::ptrdiff_t>(end));
    for (const DiffLine& line : hunk.lines) {
      if (line.kind != DiffLine::Kind::kAdded) ++hunk.before_count;
      if (line.kind != DiffLine::Kind::kRemoved) ++hunk.after_count;
    }
    hunk.before_start = before_at + (hunk.before_count > 0 ? 1 : 0);
    hunk.after_start = after_at + (hunk.after_count > 0 ? 1 : 0);
    for (size_t i = k; i < end; ++i) {
      if (script[i].kind != DiffLine::Kind::kAdded) ++before_seen;
      if (script[i].kind != DiffLine::Kind::kRemoved) ++after_seen;
    }
    k = end;
    hunks.push_back(std::move(hunk));
  }
  return hunks;
}

}  // namespace hardbase::report
