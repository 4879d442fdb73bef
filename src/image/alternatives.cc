#include "image/alternatives.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace hardbase::image {
namespace {

constexpr std::string_view kSpace = " \t\r";

std::optional<int64_t> ParsePriority(std::string_view s) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// What update-alternatives accepts as a name (it becomes a file name under /etc/alternatives).
bool IsAlternativeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(" \t\n/") == std::string_view::npos;
}

bool IsAbsolute(std::string_view path) { return !path.empty() && path[0] == '/'; }

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = line.find_first_not_of(kSpace);
  while (i != std::string_view::npos) {
    size_t end = line.find_first_of(kSpace, i);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(i, end - i));
    i = line.find_first_not_of(kSpace, end);
  }
  return words;
}

// A shell token: a word after quote removal, or a command boundary (newline, ';', '&', '|', '(',
// ')', a redirection).
struct Token {
  bool boundary = false;
  std::string text;
  bool literal = true;  // no parameter expansion or command substitution in the word
};

// Splits a shell script into words the way sh would before expansion: quotes, backslash escapes,
// line continuations and comments. Expansions are not performed, only noted; a `$(...)` simply ends
// the word and the command, which is all the caller needs.
std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> tokens;
  Token word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) tokens.push_back(std::move(word));
    word = Token{};
    in_word = false;
  };
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '\\') {
      if (i + 1 < s.size() && s[i + 1] != '\n') {
        word.text += s[i + 1];
        in_word = true;
      }
      i += 2;
    } else if (c == '\'') {
      size_t close = std::min(s.find('\'', i + 1), s.size());
      word.text += s.substr(i + 1, close - i - 1);
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      in_word = true;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '$' || s[i] == '`') word.literal = false;
        if (s[i] == '\\' && i + 1 < s.size() &&
            std::string_view("$`\"\\\n").find(s[i + 1]) != std::string_view::npos) {
          if (s[++i] == '\n') continue;
        }
        word.text += s[i];
      }
      ++i;
    } else if (c == '#' && !in_word) {
      i = std::min(s.find('\n', i), s.size());
    } else if (c == ' ' || c == '\t') {
      end_word();
      ++i;
    } else if (std::string_view("\n;&|()<>").find(c) != std::string_view::npos) {
      end_word();
      if (tokens.empty() || !tokens.back().boundary) {
        tokens.push_back(Token{.boundary = true, .text = {}, .literal = true});
      }
      ++i;
    } else {
      if (c == '$' || c == '`') word.literal = false;
      word.text += c;
      in_word = true;
      ++i;
    }
  }
  end_word();
  return tokens;
}

bool IsUpdateAlternatives(const Token& t) {
  constexpr std::string_view kName = "update-alternatives";
  return !t.boundary && t.literal &&
         (t.text == kName || (t.text.size() > kName.size() && t.text.ends_with(kName) &&
                              t.text[t.text.size() - kName.size() - 1] == '/'));
}

// Whether a command can start right after `t` (so the next word is a command name, not an
// argument).
bool StartsCommand(const Token& t) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "!", "if", "then", "else", "elif", "do", "while", "until", "{", "command"};
  return t.boundary || (t.literal && kKeywords.contains(t.text));
}

}  // namespace

Result<std::vector<Alternative>> ParseJinfo(std::string_view text) {
  std::vector<Alternative> out;
  std::optional<int64_t> priority;
  size_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++number;
    auto error = [&](std::string_view what) {
      return Fail(ErrorCode::kSpec, "jinfo line " + std::to_string(number) + " '" +
                                        std::string(line) + "': " + std::string(what));
    };
    std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    if (size_t eq = words[0].find('='); eq != std::string_view::npos) {  // key=value
      if (words[0].substr(0, eq) == "priority") {
        priority = words.size() == 1 ? ParsePriority(words[0].substr(eq + 1)) : std::nullopt;
        if (!priority) return error("priority is not an integer");
      }
      continue;
    }
    if (words.size() != 3) return error("expected 'key=value' or '<type> <name> <path>'");
    // update-java-alternatives also knows `plugin` lines (browser plugins, no command link).
    static const std::set<std::string, std::less<>> kTypes = {"hl", "jre", "jdk", "jdkhl"};
    if (!kTypes.contains(words[0])) continue;
    if (!IsAlternativeName(words[1])) return error("bad alternative name");
    if (!IsAbsolute(words[2])) return error("target is not an absolute path");
    out.push_back({.link = "/usr/bin/" + std::string(words[1]),
                   .name = std::string(words[1]),
                   .target = std::string(words[2]),
                   .priority = 0});
  }
  if (!out.empty() && !priority) return Fail(ErrorCode::kSpec, "jinfo: no priority= line");
  for (Alternative& a : out) a.priority = *priority;
  return out;
}

std::vector<Alternative> ParsePostinstAlternatives(std::string_view script) {
  static const std::set<std::string, std::less<>> kHarmlessOptions = {"--quiet", "--verbose",
                                                                      "--force", "--debug"};
  std::vector<Token> tokens = Lex(script);
  std::vector<Alternative> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsUpdateAlternatives(tokens[i]) || (i > 0 && !StartsCommand(tokens[i - 1]))) continue;
    size_t j = i + 1;
    while (j < tokens.size() && !tokens[j].boundary && kHarmlessOptions.contains(tokens[j].text)) {
      ++j;
    }
    if (j + 4 >= tokens.size() || tokens[j].boundary || tokens[j].text != "--install") continue;
    const Token* args = &tokens[j + 1];  // LINK NAME PATH PRIORITY
    if (!std::all_of(args, args + 4, [](const Token& t) { return !t.boundary && t.literal; })) {
      continue;
    }
    std::optional<int64_t> priority = ParsePriority(args[3].text);
    if (!IsAbsolute(args[0].text) || !IsAlternativeName(args[1].text) ||
        !IsAbsolute(args[2].text) || !priority) {
      continue;
    }
    out.push_back({.link = args[0].text,
                   .name = args[1].text,
                   .target = args[2].text,
                   .priority = *priority});
  }
  return out;
}

std::vector<Alternative> ChooseAlternatives(std::vector<Alternative> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Alternative& a, const Alternative& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.target > b.target;
  });
  auto same_name = [](const Alternative& a, const Alternative& b) { return a.name == b.name; };
  candidates.erase(std::unique(candidates.begin(), candidates.end(), same_name), candidates.end());
  return candidates;
}

}  // namespace hardbase::image
