#include "base/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hardbase {
namespace {

constexpr std::string_view kBlanks = " \t\r\n";

}  // namespace

std::string_view TrimLeft(std::string_view s) {
  size_t start = s.find_first_not_of(kBlanks);
  return start == std::string_view::npos ? std::string_view() : s.substr(start);
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  return s.substr(0, s.find_last_not_of(kBlanks) + 1);
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  for (size_t start = s.find_first_not_of(kBlanks); start != std::string_view::npos;) {
    size_t end = std::min(s.find_first_of(kBlanks, start), s.size());
    words.push_back(s.substr(start, end - start));
    start = s.find_first_not_of(kBlanks, end);
  }
  return words;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Three rows of the dynamic programme suffice (the transposition looks two rows back); a row
// whose minimum exceeds `max` ends it, since later rows can only grow.
size_t EditDistance(std::string_view a, std::string_view b, size_t max) {
  const size_t over = max == SIZE_MAX ? max : max + 1;
  size_t la = a.size(), lb = b.size();
  if ((la > lb ? la - lb : lb - la) > max) return over;
  std::vector<size_t> prev2(lb + 1), prev(lb + 1), cur(lb + 1);
  for (size_t j = 0; j <= lb; ++j) prev[j] = j;
  for (size_t i = 1; i <= la; ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= lb; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t v = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        v = std::min(v, prev2[j - 2] + 1);
      }
      cur[j] = v;
      row_min = std::min(row_min, v);
    }
    if (row_min > max) return over;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[lb], over);
}

size_t LineNumberOf(std::string_view text, std::string_view part) {
  auto start = reinterpret_cast<uintptr_t>(text.data());
  auto at = reinterpret_cast<uintptr_t>(part.data());
  size_t offset = at < start ? 0 : std::min<size_t>(at - start, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

std::string PercentEncode(std::string_view s, std::string_view keep) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

size_t DecodeUtf8(std::string_view s, char32_t* code_point) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t lead = byte(0);
  size_t length;
  char32_t min;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, *code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, *code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, *code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    *code_point = (*code_point << 6) | (byte(i) & 0x3f);
  }
  if (*code_point < min || *code_point > 0x10ffff) return 0;
  if (*code_point >= 0xd800 && *code_point <= 0xdfff) return 0;
  return length;
}

std::string ShellQuote(std::string_view s) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+:=@%,-";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string_view::npos) return std::string(s);
  return "'" + ReplaceAll(std::string(s), "'", R"('\'')") + "'";
}

bool IsValidUtf8(std::string_view s) {
  char32_t c;
  while (!s.empty()) {
    size_t n = DecodeUtf8(s, &c);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows, size_t left) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out += c < left ? fmt::format("{:<{}}", row[c], width[c])
                      : fmt::format("{:>{}}", row[c], width[c]);
      if (c + 1 < row.size()) out += "  ";
    }
    out += '\n';
  }
  return out;
}

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string FormatMiB(int64_t bytes, bool sign) {
  double mib = static_cast<double>(bytes) / 1048576.0;
  return sign ? fmt::format("{:+.1f} MiB", mib) : fmt::format("{:.1f} MiB", mib);
}

std::string FormatMode(uint32_t mode) { return fmt::format("{:04o}", mode & 07777); }

}  // namespace hardbase
