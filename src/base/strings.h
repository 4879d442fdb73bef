// Small string helpers that more than one module needs: one home for each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hardbase {

// `s` without leading, or leading and trailing, blanks (space, tab, CR, LF).
std::string_view TrimLeft(std::string_view s);
std::string_view Trim(std::string_view s);

// ASCII lower case of `c` or of every byte of `s`; other bytes unchanged (no locale).
char AsciiLower(char c);
std::string AsciiLower(std::string_view s);

// Whether `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The optimal-string-alignment distance between `a` and `b` (Levenshtein plus adjacent
// transpositions), for "did you mean" suggestions; `max + 1` once it is known to exceed `max`.
size_t EditDistance(std::string_view a, std::string_view b, size_t max = SIZE_MAX);

// `s` with every occurrence of `from` (not empty) replaced by `to`, left to right.
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to);

// The length of the valid UTF-8 sequence at the start of `s` (not empty) and its code point, or 0
// when it does not start with one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
size_t DecodeUtf8(std::string_view s, char32_t* code_point);

// `s` as one word for a POSIX shell: unchanged when it holds only characters no shell treats
// specially, else single-quoted, for commands printed to be copied or run by `sh -c`.
std::string ShellQuote(std::string_view s);

}  // namespace hardbase
