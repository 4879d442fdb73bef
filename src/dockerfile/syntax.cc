#include "dockerfile/syntax.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace hardbase::dockerfile::syntax {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The rune at `pos` of `s` and its length, as Go's utf8.DecodeRuneInString reads it: U+FFFD and
// one byte for a byte that does not start a valid sequence.
char32_t DecodeAt(std::string_view s, size_t pos, size_t* width) {
  char32_t c = 0;
  size_t n = DecodeUtf8(s.substr(pos), &c);
  if (n == 0) {
    *width = 1;
    return kReplacement;
  }
  *width = n;
  return c;
}

bool IsAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }

}  // namespace

void AppendUtf8(std::string* out, char32_t c) {
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = kReplacement;
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool IsGoSpace(char32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

size_t GoSpaceAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  size_t width = 0;
  char32_t c = DecodeAt(s, pos, &width);
  return IsGoSpace(c) ? width : 0;
}

std::string_view TrimLeftGoSpace(std::string_view s) {
  size_t pos = 0;
  while (size_t n = GoSpaceAt(s, pos)) pos += n;
  return s.substr(pos);
}

std::string_view TrimGoSpace(std::string_view s) {
  s = TrimLeftGoSpace(s);
  // The end of the last rune that is not a space, read forwards (a valid space sequence at the
  // end decodes the same either way).
  size_t end = 0;
  for (size_t pos = 0; pos < s.size();) {
    size_t width = 0;
    char32_t c = DecodeAt(s, pos, &width);
    pos += width;
    if (!IsGoSpace(c)) end = pos;
  }
  return s.substr(0, end);
}

bool IsLatin1Space(unsigned char b) {
  return b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r' || b == ' ' || b == 0x85 ||
         b == 0xA0;
}

bool IsBlank(char c) { return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' '; }

std::vector<std::string_view> SplitBlank(std::string_view s) {
  std::vector<std::string_view> pieces;
  if (s.empty()) return pieces;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    if (!IsBlank(s[i])) {
      ++i;
      continue;
    }
    pieces.push_back(s.substr(start, i - start));
    while (i < s.size() && IsBlank(s[i])) ++i;
    start = i;
  }
  pieces.push_back(s.substr(start));
  return pieces;
}

std::pair<std::string_view, std::string_view> SplitBlankOnce(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && !IsBlank(s[i])) ++i;
  std::string_view first = s.substr(0, i);
  while (i < s.size() && IsBlank(s[i])) ++i;
  return {first, s.substr(i)};
}

std::string_view TrimNewline(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

bool Continues(std::string_view line, char escape, std::string_view* joined) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end > 0 && line[end - 1] == escape && (end == 1 || line[end - 2] != escape)) {
    *joined = line.substr(0, end - 1);
    return true;
  }
  *joined = line;
  return false;
}

Flags ExtractFlags(std::string_view line, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  Flags out;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    const bool at_end = pos == line.size();
    char ch = at_end ? 0 : line[pos];
    if (phase == kSpaces) {
      if (at_end) break;
      if (IsLatin1Space(static_cast<unsigned char>(ch))) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
        out.rest = line.substr(pos);
        return out;
      }
      phase = kWord;
    }
    if (at_end) {
      if (word != "--" && (blank_ok || !word.empty())) out.words.push_back(word);
      break;
    }
    if (phase == kWord) {
      if (IsLatin1Space(static_cast<unsigned char>(ch))) {
        phase = kSpaces;
        if (word == "--") {
          out.rest = line.substr(pos);
          return out;
        }
        if (blank_ok || !word.empty()) out.words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
        continue;
      }
      if (ch == escape) {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      word.push_back(ch);
      continue;
    }
    // kQuote
    if (ch == quote) {
      phase = kWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == line.size()) {
        phase = kWord;
        continue;
      }
      ch = line[++pos];
    }
    word.push_back(ch);
  }
  out.rest = line.substr(line.size());
  return out;
}

std::vector<std::string> LineWords(std::string_view rest, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::vector<std::string> words;
  std::string word;
  char32_t quote = 0;
  bool blank_ok = false;
  char32_t ch = 0;
  size_t width = 0;
  for (size_t pos = 0; pos <= rest.size(); pos += width) {
    const bool at_end = pos == rest.size();
    if (!at_end) ch = DecodeAt(rest, pos, &width);
    if (phase == kSpaces) {
      if (at_end) break;
      if (IsGoSpace(ch)) continue;
      phase = kWord;
    }
    if (at_end) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == kWord) {
      if (IsGoSpace(ch)) {
        phase = kSpaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == static_cast<unsigned char>(escape)) {
        if (pos + width == rest.size()) continue;  // an escape character ending the text
        AppendUtf8(&word, ch);
        pos += width;
        ch = DecodeAt(rest, pos, &width);
      }
      AppendUtf8(&word, ch);
      continue;
    }
    // kQuote
    if (ch == quote) phase = kWord;
    if (ch == static_cast<unsigned char>(escape) && quote != '\'') {
      if (pos + width == rest.size()) {
        phase = kWord;
        continue;
      }
      pos += width;
      AppendUtf8(&word, ch);
      ch = DecodeAt(rest, pos, &width);
    }
    AppendUtf8(&word, ch);
  }
  return words;
}

namespace {

// The shared reading of ShellWords and Unquote.
std::vector<std::string> ReadShellWords(std::string_view s, char escape, bool split) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  auto append_rune = [&](size_t at) {
    size_t width = 0;
    DecodeAt(s, at, &width);
    word.append(s.substr(at, width));
    return width;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\'') {
      in_word = true;
      size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) end = s.size();
      word.append(s.substr(i + 1, end - i - 1));
      i = std::min(end + 1, s.size());
    } else if (c == '"') {
      in_word = true;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == escape && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '$' || s[i + 1] == escape)) {
          word.push_back(s[i + 1]);
          i += 2;
        } else if (s[i] == escape && i + 1 == s.size()) {
          ++i;
        } else {
          word.push_back(s[i++]);
        }
      }
      if (i < s.size()) ++i;  // the closing quote
    } else if (c == escape) {
      ++i;
      if (i < s.size()) {
        in_word = true;
        i += append_rune(i);
      }
    } else if (size_t n = split ? GoSpaceAt(s, i) : 0) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      i += n;
    } else {
      in_word = true;
      i += append_rune(i);
    }
  }
  if (in_word || !split) words.push_back(std::move(word));
  return words;
}

}  // namespace

std::string Unquote(std::string_view text, char escape) {
  return std::move(ReadShellWords(text, escape, /*split=*/false).front());
}

std::vector<std::string> ShellWords(std::string_view text, char escape) {
  return ReadShellWords(text, escape, /*split=*/true);
}

namespace {

// BuildKit's shell.Lex as heredocsFromLine and ParseHeredoc run it: no variables are set and
// unset ones are kept as written (SkipUnsetEnv), the escape character is always '\\'. It follows
// the Go code step by step, quirks included (a nested "${...}" resets the word being built), since
// what it yields decides which lines of a Dockerfile are here-document bodies. Nesting of "${"
// deeper than kMaxDepth is an error, as an unterminated one is.
class ShellLexer {
 public:
  ShellLexer(std::string_view text, bool raw_quotes, bool raw_escapes, bool skip_bom)
      : s_(text), raw_quotes_(raw_quotes), raw_escapes_(raw_escapes) {
    if (skip_bom && s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // text/scanner skips one
  }

  // ProcessWords: the words, or nullopt on a syntax error.
  std::optional<std::vector<std::string>> Words() {
    std::string result;
    std::vector<std::string> words;
    if (!ProcessStopOn(kEof, raw_escapes_, &result, &words)) return std::nullopt;
    return words;
  }

 private:
  static constexpr int32_t kEof = -1;
  static constexpr int kMaxDepth = 64;
  static constexpr char32_t kEscape = '\\';

  int32_t Peek() const {
    if (pos_ >= s_.size()) return kEof;
    size_t width = 0;
    return static_cast<int32_t>(DecodeAt(s_, pos_, &width));
  }
  int32_t Next() {
    if (pos_ >= s_.size()) return kEof;
    size_t width = 0;
    char32_t c = DecodeAt(s_, pos_, &width);
    pos_ += width;
    return static_cast<int32_t>(c);
  }
  static void Put(std::string* out, int32_t c) {
    AppendUtf8(out, c < 0 ? kReplacement : static_cast<char32_t>(c));
  }
  static bool IsSpace(int32_t c) { return c >= 0 && IsGoSpace(static_cast<char32_t>(c)); }

  // Go's wordsStruct over the lexer's one shared buffer.
  struct WordSplitter {
    std::string* buf = nullptr;
    std::vector<std::string> words;
    bool in_word = false;

    void AddChar(int32_t c) {
      if (IsSpace(c) && in_word) {
        if (!buf->empty()) {
          words.push_back(*buf);
          buf->clear();
          in_word = false;
        }
      } else if (!IsSpace(c)) {
        AddRawChar(c);
      }
    }
    void AddRawChar(int32_t c) {
      Put(buf, c);
      in_word = true;
    }
    void AddString(std::string_view str) {
      for (size_t i = 0; i < str.size();) {
        size_t width = 0;
        char32_t c = DecodeAt(str, i, &width);
        i += width;
        AddChar(static_cast<int32_t>(c));
      }
    }
    void AddRawString(std::string_view str) {
      buf->append(str);
      in_word = true;
    }
    std::vector<std::string> GetWords() {
      if (!buf->empty()) {
        words.push_back(*buf);
        buf->clear();
        in_word = false;
      }
      return std::move(words);
    }
  };

  bool ProcessStopOn(int32_t stop, bool raw_escapes, std::string* result,
                     std::vector<std::string>* words_out) {
    if (depth_ >= kMaxDepth) return false;
    struct Restore {
      ShellLexer* lexer;
      bool raw_escapes;
      ~Restore() {
        lexer->raw_escapes_ = raw_escapes;
        --lexer->depth_;
      }
    } restore{this, raw_escapes_};
    ++depth_;
    raw_escapes_ = raw_escapes;
    buffer_.clear();
    WordSplitter words;
    words.buf = &buffer_;
    while (Peek() != kEof) {
      int32_t ch = Peek();
      if (stop != kEof && ch == stop) {
        Next();
        *words_out = words.GetWords();
        return true;
      }
      std::string tmp;
      if (ch == '$') {
        if (!ProcessDollar(&tmp)) return false;
        result->append(tmp);
        words.AddString(tmp);
      } else if (ch == '<') {
        tmp = ProcessPossibleHeredoc();
        result->append(tmp);
        words.AddRawString(tmp);
      } else if (ch == '\'' || ch == '"') {
        if (!(ch == '\'' ? ProcessSingleQuote(&tmp) : ProcessDoubleQuote(&tmp))) return false;
        result->append(tmp);
        words.AddRawString(tmp);
      } else {
        ch = Next();
        if (ch == static_cast<int32_t>(kEscape)) {
          if (raw_escapes_) {
            words.AddRawChar(ch);
            Put(result, ch);
          }
          ch = Next();
          if (ch == kEof) break;
          words.AddRawChar(ch);
        } else {
          words.AddChar(ch);
        }
        Put(result, ch);
      }
    }
    if (stop != kEof) return false;  // unexpected end looking for `stop`
    *words_out = words.GetWords();
    return true;
  }

  bool ProcessSingleQuote(std::string* out) {
    int32_t ch = Next();
    if (raw_quotes_) Put(out, ch);
    for (;;) {
      ch = Next();
      if (ch == kEof) return false;
      if (ch == '\'') {
        if (raw_quotes_) Put(out, ch);
        return true;
      }
      Put(out, ch);
    }
  }

  bool ProcessDoubleQuote(std::string* out) {
    int32_t ch = Next();
    if (raw_quotes_) Put(out, ch);
    for (;;) {
      int32_t next = Peek();
      if (next == kEof) return false;
      if (next == '"') {
        ch = Next();
        if (raw_quotes_) Put(out, ch);
        return true;
      }
      if (next == '$') {
        std::string value;
        if (!ProcessDollar(&value)) return false;
        out->append(value);
        continue;
      }
      ch = Next();
      if (ch == static_cast<int32_t>(kEscape)) {
        if (raw_escapes_) Put(out, ch);
        int32_t after = Peek();
        if (after == kEof) continue;
        if (after == '"' || after == '$' || after == static_cast<int32_t>(kEscape)) ch = Next();
      }
      Put(out, ch);
    }
  }

  static bool IsSpecialParam(int32_t c) {
    return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
           c == '0';
  }
  // unicode.IsLetter, approximated beyond ASCII: any other character that is not a space or
  // U+FFFD counts as a letter.
  static bool IsLetter(int32_t c) {
    if (c < 0) return false;
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return c != static_cast<int32_t>(kReplacement) && !IsSpace(c);
  }

  std::string ProcessName() {
    std::string name;
    while (Peek() != kEof) {
      int32_t ch = Peek();
      if (name.empty() && IsAsciiDigit(static_cast<char32_t>(ch))) {
        while (Peek() != kEof && IsAsciiDigit(static_cast<char32_t>(Peek()))) Put(&name, Next());
        return name;
      }
      if (name.empty() && IsSpecialParam(ch)) {
        Put(&name, Next());
        return name;
      }
      if (!IsLetter(ch) && !IsAsciiDigit(static_cast<char32_t>(ch)) && ch != '_') break;
      Put(&name, Next());
    }
    return name;
  }

  bool ProcessDollar(std::string* out) {
    Next();  // '$'
    if (Peek() != '{') {
      std::string name = ProcessName();
      *out = "$" + name;  // "$" alone when no name follows
      return true;
    }
    Next();  // '{'
    int32_t next = Peek();
    if (next == kEof || next == '{' || next == '}' || next == ':') return false;
    std::string name = ProcessName();
    int32_t ch = Next();
    std::string chs;
    Put(&chs, ch);
    bool null_is_unset = false;
    switch (ch) {
      case '}':
        *out = "${" + name + "}";
        return true;
      case ':':
        null_is_unset = true;
        ch = Next();
        Put(&chs, ch);
        [[fallthrough]];
      case '+':
      case '-':
      case '?':
      case '#':
      case '%': {
        const bool raw = ch == '#' || ch == '%';
        if (null_is_unset && raw) return false;  // unsupported modifier
        std::string word;
        std::vector<std::string> ignored;
        if (!ProcessStopOn('}', raw, &word, &ignored)) return false;
        *out = "${" + name + chs + word + "}";
        return true;
      }
      case '/': {
        if (Peek() == '/') Next();  // replace all: written back as one '/'
        std::string pattern, replacement;
        std::vector<std::string> ignored;
        if (!ProcessStopOn('/', true, &pattern, &ignored)) return false;
        if (!ProcessStopOn('}', true, &replacement, &ignored)) return false;
        *out = "${" + name + "/" + pattern + "/" + replacement + "}";
        return true;
      }
      default:
        return false;  // unsupported modifier, or a missing '}'
    }
  }

  std::string ProcessPossibleHeredoc() {
    Next();
    if (Peek() != '<') return "<";
    Next();
    std::string result = "<<";
    while (Peek() == '\t' || Peek() == '\r' || Peek() == ' ') Put(&result, Next());
    return result;
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool raw_quotes_;
  bool raw_escapes_;
  std::string buffer_;  // sw.wordsBuffer, shared by nested ProcessStopOn calls as in Go
  int depth_ = 0;
};

size_t CountQuotes(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '\'' || c == '"';
  return n;
}

bool IsRegexSpace(char c) {  // Go's \s
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

}  // namespace

HeredocWord ParseHeredocWord(std::string_view word) {
  HeredocWord out;
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9') ++i;
  if (word.substr(i, 2) != "<<") return out;
  i += 2;
  bool chomp = false;
  if (i < word.size() && word[i] == '-') {
    chomp = true;
    ++i;
  }
  while (i < word.size() && IsRegexSpace(word[i])) ++i;
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) return out;

  auto words = ShellLexer(rest, /*raw_quotes=*/false, /*raw_escapes=*/false, true).Words();
  if (!words) {
    out.error = "malformed here-document name";
    return out;
  }
  if (words->size() != 1) return out;
  auto raw = ShellLexer(rest, /*raw_quotes=*/true, /*raw_escapes=*/false, true).Words();
  if (!raw) {
    out.error = "malformed here-document name";
    return out;
  }
  if (raw->size() != words->size()) {
    out.error = "inconsistent here-document name";
    return out;
  }
  HeredocMarker marker;
  marker.name = std::move(words->front());
  marker.strip_tabs = chomp;
  marker.expand = CountQuotes(marker.name) == CountQuotes(raw->front());
  out.marker = std::move(marker);
  return out;
}

HeredocMarkers FindHeredocs(std::string_view text) {
  HeredocMarkers out;
  if (text.find("<<") == std::string_view::npos) return out;
  auto words = ShellLexer(text, /*raw_quotes=*/true, /*raw_escapes=*/true, false).Words();
  if (!words) return out;
  for (const auto& word : *words) {
    HeredocWord w = ParseHeredocWord(word);
    if (!w.error.empty()) {
      out.markers.clear();
      out.error = std::move(w.error);
      return out;
    }
    if (w.marker) out.markers.push_back(std::move(*w.marker));
  }
  return out;
}

namespace {

// Reads a JSON document without building it: notes whether it is an array of strings and keeps
// those strings. Nesting costs a counter, not a stack.
class ArgsSax {
 public:
  explicit ArgsSax(std::vector<std::string>* strings) : strings_(strings) {}
  bool all_strings() const { return all_strings_; }

  bool null() { return Scalar(); }
  bool boolean(bool) { return Scalar(); }
  bool number_integer(nlohmann::json::number_integer_t) { return Scalar(); }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return Scalar(); }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return Scalar(); }
  bool string(std::string& value) {
    if (depth_ == 1) {
      strings_->push_back(std::move(value));
    } else if (depth_ == 0) {
      all_strings_ = false;
    }
    return true;
  }
  bool binary(nlohmann::json::binary_t&) { return Scalar(); }
  bool start_object(std::size_t) {
    if (depth_ <= 1) all_strings_ = false;
    ++depth_;
    return true;
  }
  bool key(std::string&) { return true; }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ >= 1) all_strings_ = false;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  bool Scalar() {
    if (depth_ <= 1) all_strings_ = false;
    return true;
  }
  std::vector<std::string>* strings_;
  size_t depth_ = 0;
  bool all_strings_ = true;
};

}  // namespace

JsonArgs ParseJsonArgs(std::string_view text, std::vector<std::string>* strings) {
  text = TrimLeftGoSpace(text);
  if (text.empty() || text.front() != '[') return JsonArgs::kNotJson;
  // Go's decoder reads each byte of invalid UTF-8 in a string as U+FFFD (and rejects it anywhere
  // else); nlohmann-json rejects it, so it gets Go's reading first.
  std::string valid;
  valid.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t width = 0;
    char32_t c = DecodeAt(text, i, &width);
    if (c == kReplacement && width == 1) {
      AppendUtf8(&valid, kReplacement);
    } else {
      valid.append(text.substr(i, width));
    }
    i += width;
  }
  std::vector<std::string> parsed;
  ArgsSax sax(&parsed);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(valid, &sax, nlohmann::json::input_format_t::json,
                                   /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) return JsonArgs::kNotJson;
  if (!sax.all_strings()) return JsonArgs::kNotStrings;
  *strings = std::move(parsed);
  return JsonArgs::kStrings;
}

std::optional<int64_t> ParseGoDuration(std::string_view s, std::string* error) {
  const std::string quoted = "\"" + std::string(s.substr(0, 64)) + "\"";
  auto invalid = [&](std::string_view why) -> std::optional<int64_t> {
    *error = "time: " + std::string(why) + " " + quoted;
    return std::nullopt;
  };
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid("invalid duration");
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid("invalid duration");
    // The integer part.
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (v > kLimit / 10) return invalid("invalid duration");
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kLimit) return invalid("invalid duration");
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // The fraction.
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
        if (overflow) continue;
        if (f > (std::numeric_limits<uint64_t>::max() >> 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kLimit) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid("invalid duration");
    // The unit.
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    if (u == 0) return invalid("missing unit in duration");
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1000 * 1000;
    } else if (unit_name == "s") {
      unit = 1000 * 1000 * 1000;
    } else if (unit_name == "m") {
      unit = uint64_t{60} * 1000 * 1000 * 1000;
    } else if (unit_name == "h") {
      unit = uint64_t{3600} * 1000 * 1000 * 1000;
    } else {
      *error = "time: unknown unit \"" + std::string(unit_name.substr(0, 16)) + "\" in duration " +
               quoted;
      return std::nullopt;
    }
    if (v > kLimit / unit) return invalid("invalid duration");
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kLimit) return invalid("invalid duration");
    }
    total += v;
    if (total > kLimit) return invalid("invalid duration");
  }
  if (negative)
    return total == kLimit ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(total);
  if (total > kLimit - 1) return invalid("invalid duration");
  return static_cast<int64_t>(total);
}

}  // namespace hardbase::dockerfile::syntax
