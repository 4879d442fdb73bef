// Small string helpers that more than one module needs: one home for each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace hardbase {

// `s` without leading, or leading and trailing, blanks (space, tab, CR, LF).
std::string_view TrimLeft(std::string_view s);
std::string_view Trim(std::string_view s);

// The words of `s`: its pieces between runs of blanks (space, tab, CR, LF), none empty.
std::vector<std::string_view> Words(std::string_view s);

// ASCII lower case of `c` or of every byte of `s`; other bytes unchanged (no locale).
char AsciiLower(char c);
std::string AsciiLower(std::string_view s);

// Whether `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Whether `s` is one or more ASCII digits.
bool IsDigits(std::string_view s);

// The optimal-string-alignment distance between `a` and `b` (Levenshtein plus adjacent
// transpositions), for "did you mean" suggestions; `max + 1` once it is known to exceed `max`.
size_t EditDistance(std::string_view a, std::string_view b, size_t max = SIZE_MAX);

// One line of a text and its 1-based number.
struct Line {
  std::string_view text;  // without its '\n' (and, unless kept, a '\r' before it)
  size_t number;
};

// What Lines passes over; line numbers count every line all the same.
struct LineOptions {
  bool strip_cr = true;     // drop a '\r' at the end of each line, so CRLF text reads as LF text
  bool skip_blank = false;  // lines of nothing but blanks (Trim(line) is empty)
  char comment = 0;         // lines whose first non-blank byte is this, e.g. '#'; 0: none
};

// The lines of `text`, for a range-for: `for (auto [line, number] : Lines(text))`. Split at '\n';
// a last line needs no '\n' ("a\nb" and "a\nb\n" are two lines, "" none). The one way parsers of
// line-based text walk it, numbering lines for their errors.
class Lines {
 public:
  class Iterator {
   public:
    using value_type = Line;
    using difference_type = std::ptrdiff_t;
    const Line& operator*() const { return line_; }
    const Line* operator->() const { return &line_; }
    Iterator& operator++() {
      Advance();
      return *this;
    }
    void operator++(int) { Advance(); }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    friend class Lines;
    Iterator(std::string_view text, LineOptions options) : rest_(text), options_(options) {
      Advance();
    }
    void Advance();

    std::string_view rest_;
    LineOptions options_;
    Line line_{{}, 0};
    bool done_ = false;
  };

  explicit Lines(std::string_view text, LineOptions options = {})
      : text_(text), options_(options) {}
  // Not over a temporary string: the lines would be views into it once it is gone.
  template <class S>
  requires std::is_same_v<S, std::string>
  explicit Lines(S&& text, LineOptions options = {}) = delete;
  Iterator begin() const { return Iterator(text_, options_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::string_view text_;
  LineOptions options_;
};

// The 1-based number of the line of `text` on which `part`, a view into `text`, starts (for
// error messages about a piece of a parsed document).
size_t LineNumberOf(std::string_view text, std::string_view part);

// `s` with every byte except RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~) and those in
// `keep` written %XX (upper-case hex): a URL's query value or path segment, or a purl component
// (which keeps ':').
std::string PercentEncode(std::string_view s, std::string_view keep = {});

// `s` with every occurrence of `from` (not empty) replaced by `to`, left to right.
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to);

// The length of the valid UTF-8 sequence at the start of `s` (not empty) and its code point, or 0
// when it does not start with one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
size_t DecodeUtf8(std::string_view s, char32_t* code_point);
// Whether all of `s` is valid UTF-8 (DecodeUtf8's rules), as JSON strings must be.
bool IsValidUtf8(std::string_view s);

// `s` as one word for a POSIX shell: unchanged when it holds only characters no shell treats
// specially, else single-quoted, for commands printed to be copied or run by `sh -c`.
std::string ShellQuote(std::string_view s);

// A table for people: each row on a line, its cells padded to their column's widest, two spaces
// apart; the first `left` columns aligned left (names), the others right (numbers).
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows, size_t left);

// "1 CVE", "3 CVEs": the count and the word that goes with it.
std::string Plural(int64_t n, std::string_view one, std::string_view many);

// A size for people: "12.3 MiB" (one decimal, binary megabytes), "+1.5 MiB" / "-0.2 MiB" with
// `sign` (a change in size).
std::string FormatMiB(int64_t bytes, bool sign = false);

// A file's permission bits as chmod takes them: "0755", "4755".
std::string FormatMode(uint32_t mode);

inline void Lines::Iterator::Advance() {
  while (!rest_.empty()) {
    size_t eol = rest_.find('\n');
    std::string_view line = rest_.substr(0, eol);
    rest_.remove_prefix(eol == std::string_view::npos ? rest_.size() : eol + 1);
    ++line_.number;
    if (options_.strip_cr && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (options_.skip_blank || options_.comment != 0) {
      std::string_view start = TrimLeft(line);
      if (options_.skip_blank && start.empty()) continue;
      if (options_.comment != 0 && !start.empty() && start.front() == options_.comment) continue;
    }
    line_.text = line;
    return;
  }
  done_ = true;
}

}  // namespace hardbase
