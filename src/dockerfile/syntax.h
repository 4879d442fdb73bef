// The lexical rules of BuildKit's Dockerfile frontend (moby/buildkit frontend/dockerfile/parser
// and shell), shared by Parse, Print and the accessors of dockerfile.h. Internal to the module;
// exposed in a header so that its tests can pin each rule down on its own.
//
// BuildKit does not use one notion of "whitespace": it trims with Go's unicode.IsSpace (which
// includes U+0085, U+00A0, U+2000..U+200A, ...), splits keywords and plain word lists on ASCII
// [\t\v\f\r ], and reads flags byte by byte, taking each byte as a Latin-1 character (so the
// bytes 0x85 and 0xA0 separate flags). Each function below names the rule it follows, because a
// printer that gets one of them wrong writes text that reads back differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hardbase::dockerfile::syntax {

// Go's unicode.IsSpace.
bool IsGoSpace(char32_t c);
// The byte length of the UTF-8 encoded Go space at `pos` of `s`, 0 when there is none.
size_t GoSpaceAt(std::string_view s, size_t pos);
// strings.TrimSpace, strings.TrimLeftFunc(unicode.IsSpace).
std::string_view TrimGoSpace(std::string_view s);
std::string_view TrimLeftGoSpace(std::string_view s);
// unicode.IsSpace(rune(b)) of one byte: \t \n \v \f \r, space, 0x85 and 0xA0.
bool IsLatin1Space(unsigned char b);
// The characters of BuildKit's reWhitespace, [\t\v\f\r ].
bool IsBlank(char c);
// `s` split at runs of IsBlank characters (reWhitespace.Split(s, -1)); none of the pieces empty
// when `s` neither starts nor ends with one; no pieces for "".
std::vector<std::string_view> SplitBlank(std::string_view s);
// reWhitespace.Split(s, 2): the text before the first run of IsBlank characters, and the rest
// after it ("" when there is none).
std::pair<std::string_view, std::string_view> SplitBlankOnce(std::string_view s);
// `line` without trailing '\r' and '\n' characters.
std::string_view TrimNewline(std::string_view line);

// Whether `line` (already without its newline) continues on the next line: it ends with the escape
// character, then only spaces and tabs, and that escape character is not itself escaped (is not
// preceded by another). `*joined` is then the line without the escape character and what follows
// it; else `line` itself.
bool Continues(std::string_view line, char escape, std::string_view* joined);

// BuildKit's extractBuilderFlags: the leading "--flag" words of an instruction's arguments
// (quotes removed, the escape character escaping the next byte), and the rest after them. A word
// "--" ends the flags and is dropped.
struct Flags {
  std::vector<std::string> words;
  std::string_view rest;
};
Flags ExtractFlags(std::string_view args, char escape);

// BuildKit's parseWords (the line parser of ENV, LABEL, ARG): words split at Go spaces, '...' and
// "..." keep spaces and their quotes, the escape character and the character after it are kept
// as they are; an escape character ending the text is dropped. Invalid UTF-8 bytes become U+FFFD.
std::vector<std::string> LineWords(std::string_view text, char escape);

// The shell-like reading of words after the line parsers (BuildKit's ProcessWord(s) without
// variables, which stay as written): '...' literal, "..." where the escape character escapes only
// '"', '$' and itself, elsewhere the escape character escapes any character and is removed. An
// unterminated quote runs to the end. Unquote keeps the spaces between words; ShellWords splits at
// unquoted Go spaces ("" is an empty word).
std::string Unquote(std::string_view text, char escape);
std::vector<std::string> ShellWords(std::string_view text, char escape);

// A here-document marker found in an instruction's arguments.
struct HeredocMarker {
  std::string name;
  bool strip_tabs = false;  // "<<-"
  bool expand = true;       // no part of the name was quoted
};
// The marker `word` is ("<<EOF", "3<<-'EOF'", "<< EOF"), nullopt when it is none; an error message
// when its name is malformed ("<<'EOF"). BuildKit's parser.ParseHeredoc.
struct HeredocWord {
  std::optional<HeredocMarker> marker;
  std::string error;  // empty when fine
};
HeredocWord ParseHeredocWord(std::string_view word);
// The markers in `text`, in order, as BuildKit's heredocsFromLine finds them: `text` read as shell
// words (quotes and '\\' escapes kept, "$..." read as variables) and each word that is a marker.
// Text the shell lexer rejects (an unterminated quote, "${") holds no markers. An error message
// when a marker's name is malformed.
struct HeredocMarkers {
  std::vector<HeredocMarker> markers;
  std::string error;
};
HeredocMarkers FindHeredocs(std::string_view text);

// BuildKit's parseJSON: what the arguments are when they might be a JSON array.
enum class JsonArgs {
  kNotJson,     // not starting with '[' or not valid JSON: shell form
  kStrings,     // a JSON array of strings: exec form, its elements in *strings
  kNotStrings,  // a JSON array holding something else: an error in every instruction
};
JsonArgs ParseJsonArgs(std::string_view text, std::vector<std::string>* strings);

// Go's time.ParseDuration: nanoseconds, or nullopt with `*error` set.
std::optional<int64_t> ParseGoDuration(std::string_view s, std::string* error);

// Appends the UTF-8 encoding of `c` (U+FFFD for a value that is not a scalar value).
void AppendUtf8(std::string* out, char32_t c);

}  // namespace hardbase::dockerfile::syntax
