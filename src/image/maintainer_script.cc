#include "image/maintainer_script.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "base/strings.h"
#include "deb/version.h"
#include "image/setup.h"

namespace hardbase::image {
namespace {

// Bounds that keep a hostile script cheap; no real maintainer script comes near them.
constexpr size_t kMaxNesting = 64;       // compound commands inside each other, while parsing
constexpr size_t kMaxSteps = 5000;       // simple commands evaluated (loops unrolled, calls)
constexpr size_t kMaxCallDepth = 16;     // shell function calls inside each other
constexpr size_t kMaxNestedScripts = 2;  // `sh -c` scripts inside each other
constexpr size_t kMaxNotApplied = 100;

// ----------------------------------------------------------------------------------------------
// Lexer: the script as shell tokens (words, operators, newlines), here-document bodies set aside.

struct Part {
  enum class Kind { kText, kParam, kOpaque };
  Kind kind = Kind::kText;
  std::string text;  // kText: the characters; kParam: the parameter's name; kOpaque: as written
  bool quoted = false;
};

struct Word {
  std::vector<Part> parts;
  std::string raw;  // as written

  // One unquoted text part: how reserved words and assignment names are written.
  bool Plain() const {
    return parts.size() == 1 && parts[0].kind == Part::Kind::kText && !parts[0].quoted;
  }
  bool Is(std::string_view keyword) const { return Plain() && parts[0].text == keyword; }
};

struct Token {
  enum class Kind { kWord, kOperator, kNewline };
  Kind kind = Kind::kWord;
  Word word;
  std::string op;
  size_t begin = 0, end = 0;  // offsets in the script
  // A `<<` operator's here-document: its body, and whether it is expanded (unquoted delimiter).
  std::string heredoc;
  bool heredoc_expanded = false;
};

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsName(std::string_view s) {
  return !s.empty() && IsNameStart(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // Tokenizes up to the end or the first error (error() then says what, at offset error_at()).
  std::vector<Token> Run() {
    std::vector<Token> out;
    while (error_.empty()) {
      SkipBlanks();
      if (pos_ >= s_.size()) break;
      char c = s_[pos_];
      if (c == '#') {
        pos_ = std::min(s_.find('\n', pos_), s_.size());
        continue;
      }
      Token t;
      t.begin = pos_;
      if (c == '\n') {
        t.kind = Token::Kind::kNewline;
        t.end = ++pos_;
        out.push_back(std::move(t));
        ReadHeredocs(out);
        continue;
      }
      if (std::string_view op = Operator(); !op.empty()) {
        t.kind = Token::Kind::kOperator;
        t.op = std::string(op);
        pos_ += op.size();
        t.end = pos_;
        if (op == "<<" || op == "<<-") pending_.push_back({out.size(), op == "<<-"});
        out.push_back(std::move(t));
        continue;
      }
      if (!LexWord(t.word)) break;
      t.end = pos_;
      t.word.raw = std::string(s_.substr(t.begin, t.end - t.begin));
      // "2>" / "2>&1": digits right before a redirection are its file descriptor.
      if (t.word.Plain() && IsDigits(t.word.parts[0].text) && pos_ < s_.size() &&
          (s_[pos_] == '<' || s_[pos_] == '>')) {
        continue;  // the operator follows; the descriptor does not matter here
      }
      // The word after `<<` is a here-document's delimiter.
      if (!out.empty() && out.back().kind == Token::Kind::kOperator &&
          (out.back().op == "<<" || out.back().op == "<<-") && !pending_.empty() &&
          pending_.back().token == out.size() - 1 && pending_.back().delimiter.empty()) {
        std::string delimiter;
        bool quoted = false;
        for (const Part& p : t.word.parts) {
          delimiter += p.kind == Part::Kind::kParam ? "$" + p.text : p.text;
          quoted = quoted || p.quoted;
        }
        pending_.back().delimiter = delimiter;
        pending_.back().set = true;
        out[pending_.back().token].heredoc_expanded = !quoted;
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  const std::string& error() const { return error_; }
  size_t error_at() const { return error_at_; }

 private:
  struct PendingHeredoc {
    size_t token;  // index of the `<<` operator
    bool strip_tabs;
    std::string delimiter = {};
    bool set = false;
  };

  void Fail(std::string what, size_t at) {
    if (error_.empty()) {
      error_ = std::move(what);
      error_at_ = at;
    }
  }

  void SkipBlanks() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
        pos_ += 2;  // a line continuation between words
      } else {
        break;
      }
    }
  }

  std::string_view Operator() const {
    static constexpr std::array<std::string_view, 23> kOperators = {
        ";;&", "<<-", "<<<", "&>>", "&&", "||", ";;", ";&", "|&", "&>", "<<", ">>",
        "<&",  ">&",  "<>",  ">|",  "<",  ">",  "&",  "|",  ";",  "(",  ")"};
    std::string_view rest = s_.substr(pos_);
    for (std::string_view op : kOperators) {
      if (rest.starts_with(op)) return op;
    }
    return {};
  }

  static void Append(Word& w, Part::Kind kind, std::string_view text, bool quoted) {
    if (kind == Part::Kind::kText && !w.parts.empty() && w.parts.back().kind == kind &&
        w.parts.back().quoted == quoted) {
      w.parts.back().text += text;
      return;
    }
    w.parts.push_back(Part{kind, std::string(text), quoted});
  }

  // Skips a quoted string starting at s_[i] (a ' or "), returning the offset after it, or npos.
  size_t SkipQuoted(size_t i) const {
    char q = s_[i];
    for (++i; i < s_.size(); ++i) {
      if (q == '"' && s_[i] == '\\') {
        ++i;
      } else if (s_[i] == q) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }

  // The offset after the `close` that balances the `open` before `i`, skipping quotes, escapes
  // and backquotes; npos when there is none.
  size_t SkipBalanced(size_t i, char open, char close) const {
    int depth = 1;
    while (i < s_.size()) {
      char c = s_[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '\'' || c == '"') {
        i = SkipQuoted(i);
        if (i == std::string_view::npos) return i;
      } else if (c == '`') {
        size_t close_tick = SkipBackquote(i);
        if (close_tick == std::string_view::npos) return close_tick;
        i = close_tick;
      } else {
        if (c == open) ++depth;
        if (c == close && --depth == 0) return i + 1;
        ++i;
      }
    }
    return std::string_view::npos;
  }

  size_t SkipBackquote(size_t i) const {
    for (++i; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == '`') {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }

  // A `$` expansion at pos_: a parameter ($NAME, ${NAME}, $1, $@, ...) or something opaque
  // (${NAME:-x}, $(...), $((...))). A `$` that starts none of them is a literal character.
  bool LexDollar(Word& w, bool quoted) {
    size_t start = pos_;
    char next = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
    if (next == '{') {
      size_t end = SkipBalanced(pos_ + 2, '{', '}');
      if (end == std::string_view::npos) {
        Fail("unterminated ${", start);
        return false;
      }
      std::string_view inner = s_.substr(pos_ + 2, end - pos_ - 3);
      bool simple = IsName(inner) || IsDigits(inner) ||
                    (inner.size() == 1 &&
                     std::string_view("@*#?$!-").find(inner[0]) != std::string_view::npos);
      Append(w, simple ? Part::Kind::kParam : Part::Kind::kOpaque,
             simple ? inner : s_.substr(start, end - start), quoted);
      pos_ = end;
      return true;
    }
    if (next == '(') {
      size_t end = SkipBalanced(pos_ + 2, '(', ')');
      if (end == std::string_view::npos) {
        Fail("unterminated $(", start);
        return false;
      }
      Append(w, Part::Kind::kOpaque, s_.substr(start, end - start), quoted);
      pos_ = end;
      return true;
    }
    if (IsNameStart(next)) {
      size_t end = pos_ + 1;
      while (end < s_.size() && IsNameChar(s_[end])) ++end;
      Append(w, Part::Kind::kParam, s_.substr(pos_ + 1, end - pos_ - 1), quoted);
      pos_ = end;
      return true;
    }
    if ((next >= '0' && next <= '9') ||
        (next != '\0' && std::string_view("@*#?$!-").find(next) != std::string_view::npos)) {
      Append(w, Part::Kind::kParam, s_.substr(pos_ + 1, 1), quoted);
      pos_ += 2;
      return true;
    }
    Append(w, Part::Kind::kText, "$", quoted);
    ++pos_;
    return true;
  }

  bool LexWord(Word& w) {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (std::string_view(" \t\r\n;&|()<>").find(c) != std::string_view::npos) break;
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) {
          Append(w, Part::Kind::kText, "\\", false);
          ++pos_;
        } else if (s_[pos_ + 1] == '\n') {
          pos_ += 2;
        } else {
          Append(w, Part::Kind::kText, s_.substr(pos_ + 1, 1), true);
          pos_ += 2;
        }
      } else if (c == '\'') {
        size_t close = s_.find('\'', pos_ + 1);
        if (close == std::string_view::npos) {
          Fail("unterminated '", pos_);
          return false;
        }
        Append(w, Part::Kind::kText, s_.substr(pos_ + 1, close - pos_ - 1), true);
        pos_ = close + 1;
      } else if (c == '"') {
        size_t start = pos_++;
        size_t parts_before = w.parts.size();
        while (true) {
          if (pos_ >= s_.size()) {
            Fail("unterminated \"", start);
            return false;
          }
          char d = s_[pos_];
          if (d == '"') {
            ++pos_;
            // "" is a word of its own (an empty one).
            if (w.parts.size() == parts_before) Append(w, Part::Kind::kText, "", true);
            break;
          }
          if (d == '\\' && pos_ + 1 < s_.size() &&
              std::string_view("$`\"\\\n").find(s_[pos_ + 1]) != std::string_view::npos) {
            if (s_[pos_ + 1] != '\n') Append(w, Part::Kind::kText, s_.substr(pos_ + 1, 1), true);
            pos_ += 2;
          } else if (d == '$') {
            if (!LexDollar(w, true)) return false;
          } else if (d == '`') {
            size_t end = SkipBackquote(pos_);
            if (end == std::string_view::npos) {
              Fail("unterminated `", pos_);
              return false;
            }
            Append(w, Part::Kind::kOpaque, s_.substr(pos_, end - pos_), true);
            pos_ = end;
          } else {
            Append(w, Part::Kind::kText, s_.substr(pos_, 1), true);
            ++pos_;
          }
        }
      } else if (c == '$') {
        if (!LexDollar(w, false)) return false;
      } else if (c == '`') {
        size_t end = SkipBackquote(pos_);
        if (end == std::string_view::npos) {
          Fail("unterminated `", pos_);
          return false;
        }
        Append(w, Part::Kind::kOpaque, s_.substr(pos_, end - pos_), false);
        pos_ = end;
      } else {
        Append(w, Part::Kind::kText, s_.substr(pos_, 1), false);
        ++pos_;
      }
    }
    return true;
  }

  // After a newline: the bodies of the here-documents started on the line just ended.
  void ReadHeredocs(std::vector<Token>& out) {
    for (const PendingHeredoc& h : pending_) {
      if (!h.set) continue;  // `<<` without a word: the parser reports it
      std::string body;
      while (pos_ < s_.size()) {
        size_t eol = std::min(s_.find('\n', pos_), s_.size());
        std::string_view line = s_.substr(pos_, eol - pos_);
        pos_ = std::min(eol + 1, s_.size());
        if (h.strip_tabs) line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line == h.delimiter) break;
        body += line;
        body += '\n';
      }
      out[h.token].heredoc = std::move(body);
    }
    pending_.clear();
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::vector<PendingHeredoc> pending_;
  std::string error_;
  size_t error_at_ = 0;
};

// ----------------------------------------------------------------------------------------------
// Parser: tokens into a tree of commands.

struct Redirect {
  std::string op;
  Word target;
  std::string heredoc;  // `<<`: the body
  bool heredoc_expanded = false;
};

struct Command {
  std::vector<Word> assignments;  // NAME=value words before the command name
  std::vector<Word> words;
  std::vector<Redirect> redirects;
  size_t begin = 0, end = 0;  // offsets in the script
};

struct Node {
  enum class Kind { kCommand, kSequence, kPipeline, kAndOr, kIf, kLoop, kFor, kCase, kFunction };
  Kind kind = Kind::kSequence;
  Command command;                          // kCommand
  std::vector<Node> children;               // see Parser
  std::vector<std::string> ops;             // kAndOr: "&&" or "||" between children
  bool negated = false;                     // kPipeline: `! a | b`
  bool has_else = false;                    // kIf
  bool until = false;                       // kLoop
  std::string name;                         // kFor: the variable; kFunction: the function
  std::vector<Word> words;                  // kFor: the list; kCase: the subject
  bool has_in = false;                      // kFor
  std::vector<std::vector<Word>> patterns;  // kCase: per branch
  std::vector<Redirect> redirects;          // compound commands: their redirections
};

bool IsRedirectOperator(std::string_view op) {
  static const std::set<std::string_view> kOps = {"<",  ">",  ">>", "<<", "<<-", "<<<",
                                                  "<&", ">&", "<>", ">|", "&>",  "&>>"};
  return kOps.contains(op);
}

// Grammar (POSIX sh, plus `function NAME` and `[[ ... ]]`):
//   kSequence: and-or lists in order; kAndOr: pipelines joined by && / ||; kPipeline: commands
//   joined by |; kIf: children cond1, body1, cond2, body2, ..., [else body]; kLoop: cond, body;
//   kFor: body; kCase: one body per branch; kFunction: the body. Subshells and { } groups are
//   kSequences.
class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  std::optional<Node> Run() {
    Node root = ParseList({});
    if (!failed_ && i_ < t_.size()) Fail("unexpected '" + Text(t_[i_]) + "'");
    if (failed_) return std::nullopt;
    return root;
  }
  size_t error_at() const { return error_at_; }
  const std::string& error() const { return error_; }

 private:
  static std::string Text(const Token& t) {
    if (t.kind == Token::Kind::kNewline) return "newline";
    return t.kind == Token::Kind::kWord ? t.word.raw : t.op;
  }
  void Fail(std::string what) {
    if (failed_) return;
    failed_ = true;
    error_ = std::move(what);
    error_at_ = i_ < t_.size() ? t_[i_].begin : (t_.empty() ? 0 : t_.back().end);
  }
  const Token* Peek(size_t ahead = 0) const {
    return i_ + ahead < t_.size() ? &t_[i_ + ahead] : nullptr;
  }
  bool AtWord(std::string_view keyword, size_t ahead = 0) const {
    const Token* t = Peek(ahead);
    return t && t->kind == Token::Kind::kWord && t->word.Is(keyword);
  }
  bool AtOp(std::string_view op, size_t ahead = 0) const {
    const Token* t = Peek(ahead);
    return t && t->kind == Token::Kind::kOperator && t->op == op;
  }
  void SkipNewlines() {
    while (Peek() && Peek()->kind == Token::Kind::kNewline) ++i_;
  }
  void Expect(std::string_view keyword) {
    if (failed_) return;
    SkipNewlines();
    if (!AtWord(keyword)) return Fail("expected '" + std::string(keyword) + "'");
    ++i_;
  }

  Node ParseList(std::initializer_list<std::string_view> end_words) {
    Node seq;
    seq.kind = Node::Kind::kSequence;
    while (!failed_) {
      SkipNewlines();
      const Token* t = Peek();
      if (!t) break;
      if (t->kind == Token::Kind::kWord &&
          std::any_of(end_words.begin(), end_words.end(),
                      [&](std::string_view w) { return t->word.Is(w); })) {
        break;
      }
      if (t->kind == Token::Kind::kOperator &&
          (t->op == ")" || t->op == ";;" || t->op == ";&" || t->op == ";;&")) {
        break;
      }
      if (AtOp(";") || AtOp("&")) {  // an empty command: sh refuses it, nothing to read here
        ++i_;
        continue;
      }
      seq.children.push_back(ParseAndOr());
      if (AtOp(";") || AtOp("&")) ++i_;
    }
    return seq;
  }

  Node ParseAndOr() {
    Node first = ParsePipeline();
    if (!AtOp("&&") && !AtOp("||")) return first;
    Node list;
    list.kind = Node::Kind::kAndOr;
    list.children.push_back(std::move(first));
    while (!failed_ && (AtOp("&&") || AtOp("||"))) {
      list.ops.push_back(Peek()->op);
      ++i_;
      SkipNewlines();
      list.children.push_back(ParsePipeline());
    }
    return list;
  }

  Node ParsePipeline() {
    bool negated = false;
    if (AtWord("!")) {
      negated = true;
      ++i_;
    }
    Node first = ParseCommand();
    if (!negated && !AtOp("|") && !AtOp("|&")) return first;
    Node pipe;
    pipe.kind = Node::Kind::kPipeline;
    pipe.negated = negated;
    pipe.children.push_back(std::move(first));
    while (!failed_ && (AtOp("|") || AtOp("|&"))) {
      ++i_;
      SkipNewlines();
      pipe.children.push_back(ParseCommand());
    }
    return pipe;
  }

  Node ParseCommand() {
    if (++depth_ > kMaxNesting) {
      Fail("commands nested too deeply");
      return {};
    }
    Node node = ParseCommandInner();
    --depth_;
    return node;
  }

  Node ParseCommandInner() {
    const Token* t = Peek();
    if (!t) {
      Fail("unexpected end of the script");
      return {};
    }
    Node node;
    if (t->kind == Token::Kind::kWord) {
      if (AtWord("if")) {
        node = ParseIf();
      } else if (AtWord("while") || AtWord("until")) {
        node = ParseLoop();
      } else if (AtWord("for")) {
        node = ParseFor();
      } else if (AtWord("case")) {
        node = ParseCase();
      } else if (AtWord("{")) {
        ++i_;
        node = ParseList({"}"});
        Expect("}");
      } else if (AtWord("function") && Peek(1) && Peek(1)->kind == Token::Kind::kWord) {
        i_ += 2;
        node.kind = Node::Kind::kFunction;
        node.name = t_[i_ - 1].word.raw;
        if (AtOp("(") && AtOp(")", 1)) i_ += 2;
        SkipNewlines();
        node.children.push_back(ParseCommand());
        return node;
      } else if (t->word.Plain() && AtOp("(", 1) && AtOp(")", 2)) {
        node.kind = Node::Kind::kFunction;
        node.name = t->word.parts[0].text;
        i_ += 3;
        SkipNewlines();
        node.children.push_back(ParseCommand());
        return node;
      } else {
        return ParseSimple();
      }
    } else if (AtOp("(")) {
      ++i_;
      node = ParseList({});
      if (!failed_ && !AtOp(")")) Fail("expected ')'");
      if (!failed_) ++i_;
    } else {
      return ParseSimple();
    }
    // Redirections of a compound command: `while read l; do ...; done < file`, `( ... ) << DATA`.
    while (!failed_ && Peek() && Peek()->kind == Token::Kind::kOperator &&
           IsRedirectOperator(Peek()->op)) {
      node.redirects.push_back(ParseRedirect());
    }
    return node;
  }

  Redirect ParseRedirect() {
    Redirect r;
    r.op = Peek()->op;
    r.heredoc = Peek()->heredoc;
    r.heredoc_expanded = Peek()->heredoc_expanded;
    ++i_;
    if (!Peek() || Peek()->kind != Token::Kind::kWord) {
      Fail("expected a word after '" + r.op + "'");
      return r;
    }
    r.target = Peek()->word;
    ++i_;
    return r;
  }

  static bool IsAssignment(const Word& w) {
    if (w.parts.empty() || w.parts[0].kind != Part::Kind::kText || w.parts[0].quoted) return false;
    size_t eq = w.parts[0].text.find('=');
    return eq != std::string::npos && IsName(std::string_view(w.parts[0].text).substr(0, eq));
  }

  Node ParseSimple() {
    Node node;
    node.kind = Node::Kind::kCommand;
    Command& c = node.command;
    c.begin = Peek()->begin;
    bool test_brackets = false;  // inside [[ ... ]], where && || < > are words
    while (!failed_) {
      const Token* t = Peek();
      if (!t || t->kind == Token::Kind::kNewline) break;
      if (t->kind == Token::Kind::kWord) {
        if (c.words.empty() && IsAssignment(t->word)) {
          c.assignments.push_back(t->word);
        } else {
          if (c.words.empty() && t->word.Is("[[")) test_brackets = true;
          if (test_brackets && t->word.Is("]]")) test_brackets = false;
          c.words.push_back(t->word);
        }
        c.end = t->end;
        ++i_;
      } else if (test_brackets && t->op != ";") {
        Word w;
        w.parts.push_back(Part{Part::Kind::kText, t->op, true});
        w.raw = t->op;
        c.words.push_back(std::move(w));
        c.end = t->end;
        ++i_;
      } else if (IsRedirectOperator(t->op)) {
        c.redirects.push_back(ParseRedirect());
        c.end = t_[i_ - 1].end;
      } else {
        break;
      }
    }
    if (!failed_ && c.words.empty() && c.assignments.empty() && c.redirects.empty()) {
      Fail("unexpected '" + Text(*Peek()) + "'");
    }
    return node;
  }

  Node ParseIf() {
    Node node;
    node.kind = Node::Kind::kIf;
    ++i_;  // if
    node.children.push_back(ParseList({"then"}));
    Expect("then");
    node.children.push_back(ParseList({"elif", "else", "fi"}));
    while (!failed_ && AtWord("elif")) {
      ++i_;
      node.children.push_back(ParseList({"then"}));
      Expect("then");
      node.children.push_back(ParseList({"elif", "else", "fi"}));
    }
    if (!failed_ && AtWord("else")) {
      ++i_;
      node.has_else = true;
      node.children.push_back(ParseList({"fi"}));
    }
    Expect("fi");
    return node;
  }

  Node ParseLoop() {
    Node node;
    node.kind = Node::Kind::kLoop;
    node.until = AtWord("until");
    ++i_;
    node.children.push_back(ParseList({"do"}));
    Expect("do");
    node.children.push_back(ParseList({"done"}));
    Expect("done");
    return node;
  }

  Node ParseFor() {
    Node node;
    node.kind = Node::Kind::kFor;
    ++i_;  // for
    const Token* t = Peek();
    if (!t || t->kind != Token::Kind::kWord || !t->word.Plain() || !IsName(t->word.parts[0].text)) {
      Fail("expected a variable name after 'for'");
      return node;
    }
    node.name = t->word.parts[0].text;
    ++i_;
    SkipNewlines();
    if (AtWord("in")) {
      node.has_in = true;
      ++i_;
      while (Peek() && Peek()->kind == Token::Kind::kWord) node.words.push_back(Peek()->word), ++i_;
      if (AtOp(";")) {
        ++i_;
      } else if (!Peek() || Peek()->kind != Token::Kind::kNewline) {
        Fail("expected ';' or a newline after the list of 'for'");
        return node;
      }
    } else if (AtOp(";")) {
      ++i_;
    }
    Expect("do");
    node.children.push_back(ParseList({"done"}));
    Expect("done");
    return node;
  }

  Node ParseCase() {
    Node node;
    node.kind = Node::Kind::kCase;
    ++i_;  // case
    if (!Peek() || Peek()->kind != Token::Kind::kWord) {
      Fail("expected a word after 'case'");
      return node;
    }
    node.words.push_back(Peek()->word);
    ++i_;
    Expect("in");
    while (!failed_) {
      SkipNewlines();
      if (AtWord("esac")) {
        ++i_;
        break;
      }
      if (AtOp("(")) ++i_;
      std::vector<Word> patterns;
      while (!failed_) {
        if (!Peek() || Peek()->kind != Token::Kind::kWord) {
          Fail("expected a pattern in 'case'");
          break;
        }
        patterns.push_back(Peek()->word);
        ++i_;
        if (!AtOp("|")) break;
        ++i_;
      }
      if (!failed_ && !AtOp(")")) Fail("expected ')' after a pattern of 'case'");
      if (failed_) break;
      ++i_;
      node.patterns.push_back(std::move(patterns));
      node.children.push_back(ParseList({"esac"}));
      if (AtOp(";;") || AtOp(";&") || AtOp(";;&")) ++i_;
    }
    return node;
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  size_t depth_ = 0;
  bool failed_ = false;
  std::string error_;
  size_t error_at_ = 0;
};

// ----------------------------------------------------------------------------------------------
// Options of the commands understood, getopt_long style.

struct OptionSpec {
  enum class Arg { kNone, kRequired, kOptional };  // kOptional: only as --name=value
  std::string_view id;                             // what the caller looks for
  std::vector<std::string_view> names;             // "-m", "--mode"
  Arg arg = Arg::kNone;
};

struct ParsedArgs {
  std::vector<std::pair<std::string_view, std::string>> options;  // id, value
  std::vector<std::string> operands;

  bool Has(std::string_view id) const {
    return std::any_of(options.begin(), options.end(),
                       [&](const auto& o) { return o.first == id; });
  }
  std::optional<std::string> Value(std::string_view id) const {
    std::optional<std::string> v;
    for (const auto& [key, value] : options) {
      if (key == id) v = value;
    }
    return v;
  }
};

// Options anywhere among the operands (GNU getopt permutes), "--" ends them; nullopt for an
// unknown option or a missing argument.
std::optional<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                    const std::vector<OptionSpec>& spec) {
  auto find = [&](std::string_view name) -> const OptionSpec* {
    for (const OptionSpec& o : spec) {
      if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) return &o;
    }
    return nullptr;
  };
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.operands.insert(out.operands.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.starts_with("--")) {
      size_t eq = a.find('=');
      const OptionSpec* o = find(std::string_view(a).substr(0, eq));
      if (!o) return std::nullopt;
      if (eq != std::string::npos) {
        if (o->arg == OptionSpec::Arg::kNone) return std::nullopt;
        out.options.emplace_back(o->id, a.substr(eq + 1));
      } else if (o->arg == OptionSpec::Arg::kRequired) {
        if (++i >= args.size()) return std::nullopt;
        out.options.emplace_back(o->id, args[i]);
      } else {
        out.options.emplace_back(o->id, "");
      }
    } else if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        const OptionSpec* o = find(std::string{'-', a[k]});
        if (!o) return std::nullopt;
        if (o->arg != OptionSpec::Arg::kRequired) {
          out.options.emplace_back(o->id, "");
          continue;
        }
        if (k + 1 < a.size()) {
          out.options.emplace_back(o->id, a.substr(k + 1));
        } else if (++i < args.size()) {
          out.options.emplace_back(o->id, args[i]);
        } else {
          return std::nullopt;
        }
        break;
      }
    } else {
      out.operands.push_back(a);
    }
  }
  return out;
}

using Arg = OptionSpec::Arg;

std::string BaseNameOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string DirOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : std::string(dir) + "/" + std::string(name);
}

// An owner as chown and dpkg-statoverride take it: a valid name or a decimal id.
bool IsOwnerName(std::string_view s) { return IsDigits(s) || IsValidAccountName(s); }

bool IsSafeField(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// `target` relative to the directory of `link` (both absolute and normalised), as ln -r makes it.
std::string RelativeTarget(std::string_view target, std::string_view link) {
  auto split = [](std::string_view p) {
    std::vector<std::string_view> parts;
    for (size_t i = 1; i <= p.size();) {
      size_t end = std::min(p.find('/', i), p.size());
      if (end > i) parts.push_back(p.substr(i, end - i));
      i = end + 1;
    }
    return parts;
  };
  std::string dir = DirOf(link);
  std::vector<std::string_view> from = split(dir), to = split(target);
  size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i) out += out.empty() ? ".." : "/..";
  for (size_t i = common; i < to.size(); ++i) {
    if (!out.empty()) out += '/';
    out += to[i];
  }
  return out.empty() ? "." : out;
}

// ----------------------------------------------------------------------------------------------
// Walking the tree: what the script does, as far as it is literal.

struct Field {
  std::string text;
  bool literal = true;  // no unknown parameter, no command substitution
  bool glob = false;    // unquoted *, ? or [...]: a pattern the shell would expand
  bool temp = false;    // names a temporary file (from mktemp): nothing of the image
  // Has a variable that only conditional code set: its value, or nothing. Good enough for a
  // command's arguments (`[ -x /x ] && quiet=--quiet; adduser $quiet ...`), not to decide a test.
  bool maybe = false;
};

// A word whose value is known: literal and no pattern.
bool Known(const Field& f) { return f.literal && !f.glob; }

// What a test command (`[ ... ]`, `test`, `getent`, `true`) says, as far as it can be told from
// the script alone: decided, or true only when `necessary` hold (and, when `exact`, exactly
// then).
struct Status {
  std::optional<bool> value;
  std::vector<SetupCondition> necessary;
  bool exact = false;
};

Status Negate(const Status& s) {
  if (s.value) return {!*s.value, {}, false};
  if (s.exact && s.necessary.size() == 1) {
    SetupCondition c = s.necessary[0];
    c.exists = !c.exists;
    return {std::nullopt, {c}, true};
  }
  return {};
}

// The status of `a OP b`, b having run when OP let it (see WalkAndOr).
Status Combine(const Status& a, std::string_view op, const Status& b) {
  if (op == "&&") {
    if (a.value == false) return a;
    if (a.value == true) return b;
    if (b.value == false) return {false, {}, false};
    Status out = a;
    out.necessary.insert(out.necessary.end(), b.necessary.begin(), b.necessary.end());
    out.exact = a.exact && (b.value == true || b.exact);
    return out;
  }
  if (a.value == true) return a;
  if (a.value == false) return b;
  if (b.value == true) return {true, {}, false};
  return {};
}

// Commands that change nothing an image needs: shell builtins and queries, and what a package's
// setup does for a running system (services, caches, debconf, triggers, upgrades from older
// versions). See the header.
bool IsHarmless(std::string_view name) {
  static const std::set<std::string_view> kNames = {
      // shell builtins
      ":", "true", "false", "trap", "wait", "break", "continue", "umask", "cd", "pushd", "popd",
      "type", "hash", "getopts", "read", "printf", "echo", "test", "[", "[[", "let", "alias",
      "unalias", "ulimit", "times", "kill", "sleep", ".", "source",
      // queries (find and sed only when they change no file: ChangesFiles)
      "find", "sed", "getent", "id", "whoami", "groups", "logname", "grep", "egrep", "fgrep",
      "zgrep", "cut", "head", "tail", "sort", "uniq", "wc", "tr", "awk", "mawk", "gawk", "stat",
      "readlink", "realpath", "dirname", "basename", "ls", "cat", "zcat", "md5sum", "sha1sum",
      "sha256sum", "cmp", "diff", "uname", "date", "which", "dpkg-query", "dpkg-architecture",
      "dpkg-vendor", "ps", "pidof", "pgrep", "lsof", "ss", "netstat", "logger", "mktemp", "tty",
      "tput", "nproc", "seq", "expr", "sync", "systemd-detect-virt", "runlevel", "getconf",
      "locale", "hostname", "printenv", "lsb_release", "df", "du", "ypwhich", "free", "getcap",
      "base64", "ischroot", "mountpoint",
      // a running system's services, caches and registries
      "deb-systemd-helper", "deb-systemd-invoke", "invoke-rc.d", "update-rc.d", "systemctl",
      "service", "start-stop-daemon", "initctl", "systemd-tmpfiles", "systemd-sysusers",
      "systemd-machine-id-setup", "udevadm", "apparmor_parser", "aa-status", "aa-enabled",
      "ldconfig", "depmod", "ucfr", "ucfq", "py3compile", "pycompile", "py3clean", "pyclean",
      "pypy3compile", "pypy3clean", "update-mime", "update-mime-database",
      "update-desktop-database", "gtk-update-icon-cache", "update-icon-caches", "fc-cache",
      "install-info", "mandb", "update-menus", "update-initramfs", "update-grub",
      "update-ca-certificates", "c_rehash", "update-java-alternatives", "glib-compile-schemas",
      "gio-querymodules", "update-fonts-dir", "update-fonts-scale", "update-fonts-alias",
      "mkfontdir", "mkfontscale", "update-xmlcatalog", "update-catalog", "dpkg-maintscript-helper",
      "dpkg-trigger", "emacs-package-install", "emacs-package-remove", "update-perl-sax-parsers",
      "update-gconf-defaults", "gconf-schemas", "update-info-dir", "texhash", "mktexlsr",
      "update-fmtutil", "update-updmap", "update-language", "nscd", "sysctl", "telinit",
      "update-binfmts", "restorecon", "appstreamcli", "journalctl", "helpztags", "dbus-send",
      "add-shell", "remove-shell", "update-shells",
      // removals: a freshly assembled image has nothing of older versions to clean up
      "rm", "rmdir", "unlink"};
  return kNames.contains(name) || name.starts_with("db_");
}

// Whether a harmless-looking command is used in a way that changes files.
bool ChangesFiles(std::string_view name, const std::vector<Field>& args) {
  auto has = [&](auto pred) {
    return std::any_of(args.begin(), args.end(), [&](const Field& f) { return pred(f.text); });
  };
  if (name == "sed") {
    return has([](std::string_view a) {
      size_t i = a.find('i');
      return a.starts_with("--in-place") ||
             (a.size() > 1 && a[0] == '-' && a[1] != '-' && i != std::string_view::npos &&
              a.substr(1, i - 1).find_first_not_of("nrEsuz") == std::string_view::npos);
    });
  }
  if (name == "find") {
    return has([](std::string_view a) {
      return a == "-exec" || a == "-execdir" || a == "-ok" || a == "-okdir" ||
             a.starts_with("-fprint") || a == "-fls";
    });
  }
  return false;
}

// dpkg and dpkg-divert only as queries.
bool IsQuery(std::string_view name, const std::vector<Field>& args) {
  static const std::set<std::string_view> kDpkg = {"--compare-versions",
                                                   "--print-architecture",
                                                   "--print-foreign-architectures",
                                                   "-l",
                                                   "--list",
                                                   "-s",
                                                   "--status",
                                                   "-L",
                                                   "--listfiles",
                                                   "-S",
                                                   "--search",
                                                   "--validate-version",
                                                   "--validate-pkgname",
                                                   "--audit",
                                                   "-C",
                                                   "--get-selections"};
  // (removing a diversion: a fresh install has none)
  static const std::set<std::string_view> kDivert = {"--list", "--listpackage", "--truename",
                                                     "--remove"};
  const auto& allowed = name == "dpkg" ? kDpkg : kDivert;
  for (const Field& f : args) {
    if (allowed.contains(f.text) || (name == "dpkg" && f.text.starts_with("--assert-"))) {
      return true;
    }
  }
  return false;
}

class Walker;

// What every walker of one ParseMaintainerScript call shares: the output and the budget.
struct Shared {
  ParsedSetup* out = nullptr;
  std::string origin_prefix;
  std::set<std::pair<std::string, std::string>> seen;  // NotApplied already listed
  size_t steps = 0;
  uint32_t tests = 0;  // SetupCondition::test numbers given
  size_t dropped = 0;  // NotApplied left out beyond kMaxNotApplied
  bool budget_reported = false;
  // The file the last listed command wrote, for listing consecutive writes once.
  std::string last_write;
  size_t last_write_count = 0;
};

class Walker {
 public:
  enum class Flow { kNext, kExit, kReturn, kStop };

  Walker(std::string_view script, Shared& shared, size_t nesting,
         std::optional<size_t> fixed_line = std::nullopt)
      : script_(script), shared_(shared), nesting_(nesting), fixed_line_(fixed_line) {
    for (size_t i = 0; i < script.size(); ++i) {
      if (script[i] == '\n') newlines_.push_back(i);
    }
    vars_["DPKG_ROOT"] = "";  // dpkg installs into / (the image's root), not into a chroot
  }

  void SetPositional(std::vector<Field> args) { positional_ = std::move(args); }

  // Parses and walks the script; false (and one NotApplied) when it cannot be parsed.
  bool Run() {
    Lexer lexer(script_);
    std::vector<Token> tokens = lexer.Run();
    if (!lexer.error().empty()) {
      Unparsable(lexer.error(), lexer.error_at());
      return false;
    }
    Parser parser(tokens);
    std::optional<Node> root = parser.Run();
    if (!root) {
      Unparsable(parser.error(), parser.error_at());
      return false;
    }
    Prescan(*root);
    Walk(*root);
    return true;
  }

 private:
  // --- where things are ---

  size_t LineAt(size_t offset) const {
    if (fixed_line_) return *fixed_line_;
    return 1 + static_cast<size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                                   newlines_.begin());
  }
  std::string Origin(size_t offset) const {
    return shared_.origin_prefix + ":" + std::to_string(LineAt(offset));
  }

  // A command as written, on one line: continuations joined, whitespace runs collapsed, cut as
  // NotAppliedText cuts.
  static std::string OneLine(std::string_view text) {
    std::string out;
    bool space = false;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
        space = true;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        space = true;
        continue;
      }
      if (space && !out.empty()) out += ' ';
      space = false;
      out += c;
    }
    return NotAppliedText(out);
  }

  void Unparsable(const std::string& why, size_t offset) {
    List(offset, "(the script could not be read: " + why + "; nothing of it was applied)");
  }

  // Lists a command as not applied. `writes`: the file it writes, for listing a run of
  // commands writing one file once.
  void List(size_t offset, std::string text, const std::string& writes = "") {
    std::string origin = Origin(offset);
    if (!shared_.seen.insert({origin, text}).second) return;
    std::vector<NotApplied>& list = shared_.out->not_applied;
    if (!writes.empty() && writes == shared_.last_write && !list.empty() &&
        list.back().when == when_) {
      ++shared_.last_write_count;
      std::string& last = list.back().text;
      size_t mark = last.rfind(" (and ");
      if (mark != std::string::npos && last.ends_with(" writing " + writes + ")")) {
        last.resize(mark);
      }
      last = NotAppliedText(last + " (and " + std::to_string(shared_.last_write_count) +
                            (shared_.last_write_count == 1 ? " more command" : " more commands") +
                            " writing " + writes + ")");
      return;
    }
    shared_.last_write = writes;
    shared_.last_write_count = 0;
    if (list.size() >= kMaxNotApplied) {
      ++shared_.dropped;
      return;
    }
    list.push_back({std::move(origin), std::move(text), when_});
  }

  void ListCommand(const Command& c, const std::string& writes = "") {
    List(c.begin, OneLine(script_.substr(c.begin, c.end - c.begin)), writes);
  }

  void Emit(SetupAction a, const Command& c) {
    a.origin = Origin(c.begin);
    a.when.insert(a.when.begin(), when_.begin(), when_.end());
    shared_.out->actions.push_back(std::move(a));
  }

  // --- variables ---

  // Variables with one literal value in the whole script can be followed; others (assigned
  // different values, read, declared local without a value) are never known.
  void Prescan(const Node& n) {
    if (n.kind == Node::Kind::kCommand) {
      const Command& c = n.command;
      auto site = [&](std::string_view word) {
        size_t eq = word.find('=');
        std::string name(word.substr(0, eq));
        if (!IsName(name)) return;
        if (eq == std::string_view::npos) {
          unstable_.insert(name);
          return;
        }
        std::set<std::string>& values = sites_[name];
        values.insert(std::string(word.substr(eq + 1)));
        if (values.size() > 1) unstable_.insert(name);
      };
      if (c.words.empty()) {
        for (const Word& w : c.assignments) site(w.raw);
      } else if (c.words[0].Plain()) {
        const std::string& name = c.words[0].parts[0].text;
        if (name == "local" || name == "declare" || name == "typeset" || name == "export" ||
            name == "readonly") {
          for (size_t i = 1; i < c.words.size(); ++i) {
            const std::string& raw = c.words[i].raw;
            if (raw.starts_with("-")) continue;
            if (raw.find('=') == std::string::npos && (name == "export" || name == "readonly")) {
              continue;  // exports what it is, changes nothing
            }
            site(raw);
          }
        } else if (name == "read" || name == "getopts") {
          for (size_t i = 1; i < c.words.size(); ++i) {
            if (c.words[i].Plain() && IsName(c.words[i].parts[0].text)) {
              unstable_.insert(c.words[i].parts[0].text);
            }
          }
        } else if (name == "unset") {
          for (size_t i = 1; i < c.words.size(); ++i) unstable_.insert(c.words[i].raw);
        }
      }
    }
    for (const Node& child : n.children) Prescan(child);
  }

  std::optional<std::string> Var(std::string_view name) const {
    if (IsDigits(name)) {
      size_t index = 0;
      for (char c : name) index = std::min<size_t>(index * 10 + (c - '0'), 1000);
      if (index == 0 || !positional_) return std::nullopt;  // $0: the script's path
      if (index > positional_->size()) return std::string();
      const Field& f = (*positional_)[index - 1];
      return Known(f) ? std::optional<std::string>(f.text) : std::nullopt;
    }
    if (name == "#") {
      return positional_ ? std::optional<std::string>(std::to_string(positional_->size()))
                         : std::nullopt;
    }
    std::string key(name);
    if (auto it = loop_vars_.find(key); it != loop_vars_.end()) return it->second;
    if (unstable_.contains(key)) return std::nullopt;
    if (auto it = vars_.find(key); it != vars_.end()) return it->second;
    return std::nullopt;  // from the environment, or not set yet
  }

  void Assign(const std::string& name, const Field& value) {
    if (value.temp && IsName(name)) temp_vars_.insert(name);
    if (!IsName(name) || unstable_.contains(name) || loop_vars_.contains(name)) return;
    if (conditional_ > 0) {
      maybe_set_.insert(name);
    } else {
      maybe_set_.erase(name);
    }
    if (value.literal) {
      vars_[name] = value.text;
    } else {
      vars_.erase(name);
    }
  }

  // --- expansion ---

  // A word's fields after parameter expansion and field splitting (`split`; not for assignments
  // and case patterns). `pattern`: for case patterns, where glob characters are the point (quoted
  // ones are escaped).
  std::vector<Field> Expand(const Word& w, bool split = true, bool pattern = false) const {
    std::vector<Field> fields;
    Field cur;
    bool have = false;
    auto push = [&] {
      if (have) fields.push_back(std::move(cur));
      cur = Field{};
      have = false;
    };
    auto add_text = [&](std::string_view text, bool quoted) {
      for (char c : text) {
        if (pattern && quoted && std::string_view("*?[]\\").find(c) != std::string_view::npos) {
          cur.text += '\\';
        } else if (!pattern && split && !quoted && (c == '*' || c == '?' || c == '[')) {
          if (c != '[' || text.find(']') != std::string_view::npos) cur.glob = true;
        }
        cur.text += c;
      }
      have = true;
    };
    auto add_value = [&](std::string_view value, bool quoted) {
      if (quoted || !split) return add_text(value, true);
      for (char c : value) {
        if (c == ' ' || c == '\t' || c == '\n') {
          push();
        } else {
          if (c == '*' || c == '?') cur.glob = true;
          cur.text += c;
          have = true;
        }
      }
    };
    for (size_t k = 0; k < w.parts.size(); ++k) {
      const Part& p = w.parts[k];
      switch (p.kind) {
        case Part::Kind::kText:
          if (k == 0 && !p.quoted && p.text.starts_with("~")) cur.literal = false;
          add_text(p.text, p.quoted);
          break;
        case Part::Kind::kOpaque:
          if (std::optional<Field> out = Braced(p.text)) {
            add_value(out->text, p.quoted);
            break;
          }
          if (std::optional<Field> out = Substitute(p.text)) {
            if (out->temp) {
              cur.literal = false;
              cur.temp = true;
              cur.text += p.text;
              have = true;
            } else {
              add_value(out->text, p.quoted);
            }
            break;
          }
          cur.literal = false;
          cur.text += p.text;
          have = true;
          break;
        case Part::Kind::kParam:
          if (p.text == "@" || p.text == "*") {
            if (!positional_) {
              cur.literal = false;
              cur.text += "$" + p.text;
              have = true;
            } else if (p.quoted && p.text == "@" && split) {
              for (size_t i = 0; i < positional_->size(); ++i) {
                if (i > 0) push();
                add_text((*positional_)[i].text, true);
                cur.literal = cur.literal && (*positional_)[i].literal;
              }
            } else {
              std::string joined;
              bool literal = true;
              for (size_t i = 0; i < positional_->size(); ++i) {
                joined += (i ? " " : "") + (*positional_)[i].text;
                literal = literal && (*positional_)[i].literal;
              }
              add_value(joined, p.quoted);
              cur.literal = cur.literal && literal;
            }
          } else if (std::optional<std::string> v = Var(p.text)) {
            add_value(*v, p.quoted);
            if (maybe_set_.contains(p.text) && !loop_vars_.contains(p.text)) cur.maybe = true;
          } else {
            cur.literal = false;
            cur.temp = cur.temp || temp_vars_.contains(p.text);
            cur.text += "$" + p.text;
            have = true;
          }
          break;
      }
    }
    push();
    return fields;
  }

  // `${NAME:-WORD}`, `${NAME-WORD}`, `${NAME:=WORD}`, `${NAME:+WORD}`, `${NAME+WORD}`,
  // `${NAME#PATTERN}`, `${NAME##PATTERN}`, `${NAME%PATTERN}`, `${NAME%%PATTERN}` of a known NAME,
  // WORD and PATTERN being one word; nullopt otherwise.
  std::optional<Field> Braced(std::string_view text) const {
    if (!text.starts_with("${") || !text.ends_with("}")) return std::nullopt;
    std::string_view inner = text.substr(2, text.size() - 3);
    size_t end = 0;
    if (!inner.empty() && inner[0] >= '0' && inner[0] <= '9') {
      while (end < inner.size() && inner[end] >= '0' && inner[end] <= '9') ++end;
    } else {
      while (end < inner.size() && IsNameChar(inner[end])) ++end;
    }
    if (end == 0) return std::nullopt;
    std::optional<std::string> value = Var(inner.substr(0, end));
    if (!value) return std::nullopt;
    std::string_view rest = inner.substr(end);
    static constexpr std::array<std::string_view, 10> kOps = {":-", ":=", ":+", "##", "%%",
                                                              "-",  "=",  "+",  "#",  "%"};
    std::string_view op;
    for (std::string_view o : kOps) {
      if (rest.starts_with(o)) {
        op = o;
        break;
      }
    }
    if (op.empty()) return std::nullopt;
    std::string_view word_text = rest.substr(op.size());
    std::optional<Field> word;
    if (word_text.empty()) {
      word = Field{};
    } else if (++status_depth_ <= kMaxCallDepth) {
      Lexer lexer(word_text);
      std::vector<Token> tokens = lexer.Run();
      if (lexer.error().empty() && tokens.size() == 1 && tokens[0].kind == Token::Kind::kWord) {
        word = ExpandOne(tokens[0].word, /*pattern=*/op[0] == '#' || op[0] == '%');
      }
      --status_depth_;
    } else {
      --status_depth_;
    }
    if (!word || !Known(*word)) return std::nullopt;
    if (op == ":-" || op == "-" || op == ":=" || op == "=") {
      return value->empty() ? *word : Field{*value};
    }
    if (op == ":+" || op == "+") return value->empty() ? Field{} : *word;
    // Prefix (#) or suffix (%) removal, shortest or longest (doubled) match.
    bool prefix = op[0] == '#', longest = op.size() == 2;
    const std::string& v = *value;
    for (size_t n = 0; n <= v.size(); ++n) {
      size_t len = longest ? v.size() - n : n;
      std::string part = prefix ? v.substr(0, len) : v.substr(v.size() - len);
      if (GlobMatch(word->text, part)) {
        return Field{prefix ? v.substr(len) : v.substr(0, v.size() - len)};
      }
    }
    return Field{v};
  }

  // The output of a command substitution ($(...) or `...`) that is known without running
  // anything: `dirname P`, `basename P [SUFFIX]`, `echo WORDS` of known words; `mktemp ...` gives a
  // temporary file (Field::temp). nullopt otherwise.
  std::optional<Field> Substitute(std::string_view text) const {
    std::string_view inner;
    if (text.starts_with("$((")) return std::nullopt;
    if (text.starts_with("$(") && text.ends_with(")")) {
      inner = text.substr(2, text.size() - 3);
    } else if (text.starts_with("`") && text.ends_with("`") && text.size() >= 2) {
      inner = text.substr(1, text.size() - 2);
      if (inner.find('\\') != std::string_view::npos) return std::nullopt;
    } else {
      return std::nullopt;
    }
    if (++status_depth_ > kMaxCallDepth) {
      --status_depth_;
      return std::nullopt;
    }
    Lexer lexer(inner);
    std::vector<Token> tokens = lexer.Run();
    --status_depth_;
    while (!tokens.empty() && tokens.back().kind == Token::Kind::kNewline) tokens.pop_back();
    if (!lexer.error().empty() || tokens.empty() ||
        std::any_of(tokens.begin(), tokens.end(),
                    [](const Token& t) { return t.kind != Token::Kind::kWord; })) {
      return std::nullopt;
    }
    if (tokens[0].word.Is("mktemp")) return Field{"", false, false, true};
    std::vector<Field> args;
    ++status_depth_;
    for (size_t i = 1; i < tokens.size(); ++i) {
      for (Field& f : Expand(tokens[i].word)) args.push_back(std::move(f));
    }
    --status_depth_;
    if (!std::all_of(args.begin(), args.end(), Known)) return std::nullopt;
    if (tokens[0].word.Is("dirname") && args.size() == 1) {
      std::string_view p = args[0].text;
      while (p.size() > 1 && p.ends_with("/")) p.remove_suffix(1);
      size_t slash = p.rfind('/');
      if (slash == std::string_view::npos) return Field{".", true};
      p = p.substr(0, slash);
      while (p.size() > 1 && p.ends_with("/")) p.remove_suffix(1);
      return Field{p.empty() ? "/" : std::string(p), true};
    }
    if (tokens[0].word.Is("basename") && (args.size() == 1 || args.size() == 2)) {
      std::string name = BaseNameOf(args[0].text);
      if (args.size() == 2 && name.size() > args[1].text.size() && name.ends_with(args[1].text)) {
        name.resize(name.size() - args[1].text.size());
      }
      return Field{name, true};
    }
    if (tokens[0].word.Is("echo") && (args.empty() || !args[0].text.starts_with("-"))) {
      std::string joined;
      for (size_t i = 0; i < args.size(); ++i) joined += (i ? " " : "") + args[i].text;
      return Field{joined, true};
    }
    return std::nullopt;
  }

  // One field for an assignment's value or a case subject (nothing splits there).
  Field ExpandOne(const Word& w, bool pattern = false) const {
    std::vector<Field> fields = Expand(w, /*split=*/false, pattern);
    return fields.empty() ? Field{} : fields[0];
  }

  static Word ValueOf(const Word& assignment) {
    Word value = assignment;
    std::string& first = value.parts[0].text;
    first.erase(0, first.find('=') + 1);
    return value;
  }

  // --- walking ---

  Flow Walk(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kCommand:
        return WalkCommand(n.command);
      case Node::Kind::kSequence:
        return WalkWithInput(n, [&] {
          size_t before = when_.size();
          Flow f = Flow::kNext;
          for (const Node& child : n.children) {
            if ((f = Walk(child)) != Flow::kNext) break;
            for (const SetupCondition& c : ConditionsAfter(child)) {
              if (std::find(when_.begin(), when_.end(), c) == when_.end()) when_.push_back(c);
            }
          }
          when_.resize(before);
          return f;
        });
      case Node::Kind::kPipeline:
        for (const Node& child : n.children) {
          if (Flow f = Walk(child); f != Flow::kNext) return f;
        }
        return Flow::kNext;
      case Node::Kind::kAndOr:
        return WalkAndOr(n);
      case Node::Kind::kIf:
        return WalkIf(n);
      case Node::Kind::kLoop:
        return WalkWithInput(n, [&] { return WalkLoop(n); });
      case Node::Kind::kFor:
        return WalkFor(n);
      case Node::Kind::kCase:
        return WalkCase(n);
      case Node::Kind::kFunction:
        functions_[n.name] = &n.children[0];
        return Flow::kNext;
    }
    return Flow::kNext;
  }

  // Walks `body` with a here-document of `n` as standard input (for `while read`).
  template <class Body>
  Flow WalkWithInput(const Node& n, Body body) {
    const Redirect* input = nullptr;
    for (const Redirect& r : n.redirects) {
      if (r.op == "<<" || r.op == "<<-") input = &r;
    }
    if (!input) return body();
    std::optional<std::string> saved = std::move(input_);
    input_ = input->heredoc;
    if (input->heredoc_expanded && input->heredoc.find_first_of("$`\\") != std::string::npos) {
      input_.reset();  // expansions in it: not known
    }
    Flow f = body();
    input_ = std::move(saved);
    return f;
  }

  // Walks `n` as code that may or may not run: an `exit` there does not end the script.
  Flow WalkConditional(const Node& n) {
    ++conditional_;
    Flow f = Walk(n);
    --conditional_;
    return f == Flow::kStop ? f : Flow::kNext;
  }

  // What a test command says (see Status): `[ STRING ]`, `[ -n|-z STRING ]`, `[ S1 =|==|!= S2 ]`
  // on known values are decided ($1 is "configure", $2 empty); `[ -e|-f|-d|... PATH ]` and
  // `getent passwd|group NAME` are conditions on the image; `!` negates.
  Status TestOf(const Node& n) const {
    switch (n.kind) {
      case Node::Kind::kSequence:
        return n.children.empty() ? Status{} : TestOf(n.children.back());
      case Node::Kind::kPipeline: {
        Status last = TestOf(n.children.back());
        return n.negated ? Negate(last) : last;
      }
      case Node::Kind::kAndOr: {
        Status s = TestOf(n.children[0]);
        for (size_t k = 1; k < n.children.size(); ++k) {
          s = Combine(s, n.ops[k - 1], TestOf(n.children[k]));
        }
        return s;
      }
      case Node::Kind::kCommand:
        break;
      default:
        return {};
    }
    std::vector<Field> f;
    for (const Word& w : n.command.words) {
      for (Field& x : Expand(w)) f.push_back(std::move(x));
    }
    if (f.empty() || !Known(f[0])) return {};
    const std::string& name = f[0].text;
    if (auto it = functions_.find(name); it != functions_.end()) {
      return {FunctionStatus(*it->second, {f.begin() + 1, f.end()}), {}, false};
    }
    if (name == "dpkg" && f.size() == 5 && f[1].text == "--compare-versions") {
      if (std::any_of(f.begin(), f.end(), [](const Field& x) { return !Known(x) || x.maybe; })) {
        return {};
      }
      return CompareVersions(f[2].text, f[3].text, f[4].text);
    }
    if (name == "true" || name == ":") return {true, {}, false};
    if (name == "false") return {false, {}, false};
    if (name == "getent" && f.size() == 3 && Known(f[1]) && Known(f[2]) &&
        (f[1].text == "passwd" || f[1].text == "group")) {
      SetupCondition c{
          f[1].text == "group" ? SetupCondition::Kind::kGroup : SetupCondition::Kind::kUser,
          f[2].text, true};
      return {std::nullopt, {c}, true};
    }
    size_t end = f.size();
    if (name == "[") {
      if (f.back().text != "]") return {};
      --end;
    } else if (name == "[[") {
      if (f.back().text != "]]") return {};
      --end;
    } else if (name != "test") {
      return {};
    }
    if (std::any_of(f.begin(), f.end(), [](const Field& x) { return x.maybe; })) return {};
    size_t i = 1;
    bool negated = false;
    if (end - i >= 2 && f[i].text == "!") {
      negated = true;
      ++i;
    }
    Status s;
    static const std::set<std::string_view> kExistence = {"-e", "-f", "-d", "-L", "-h", "-r",
                                                          "-w", "-x", "-s", "-O", "-G", "-a"};
    if (end - i == 1 && Known(f[i])) {
      s.value = !f[i].text.empty();
    } else if (end - i == 2 && (f[i].text == "-n" || f[i].text == "-z") && Known(f[i + 1])) {
      s.value = f[i + 1].text.empty() == (f[i].text == "-z");
    } else if (end - i == 2 && kExistence.contains(f[i].text) && Known(f[i + 1])) {
      std::optional<std::string> path = NormaliseSetupPath(f[i + 1].text);
      if (!path) return {};
      s = {std::nullopt, {{SetupCondition::Kind::kPath, *path, true}}, true};
    } else if (end - i == 3 && Known(f[i]) && Known(f[i + 2]) &&
               (f[i + 1].text == "=" || f[i + 1].text == "==" || f[i + 1].text == "!=")) {
      s.value = (f[i].text == f[i + 2].text) == (f[i + 1].text != "!=");
    } else {
      return {};
    }
    return negated ? Negate(s) : s;
  }

  // `dpkg --compare-versions A OP B`, as dpkg decides it: an empty version (no $2 on a fresh
  // install) is earlier than any other, or later with the -nl operators.
  static Status CompareVersions(const std::string& a, std::string_view op, const std::string& b) {
    static const std::map<std::string_view, std::pair<std::string_view, bool>> kOps = {
        {"lt", {"<", false}},    {"le", {"<=", false}},   {"eq", {"=", false}},
        {"ne", {"!=", false}},   {"ge", {">=", false}},   {"gt", {">", false}},
        {"<<", {"<", false}},    {"<=", {"<=", false}},   {"=", {"=", false}},
        {">=", {">=", false}},   {">>", {">", false}},    {"lt-nl", {"<", true}},
        {"le-nl", {"<=", true}}, {"ge-nl", {">=", true}}, {"gt-nl", {">", true}}};
    auto it = kOps.find(op);
    if (it == kOps.end()) return {};
    auto [relation, empty_is_latest] = it->second;
    int order;
    if (a.empty() || b.empty()) {
      order = a.empty() == b.empty() ? 0 : (a.empty() != empty_is_latest ? -1 : 1);
    } else {
      if (!deb::ParseVersion(a) || !deb::ParseVersion(b)) return {};
      order = deb::CompareVersions(a, b);
    }
    bool result = relation == "<"    ? order < 0
                  : relation == "<=" ? order <= 0
                  : relation == "="  ? order == 0
                  : relation == "!=" ? order != 0
                  : relation == ">=" ? order >= 0
                                     : order > 0;
    return {result, {}, false};
  }

  // Whether a function called with `args` returns true, when its body tells that without
  // running anything: `is_fresh_install() { if [ -z "$2" ]; then return 0; fi; return 1; }`.
  std::optional<bool> FunctionStatus(const Node& body, std::vector<Field> args) const {
    if (status_depth_ >= kMaxCallDepth) return std::nullopt;
    ++status_depth_;
    std::optional<std::vector<Field>> saved = std::move(positional_);
    positional_ = std::move(args);
    std::optional<std::optional<bool>> returned;
    bool known = BodyStatus(body, returned);
    positional_ = std::move(saved);
    --status_depth_;
    return known && returned ? *returned : std::nullopt;
  }

  // Follows `n` for a `return N`: false when what it does cannot be told; `returned` is set
  // (to whether N is 0, or nullopt for an unknown N) at a return.
  bool BodyStatus(const Node& n, std::optional<std::optional<bool>>& returned) const {
    switch (n.kind) {
      case Node::Kind::kSequence:
        for (const Node& child : n.children) {
          if (!BodyStatus(child, returned)) return false;
          if (returned) return true;
        }
        return true;
      case Node::Kind::kIf: {
        size_t branches = n.children.size() - (n.has_else ? 1 : 0);
        for (size_t k = 0; k + 1 < branches; k += 2) {
          Status s = TestOf(n.children[k]);
          if (!s.value) return false;
          if (*s.value) return BodyStatus(n.children[k + 1], returned);
        }
        return !n.has_else || BodyStatus(n.children.back(), returned);
      }
      case Node::Kind::kCommand: {
        const std::vector<Word>& words = n.command.words;
        if (words.empty() || !words[0].Is("return")) return true;
        if (words.size() != 2) return false;
        Field code = ExpandOne(words[1]);
        if (!Known(code) || !IsDigits(code.text)) return false;
        returned = std::optional<bool>(code.text.find_first_not_of('0') == std::string::npos);
        return true;
      }
      default:
        return false;
    }
  }

  template <class Body>
  Flow WithConditions(const std::vector<SetupCondition>& conditions, Body body) {
    size_t before = when_.size();
    for (const SetupCondition& c : conditions) {
      if (std::find(when_.begin(), when_.end(), c) == when_.end()) when_.push_back(c);
    }
    Flow f = body();
    when_.resize(before);
    return f;
  }

  // `s` with its conditions numbered as one test (SetupCondition::test).
  Status Stamped(Status s) {
    if (s.necessary.empty()) return s;
    uint32_t test = ++shared_.tests;
    for (SetupCondition& c : s.necessary) c.test = test;
    return s;
  }

  // What holds for the commands after `n` in a list, when `n` leaves early otherwise:
  // `if [ ! -e P ]; then return 0; fi`, `[ -e P ] || exit 0`, `COND && return`.
  std::vector<SetupCondition> ConditionsAfter(const Node& n) {
    auto leaves = [](const Node& body) {
      const Node* last = &body;
      while (last->kind == Node::Kind::kSequence && !last->children.empty()) {
        last = &last->children.back();
      }
      return last->kind == Node::Kind::kCommand && !last->command.words.empty() &&
             (last->command.words[0].Is("exit") || last->command.words[0].Is("return"));
    };
    if (n.kind == Node::Kind::kIf && n.children.size() == 2 && !n.has_else &&
        leaves(n.children[1])) {
      return Negate(Stamped(TestOf(n.children[0]))).necessary;
    }
    if (n.kind == Node::Kind::kAndOr && n.children.size() == 2 && leaves(n.children[1])) {
      Status s = Stamped(TestOf(n.children[0]));
      return n.ops[0] == "||" ? s.necessary : Negate(s).necessary;
    }
    return {};
  }

  // The first pipeline runs; each next one when the status so far lets it (`&&`: true, `||`:
  // false). A decided status runs or skips it; otherwise it may run, under the conditions the
  // status needs (`[ -e P ] && ...`, `[ -d P ] || install -d P`).
  Flow WalkAndOr(const Node& n) {
    if (Flow f = Walk(n.children[0]); f != Flow::kNext) return f;
    Status s = Stamped(TestOf(n.children[0]));
    for (size_t k = 1; k < n.children.size(); ++k) {
      const std::string& op = n.ops[k - 1];
      Status needed = op == "&&" ? s : Negate(s);
      if (needed.value == false) continue;
      if (needed.value == true) {
        if (Flow f = Walk(n.children[k]); f != Flow::kNext) return f;
        s = Stamped(TestOf(n.children[k]));
        continue;
      }
      Flow f = WithConditions(needed.necessary, [&] { return WalkConditional(n.children[k]); });
      if (f == Flow::kStop) return f;
      s = Combine(s, op, Stamped(TestOf(n.children[k])));
    }
    return Flow::kNext;
  }

  // if/elif/else: a decided condition takes or skips its branch; otherwise the branch may run,
  // under what its condition needs, and the later ones under its negation when that is exact.
  Flow WalkIf(const Node& n) {
    if (std::optional<Flow> f = WalkChoice(n)) return *f;
    size_t branches = n.children.size() - (n.has_else ? 1 : 0);
    std::vector<SetupCondition> earlier_false;  // what holds when the earlier branches did not run
    bool all_decided_false = true;
    for (size_t k = 0; k + 1 < branches; k += 2) {
      Flow f = WithConditions(earlier_false, [&] { return WalkConditional(n.children[k]); });
      if (f == Flow::kStop) return f;
      Status s = Stamped(TestOf(n.children[k]));
      if (s.value == false) continue;
      if (s.value == true && all_decided_false) return Walk(n.children[k + 1]);
      std::vector<SetupCondition> needed = earlier_false;
      needed.insert(needed.end(), s.necessary.begin(), s.necessary.end());
      f = WithConditions(needed, [&] { return WalkConditional(n.children[k + 1]); });
      if (f == Flow::kStop) return f;
      if (s.value == true) return Flow::kNext;  // the branches after it never run
      all_decided_false = false;
      Status otherwise = Negate(s);
      earlier_false.insert(earlier_false.end(), otherwise.necessary.begin(),
                           otherwise.necessary.end());
    }
    if (!n.has_else) return Flow::kNext;
    if (all_decided_false) return Walk(n.children.back());
    return WithConditions(earlier_false, [&] { return WalkConditional(n.children.back()); });
  }

  // `while read A B; do ...; done << DATA` runs the body once per line of DATA when the
  // here-document is known; any other loop is read once, its variables unknown.
  Flow WalkLoop(const Node& n) {
    const Node& cond = n.children[0];
    const Command* read = nullptr;
    if (cond.children.size() == 1 && cond.children[0].kind == Node::Kind::kCommand &&
        !cond.children[0].command.words.empty() && cond.children[0].command.words[0].Is("read")) {
      read = &cond.children[0].command;
    }
    std::vector<std::string> names;
    if (read) {
      for (size_t i = 1; i < read->words.size(); ++i) {
        if (read->words[i].Plain() && IsName(read->words[i].parts[0].text)) {
          names.push_back(read->words[i].parts[0].text);
        }
      }
    }
    if (!read || !input_ || names.empty() || n.until) {
      if (WalkConditional(cond) == Flow::kStop) return Flow::kStop;
      return WalkConditional(n.children[1]);
    }
    std::string lines = *input_;
    std::map<std::string, std::optional<std::string>> saved;
    for (const std::string& name : names) {
      if (auto it = loop_vars_.find(name); it != loop_vars_.end()) saved[name] = it->second;
    }
    Flow result = Flow::kNext;
    for (const Line& input_line : Lines(lines, {.strip_cr = false})) {  // to read, CR is data
      std::string_view line = input_line.text;
      // read: fields split at blanks, the last name takes the rest of the line.
      for (size_t k = 0; k < names.size(); ++k) {
        size_t start = std::min(line.find_first_not_of(" \t"), line.size());
        line.remove_prefix(start);
        std::string value;
        if (k + 1 == names.size()) {
          value = std::string(line.substr(0, line.find_last_not_of(" \t") + 1));
          line = {};
        } else {
          size_t end = std::min(line.find_first_of(" \t"), line.size());
          value = std::string(line.substr(0, end));
          line.remove_prefix(end);
        }
        loop_vars_[names[k]] = value;
      }
      Flow f = WalkConditional(n.children[1]);
      if (f == Flow::kStop) {
        result = f;
        break;
      }
    }
    for (const std::string& name : names) {
      loop_vars_.erase(name);
      unstable_.insert(name);
    }
    for (auto& [name, value] : saved) loop_vars_[name] = value;
    return result;
  }

  // `if [ -e P ]; then A=1; B=2; else A=3; B=4; fi`: which values A and B have depends on the
  // image. They are recorded as a choice; a command that uses them is read once per side, under
  // the side's condition (see WalkCommand). nullopt when `n` is not such an if.
  std::optional<Flow> WalkChoice(const Node& n) {
    if (n.children.size() != 3 || !n.has_else) return std::nullopt;
    Status s = Stamped(TestOf(n.children[0]));
    if (s.value || !s.exact || s.necessary.size() != 1) return std::nullopt;
    auto assignments = [&](const Node& body, std::map<std::string, std::string>& out) {
      for (const Node& child : body.children) {
        if (child.kind != Node::Kind::kCommand || !child.command.words.empty() ||
            !child.command.redirects.empty()) {
          return false;
        }
        for (const Word& a : child.command.assignments) {
          const std::string& first = a.parts[0].text;
          Field value = ExpandOne(ValueOf(a));
          if (!Known(value)) return false;
          out[first.substr(0, first.find('='))] = value.text;
        }
      }
      return !out.empty();
    };
    Choice choice;
    choice.condition = s.necessary[0];
    if (!assignments(n.children[1], choice.then_values) ||
        !assignments(n.children[2], choice.else_values) || choices_.size() >= 64) {
      return std::nullopt;
    }
    if (WalkConditional(n.children[0]) == Flow::kStop) return Flow::kStop;
    for (const auto& [name, value] : choice.then_values) {
      if (choice.else_values.contains(name)) chosen_by_[name] = choices_.size();
    }
    choices_.push_back(std::move(choice));
    return Flow::kNext;
  }

  // The choices (see WalkChoice) a command's words use and that are not decided yet.
  std::vector<size_t> ChoicesUsed(const Command& c) const {
    std::set<size_t> used;
    auto scan = [&](const Word& w) {
      for (const Part& p : w.parts) {
        if (p.kind != Part::Kind::kParam) continue;
        auto it = chosen_by_.find(p.text);
        if (it != chosen_by_.end() && !loop_vars_.contains(p.text)) used.insert(it->second);
      }
    };
    for (const Word& w : c.words) scan(w);
    for (const Word& w : c.assignments) scan(w);
    for (const Redirect& r : c.redirects) scan(r.target);
    return {used.begin(), used.end()};
  }

  // Reads `c` once per side of each choice it uses (at most 3 choices).
  Flow WalkChoices(const Command& c, const std::vector<size_t>& used) {
    if (used.size() > 3) return WalkCommand(c, /*choose=*/false);
    for (size_t combination = 0; combination < (size_t{1} << used.size()); ++combination) {
      std::vector<SetupCondition> conditions;
      std::vector<std::string> bound;
      for (size_t k = 0; k < used.size(); ++k) {
        const Choice& choice = choices_[used[k]];
        bool then_side = (combination >> k) & 1;
        SetupCondition condition = choice.condition;
        if (!then_side) condition.exists = !condition.exists;
        conditions.push_back(condition);
        for (const auto& [name, value] : then_side ? choice.then_values : choice.else_values) {
          auto it = chosen_by_.find(name);
          if (it == chosen_by_.end() || it->second != used[k]) continue;
          loop_vars_[name] = value;
          bound.push_back(name);
        }
      }
      Flow f = WithConditions(conditions, [&] { return WalkCommand(c, /*choose=*/false); });
      for (const std::string& name : bound) loop_vars_.erase(name);
      if (f != Flow::kNext) return f;
    }
    return Flow::kNext;
  }

  // A for loop runs its body once per known word; for a pattern (`/etc/x/*.conf`) once, its
  // variable unknown, under the condition that the pattern matches something; for an unknown
  // word once, its variable unknown.
  Flow WalkFor(const Node& n) {
    std::vector<Field> values;
    if (n.has_in) {
      for (const Word& w : n.words) {
        for (Field& f : Expand(w)) values.push_back(std::move(f));
      }
    } else if (positional_) {
      values = *positional_;
    } else {
      values.push_back(Field{"$@", false, false});
    }
    std::optional<std::optional<std::string>> saved;
    if (auto it = loop_vars_.find(n.name); it != loop_vars_.end()) saved = it->second;
    Flow result = Flow::kNext;
    for (const Field& v : values) {
      Flow f;
      if (Known(v)) {
        loop_vars_[n.name] = v.text;
        f = Walk(n.children[0]);
      } else {
        loop_vars_[n.name] = std::nullopt;
        std::vector<SetupCondition> matches;
        std::optional<std::string> pattern = NormaliseSetupPath(v.text);
        if (v.literal && v.glob && pattern) {
          matches.push_back({SetupCondition::Kind::kPath, *pattern, true, ++shared_.tests});
        }
        f = WithConditions(matches, [&] { return WalkConditional(n.children[0]); });
      }
      if (f != Flow::kNext) {
        result = f;
        break;
      }
    }
    loop_vars_.erase(n.name);
    if (saved) loop_vars_[n.name] = *saved;
    unstable_.insert(n.name);  // after the loop: its last value, not followed
    return result;
  }

  // A case on a literal word takes the first matching branch; otherwise every branch may run.
  Flow WalkCase(const Node& n) {
    Field subject = ExpandOne(n.words[0]);
    if (subject.literal) {
      for (size_t b = 0; b < n.patterns.size(); ++b) {
        bool decided = true;
        for (const Word& p : n.patterns[b]) {
          Field pattern = ExpandOne(p, /*pattern=*/true);
          if (!pattern.literal) {
            decided = false;
            break;
          }
          if (GlobMatch(pattern.text, subject.text)) {
            return Walk(n.children[b]);
          }
        }
        if (!decided) break;
        if (b + 1 == n.patterns.size()) return Flow::kNext;  // no branch matches
      }
      if (n.patterns.empty()) return Flow::kNext;
    }
    for (const Node& body : n.children) {
      if (WalkConditional(body) == Flow::kStop) return Flow::kStop;
    }
    return Flow::kNext;
  }

  Flow WalkCommand(const Command& c, bool choose = true) {
    if (choose) {
      if (std::vector<size_t> used = ChoicesUsed(c); !used.empty()) return WalkChoices(c, used);
    }
    if (++shared_.steps > kMaxSteps) {
      if (!shared_.budget_reported) {
        shared_.budget_reported = true;
        List(c.begin, "(the script runs too many commands to be read in full: the rest was not)");
      }
      return Flow::kStop;
    }
    std::vector<Field> fields;
    for (const Word& w : c.words) {
      for (Field& f : Expand(w)) fields.push_back(std::move(f));
    }
    if (std::optional<SetupAction> file = FileWrite(c, fields)) {
      Emit(std::move(*file), c);
      return Flow::kNext;
    }
    std::string writes = WrittenFile(c);
    // A log of what ran, or a temporary file: nothing the image needs.
    if (writes.starts_with("/var/log/") || writes.starts_with("/tmp/")) writes.clear();
    if (fields.empty()) {
      if (c.words.empty()) {
        for (const Word& a : c.assignments) {
          const std::string& first = a.parts[0].text;
          Assign(first.substr(0, first.find('=')), ExpandOne(ValueOf(a)));
        }
      }
      if (!writes.empty()) ListCommand(c, writes);
      return Flow::kNext;
    }
    Flow f = Dispatch(c, fields, 0);
    if (!writes.empty()) ListCommand(c, writes);
    return f;
  }

  // A file written whole with known content: `> F`, `: > F`, `cat > F << EOF` (a literal
  // here-document), `cat /dev/null > F`, `echo WORDS > F`.
  std::optional<SetupAction> FileWrite(const Command& c, const std::vector<Field>& fields) const {
    const Redirect* out = nullptr;
    const Redirect* heredoc = nullptr;
    for (const Redirect& r : c.redirects) {
      if (r.op == "<<" || r.op == "<<-") {
        heredoc = &r;
        continue;
      }
      if (r.op == "<" || r.op == "<&" || r.op == "<<<") return std::nullopt;
      Field target = ExpandOne(r.target);
      if (r.op == ">&" && (IsDigits(target.text) || target.text == "-")) continue;
      if (target.text == "/dev/null") continue;
      if (out || (r.op != ">" && r.op != ">|")) return std::nullopt;
      out = &r;
    }
    if (!out || !c.assignments.empty()) return std::nullopt;
    Field target = ExpandOne(out->target);
    std::optional<std::string> path =
        Known(target) ? NormaliseSetupPath(target.text) : std::nullopt;
    if (!path) return std::nullopt;
    std::string content;
    std::string name = fields.empty() ? "" : fields[0].text;
    if (!std::all_of(fields.begin(), fields.end(), Known)) return std::nullopt;
    if (fields.empty() || ((name == ":" || name == "true") && fields.size() == 1)) {
      if (heredoc) return std::nullopt;
    } else if (name == "cat" && fields.size() == 2 && fields[1].text == "/dev/null") {
      if (heredoc) return std::nullopt;
    } else if (name == "cat" &&
               (fields.size() == 1 || (fields.size() == 2 && fields[1].text == "-"))) {
      if (!heredoc || (heredoc->heredoc_expanded &&
                       heredoc->heredoc.find_first_of("$`\\") != std::string::npos)) {
        return std::nullopt;
      }
      content = heredoc->heredoc;
    } else if (name == "echo" && (fields.size() == 1 || !fields[1].text.starts_with("-"))) {
      for (size_t i = 1; i < fields.size(); ++i) content += (i > 1 ? " " : "") + fields[i].text;
      content += '\n';
    } else {
      return std::nullopt;
    }
    SetupAction file;
    file.kind = SetupAction::Kind::kFile;
    file.path = *path;
    file.content = std::move(content);
    return file;
  }

  // The file an output redirection of `c` writes ("" when none, or only /dev/null or a
  // descriptor).
  std::string WrittenFile(const Command& c) const {
    for (const Redirect& r : c.redirects) {
      if (r.op != ">" && r.op != ">>" && r.op != ">|" && r.op != "&>" && r.op != "&>>" &&
          r.op != "<>" && r.op != ">&") {
        continue;
      }
      Field target = ExpandOne(r.target);
      if (target.temp) continue;
      if (r.op == ">&" && (IsDigits(target.text) || target.text == "-")) continue;
      if (target.text == "/dev/null" || target.text == "/dev/stdout" ||
          target.text == "/dev/stderr" || target.text == "/dev/tty") {
        continue;
      }
      return target.text.empty() ? "?" : target.text;
    }
    return "";
  }

  // Runs the command `fields[first..]` (a prefix such as `command` or `runuser -u X --` before).
  Flow Dispatch(const Command& c, const std::vector<Field>& fields, size_t first) {
    if (first >= fields.size()) return Flow::kNext;
    const Field& cmd = fields[first];
    std::vector<Field> args(fields.begin() + first + 1, fields.end());
    // Byte-compiling Python modules (`python3.11 .../py_compile.py $files`): caches.
    if (std::any_of(fields.begin() + first, fields.end(), [](const Field& f) {
          return f.text.ends_with("/py_compile.py") || f.text.ends_with("/compileall.py");
        })) {
      return Flow::kNext;
    }
    if (!Known(cmd)) {
      if (first == 0 && !c.words.empty() && HarmlessWhatever(c.words[0])) return Flow::kNext;
      ListCommand(c);
      return Flow::kNext;
    }
    if (auto it = functions_.find(cmd.text); it != functions_.end()) {
      return Call(*it->second, std::move(args));
    }
    std::string name = BaseNameOf(cmd.text);
    if (name == "exit") return conditional_ == 0 ? Flow::kExit : Flow::kNext;
    if (name == "return") {
      return call_depth_ > 0 && conditional_ == function_conditional_ ? Flow::kReturn : Flow::kNext;
    }
    if (name == "local" || name == "export" || name == "readonly" || name == "declare" ||
        name == "typeset") {
      for (const Field& a : args) {
        size_t eq = a.text.find('=');
        if (eq != std::string::npos && !a.text.starts_with("-")) {
          Assign(a.text.substr(0, eq), Field{a.text.substr(eq + 1), a.literal});
        }
      }
      return Flow::kNext;
    }
    if (name == "set") {
      if (!args.empty() && args[0].text == "--") {
        if (conditional_ == 0 || call_depth_ > 0) {
          positional_ = std::vector<Field>(args.begin() + 1, args.end());
        } else {
          positional_.reset();
        }
      }
      return Flow::kNext;
    }
    if (name == "shift") {
      if (positional_ && !positional_->empty()) positional_->erase(positional_->begin());
      return Flow::kNext;
    }
    if (name == "unset") return Flow::kNext;
    if (name == "command") {
      size_t next = first + 1;
      while (next < fields.size() && fields[next].text == "-p") ++next;
      if (next < fields.size() && (fields[next].text == "-v" || fields[next].text == "-V")) {
        return Flow::kNext;
      }
      return Dispatch(c, fields, next);
    }
    if (name == "env" || name == "nohup" || name == "nice") {  // run the command that follows
      size_t next = first + 1;
      while (next < fields.size() &&
             (fields[next].text.starts_with("-") ||
              (name == "env" && fields[next].text.find('=') != std::string::npos))) {
        if (name == "nice" && fields[next].text == "-n") ++next;
        ++next;
      }
      return Dispatch(c, fields, next);
    }
    if (name == "update-alternatives") {
      // The link is made declaratively (image/alternatives.h); the arguments after the known
      // ones are `--slave` parts, which are not used.
      std::vector<std::string> known;
      for (const Field& a : args) {
        if (!Known(a)) break;
        known.push_back(a.text);
      }
      std::optional<Alternative> alt = AlternativeOfInstall(known);
      auto& all = shared_.out->alternatives;
      if (alt && std::find(all.begin(), all.end(), *alt) == all.end()) all.push_back(*alt);
      return Flow::kNext;
    }
    if (IsHarmless(name)) {
      if (ChangesFiles(name, args)) ListCommand(c);
      return Flow::kNext;
    }
    if ((name == "dpkg" || name == "dpkg-divert") && IsQuery(name, args)) return Flow::kNext;
    if (name == "sh" || name == "dash" || name == "bash" || name == "su" || name == "runuser") {
      return Nested(c, name, fields, first);
    }
    // Changing a temporary file (`chmod 644 $TMP`, TMP=$(mktemp)) changes nothing of the image.
    static const std::set<std::string_view> kChangesItsOperands = {"chmod", "chown", "chgrp",
                                                                   "touch"};
    if (kChangesItsOperands.contains(name) && !args.empty() && args.back().temp &&
        std::all_of(args.begin(), args.end(), [](const Field& a) { return Known(a) || a.temp; })) {
      return Flow::kNext;
    }
    std::vector<std::string> words;
    for (const Field& a : args) {
      if (!Known(a)) {
        ListCommand(c);
        return Flow::kNext;
      }
      words.push_back(a.text);
    }
    std::vector<SetupAction> actions;
    if (!Understand(name, words, actions)) {
      ListCommand(c);
      return Flow::kNext;
    }
    for (SetupAction& a : actions) Emit(std::move(a), c);
    return Flow::kNext;
  }

  // Whether a command name that is not known is harmless whatever it turns out to be: a variable
  // whose every assignment is a harmless command (`$do_copy`, do_copy=true / do_copy=false), or
  // `${NAME:+WORD}` (nothing, or WORD) where WORD starts with a harmless command.
  bool HarmlessWhatever(const Word& w) const {
    if (w.parts.size() != 1) return false;
    const Part& p = w.parts[0];
    if (p.kind == Part::Kind::kParam) {
      auto it = sites_.find(p.text);
      if (it == sites_.end()) return false;
      return std::all_of(it->second.begin(), it->second.end(), [](const std::string& raw) {
        std::string_view v = raw;
        if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0]) {
          v = v.substr(1, v.size() - 2);
        }
        return v.find_first_not_of("abcdefghijklmnopqrstuvwxyz:") == std::string_view::npos &&
               IsHarmless(v);
      });
    }
    if (p.kind != Part::Kind::kOpaque || !p.text.starts_with("${") || !p.text.ends_with("}")) {
      return false;
    }
    std::string_view inner = std::string_view(p.text).substr(2, p.text.size() - 3);
    size_t name_end = 0;
    while (name_end < inner.size() && IsNameChar(inner[name_end])) ++name_end;
    std::string_view rest = inner.substr(name_end);
    if (name_end == 0 || !(rest.starts_with(":+") || rest.starts_with("+"))) return false;
    rest.remove_prefix(rest[0] == ':' ? 2 : 1);
    size_t start = std::min(rest.find_first_not_of(" \t"), rest.size());
    rest.remove_prefix(start);
    std::string_view command = rest.substr(0, std::min(rest.find_first_of(" \t"), rest.size()));
    return !command.empty() && IsHarmless(BaseNameOf(command));
  }

  Flow Call(const Node& body, std::vector<Field> args) {
    if (call_depth_ >= kMaxCallDepth) return Flow::kNext;
    std::optional<std::vector<Field>> saved = std::move(positional_);
    positional_ = std::move(args);
    size_t saved_conditional = function_conditional_;
    function_conditional_ = conditional_;
    ++call_depth_;
    Flow f = Walk(body);
    --call_depth_;
    function_conditional_ = saved_conditional;
    positional_ = std::move(saved);
    return f == Flow::kReturn ? Flow::kNext : f;
  }

  // `sh -c SCRIPT`, `su USER -c SCRIPT`, `runuser -u USER -- COMMAND`: the script or command is
  // read too (a script file, or a script that is not literal, is listed).
  Flow Nested(const Command& c, const std::string& name, const std::vector<Field>& fields,
              size_t first) {
    std::optional<Field> script;
    std::vector<Field> script_args;
    size_t i = first + 1;
    if (name == "runuser") {
      for (; i < fields.size(); ++i) {
        const std::string& a = fields[i].text;
        if (a == "--") return Dispatch(c, fields, i + 1);
        if (a == "-u" || a == "--user" || a == "-g" || a == "--group" || a == "-G") {
          ++i;
        } else if (a == "-c" || a == "--command") {
          if (i + 1 < fields.size()) script = fields[i + 1];
          break;
        }
      }
    } else if (name == "su") {
      for (; i < fields.size(); ++i) {
        const std::string& a = fields[i].text;
        if (a == "-c" || a == "--command") {
          if (i + 1 < fields.size()) script = fields[i + 1];
          break;
        }
        if (a == "-s" || a == "--shell" || a == "-g" || a == "--group" || a == "-G" ||
            a == "--supp-group" || a == "-w") {
          ++i;
        }
      }
    } else {
      for (; i < fields.size(); ++i) {
        const std::string& a = fields[i].text;
        if (a == "-c") {
          if (i + 1 < fields.size()) script = fields[i + 1];
          // sh -c SCRIPT NAME ARGS...: $0 is NAME, $1... the ARGS.
          for (size_t k = i + 3; k < fields.size(); ++k) script_args.push_back(fields[k]);
          break;
        }
        if (!a.starts_with("-") && !a.starts_with("+")) break;  // a script file
      }
    }
    if (!script || !Known(*script) || nesting_ >= kMaxNestedScripts) {
      ListCommand(c);
      return Flow::kNext;
    }
    Walker nested(script->text, shared_, nesting_ + 1, LineAt(c.begin));
    nested.SetPositional(std::move(script_args));
    nested.Run();
    return Flow::kNext;
  }

  // --- the commands understood ---

  bool Understand(const std::string& name, const std::vector<std::string>& args,
                  std::vector<SetupAction>& out) {
    if (name == "adduser") return AddUser(args, false, out);
    if (name == "addgroup") return AddUser(args, true, out);
    if (name == "useradd") return UserAdd(args, out);
    if (name == "groupadd") return GroupAdd(args, out);
    if (name == "usermod") return UserMod(args, out);
    if (name == "gpasswd") return GPasswd(args, out);
    if (name == "mkdir") return MakeDir(args, out);
    if (name == "install") return Install(args, out);
    if (name == "cp") return Copy(args, out);
    if (name == "ucf") return Ucf(args, out);
    if (name == "chown") return Chown(args, false, out);
    if (name == "chgrp") return Chown(args, true, out);
    if (name == "chmod") return Chmod(args, out);
    if (name == "ln") return Link(args, out);
    if (name == "touch") return Touch(args, out);
    if (name == "dpkg-statoverride") return StatOverride(args, out);
    return false;
  }

  static SetupAction Group(std::string name, bool system, std::optional<uint32_t> id) {
    SetupAction a;
    a.kind = SetupAction::Kind::kGroup;
    a.name = std::move(name);
    a.system = system;
    a.id = id;
    return a;
  }
  static SetupAction Member(std::string user, std::string group) {
    SetupAction a;
    a.kind = SetupAction::Kind::kMember;
    a.name = std::move(user);
    a.group = std::move(group);
    return a;
  }
  static SetupAction PathAction(SetupAction::Kind kind, std::string path) {
    SetupAction a;
    a.kind = kind;
    a.path = std::move(path);
    return a;
  }

  static std::optional<uint32_t> ParseId(std::string_view s) {
    if (!IsDigits(s) || s.size() > 9) return std::nullopt;
    return static_cast<uint32_t>(std::stoul(std::string(s)));
  }

  // adduser and addgroup (Debian's adduser 3.x): system users and groups, and `adduser USER
  // GROUP` memberships.
  static bool AddUser(const std::vector<std::string>& args, bool addgroup,
                      std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"system", {"--system"}},
        {"group", {"--group"}},
        {"ingroup", {"--ingroup"}, Arg::kRequired},
        {"gid", {"--gid"}, Arg::kRequired},
        {"uid", {"--uid"}, Arg::kRequired},
        {"home", {"--home"}, Arg::kRequired},
        {"shell", {"--shell"}, Arg::kRequired},
        {"no-create-home", {"--no-create-home"}},
        {"gecos", {"--gecos", "--comment"}, Arg::kRequired},
        {"range", {"--firstuid", "--lastuid", "--firstgid", "--lastgid"}, Arg::kRequired},
        {"conf", {"--conf", "-c"}, Arg::kRequired},
        {"ignored",
         {"--disabled-password", "--disabled-login", "--quiet", "-q", "--force-badname",
          "--allow-badname", "--allow-all-names", "--debug", "--verbose", "-v",
          "--add-extra-groups", "--add_extra_groups", "--encrypt-home", "--no-preserve-home"}}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || p->Has("conf") || p->operands.empty() || p->operands.size() > 2) return false;
    for (const std::string& name : p->operands) {
      if (!IsValidAccountName(name)) return false;
    }
    bool system = p->Has("system");
    bool group_mode = addgroup || (p->Has("group") && !system);
    if (p->operands.size() == 2) {  // adduser USER GROUP
      if (system || p->Has("group") || p->Has("ingroup") || p->Has("gid") || p->Has("uid") ||
          p->Has("home")) {
        return false;
      }
      out.push_back(Member(p->operands[0], p->operands[1]));
      return true;
    }
    const std::string& name = p->operands[0];
    std::optional<uint32_t> gid, uid;
    if (auto v = p->Value("gid")) {
      if (!(gid = ParseId(*v))) return false;
    }
    if (auto v = p->Value("uid")) {
      if (!(uid = ParseId(*v))) return false;
    }
    if (group_mode) {
      if (p->Has("ingroup") || p->Has("home") || p->Has("shell") || uid) return false;
      out.push_back(Group(name, system, gid));
      return true;
    }
    SetupAction user;
    user.kind = SetupAction::Kind::kUser;
    user.name = name;
    user.system = system;
    user.id = uid;
    if (auto g = p->Value("ingroup")) {
      if (!IsValidAccountName(*g) || gid) return false;
      user.group = *g;
    } else if (gid && !p->Has("group")) {
      user.group = std::to_string(*gid);
    } else if (p->Has("group") || !system) {  // a group of its own (non-system: USERGROUPS=yes)
      out.push_back(Group(name, system, gid));
      user.group = name;
    }
    std::optional<std::string> home = system ? "/nonexistent" : "/home/" + name;
    if (auto h = p->Value("home")) home = NormaliseSetupPath(*h);
    if (!home || !IsSafeField(*home)) return false;
    user.home = *home;
    user.create_home = !p->Has("no-create-home") && user.home != "/nonexistent" &&
                       !user.home.starts_with("/nonexistent/");
    if (auto s = p->Value("shell")) {
      if (!s->starts_with("/") || !IsSafeField(*s)) return false;
      user.shell = *s;
    }
    if (auto g = p->Value("gecos")) {
      if (!IsSafeField(*g)) return false;
      user.gecos = *g;
    }
    out.push_back(std::move(user));
    return true;
  }

  // useradd (shadow): as Debian's login.defs has it, a group of the user's name unless -g or -N,
  // no home directory unless -m.
  static bool UserAdd(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"system", {"-r", "--system"}},
        {"home", {"-d", "--home-dir", "--home"}, Arg::kRequired},
        {"base", {"-b", "--base-dir"}, Arg::kRequired},
        {"create-home", {"-m", "--create-home"}},
        {"no-create-home", {"-M", "--no-create-home"}},
        {"shell", {"-s", "--shell"}, Arg::kRequired},
        {"gid", {"-g", "--gid"}, Arg::kRequired},
        {"groups", {"-G", "--groups"}, Arg::kRequired},
        {"uid", {"-u", "--uid"}, Arg::kRequired},
        {"user-group", {"-U", "--user-group"}},
        {"no-user-group", {"-N", "--no-user-group"}},
        {"comment", {"-c", "--comment"}, Arg::kRequired},
        {"ignored", {"-o", "--non-unique", "-l", "--no-log-init"}},
        {"ignored-value",
         {"-K", "--key", "-f", "--inactive", "-e", "--expiredate", "-p", "--password", "-k",
          "--skel"},
         Arg::kRequired}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || p->operands.size() != 1 || !IsValidAccountName(p->operands[0])) return false;
    const std::string& name = p->operands[0];
    SetupAction user;
    user.kind = SetupAction::Kind::kUser;
    user.name = name;
    user.system = p->Has("system");
    if (auto v = p->Value("uid")) {
      if (!(user.id = ParseId(*v))) return false;
    }
    std::vector<SetupAction> groups;
    if (auto g = p->Value("gid")) {
      if (!IsOwnerName(*g)) return false;
      user.group = *g;
    } else if (p->Has("no-user-group")) {
      user.group = "users";
    } else {
      groups.push_back(Group(name, user.system, std::nullopt));
      user.group = name;
    }
    std::optional<std::string> home =
        p->Value("home") ? NormaliseSetupPath(*p->Value("home"))
                         : NormaliseSetupPath(p->Value("base").value_or("/home") + "/" + name);
    if (!home || !IsSafeField(*home)) return false;
    user.home = *home;
    user.create_home = p->Has("create-home");
    if (auto s = p->Value("shell")) {
      if (!s->starts_with("/") || !IsSafeField(*s)) return false;
      user.shell = *s;
    }
    if (auto g = p->Value("comment")) {
      if (!IsSafeField(*g)) return false;
      user.gecos = *g;
    }
    std::vector<SetupAction> members;
    if (auto list = p->Value("groups")) {
      for (size_t i = 0; i <= list->size();) {
        size_t end = std::min(list->find(',', i), list->size());
        std::string g = list->substr(i, end - i);
        if (!IsValidAccountName(g)) return false;
        members.push_back(Member(name, g));
        i = end + 1;
      }
    }
    for (SetupAction& g : groups) out.push_back(std::move(g));
    out.push_back(std::move(user));
    for (SetupAction& m : members) out.push_back(std::move(m));
    return true;
  }

  static bool GroupAdd(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"system", {"-r", "--system"}},
        {"gid", {"-g", "--gid"}, Arg::kRequired},
        {"ignored", {"-f", "--force", "-o", "--non-unique"}},
        {"ignored-value", {"-K", "--key", "-p", "--password"}, Arg::kRequired}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || p->operands.size() != 1 || !IsValidAccountName(p->operands[0])) return false;
    std::optional<uint32_t> gid;
    if (auto v = p->Value("gid")) {
      if (!(gid = ParseId(*v))) return false;
    }
    out.push_back(Group(p->operands[0], p->Has("system"), gid));
    return true;
  }

  static bool AddMembers(const std::string& user, const std::string& list,
                         std::vector<SetupAction>& out) {
    if (!IsValidAccountName(user)) return false;
    for (size_t i = 0; i <= list.size();) {
      size_t end = std::min(list.find(',', i), list.size());
      std::string g = list.substr(i, end - i);
      if (!IsValidAccountName(g)) return false;
      out.push_back(Member(user, g));
      i = end + 1;
    }
    return true;
  }

  // usermod -a -G GROUPS USER: memberships only.
  static bool UserMod(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {{"append", {"-a", "--append"}},
                                                  {"groups", {"-G", "--groups"}, Arg::kRequired}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || !p->Has("append") || !p->Value("groups") || p->operands.size() != 1) return false;
    return AddMembers(p->operands[0], *p->Value("groups"), out);
  }

  // gpasswd -a USER GROUP.
  static bool GPasswd(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {{"add", {"-a", "--add"}, Arg::kRequired},
                                                  {"ignored", {"-Q", "--root"}, Arg::kRequired}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || p->Has("ignored") || !p->Value("add") || p->operands.size() != 1 ||
        !IsValidAccountName(p->operands[0])) {
      return false;
    }
    std::string user = *p->Value("add");
    if (!IsValidAccountName(user)) return false;
    out.push_back(Member(user, p->operands[0]));
    return true;
  }

  static bool Paths(const std::vector<std::string>& in, std::vector<std::string>& out) {
    for (const std::string& p : in) {
      std::optional<std::string> path = NormaliseSetupPath(p);
      if (!path) return false;
      out.push_back(*path);
    }
    return !out.empty();
  }

  // A mode for mkdir -m / install -m: octal, or symbolic from a=rwx as GNU applies it there.
  static std::optional<uint32_t> CreationMode(const std::string& text) {
    if (std::optional<uint32_t> m = ParseOctalMode(text)) return m;
    return ApplySymbolicMode(text, 0777, true);
  }

  static bool MakeDir(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {{"parents", {"-p", "--parents"}},
                                                  {"mode", {"-m", "--mode"}, Arg::kRequired},
                                                  {"ignored", {"-v", "--verbose", "-Z"}},
                                                  {"context", {"--context"}, Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    std::vector<std::string> paths;
    if (!p || !Paths(p->operands, paths)) return false;
    std::optional<uint32_t> mode;
    if (auto m = p->Value("mode")) {
      if (!(mode = CreationMode(*m))) return false;
    }
    for (std::string& path : paths) {
      SetupAction a = PathAction(SetupAction::Kind::kDir, std::move(path));
      a.mode = mode;
      out.push_back(std::move(a));
    }
    return true;
  }

  static bool OwnerSpec(const ParsedArgs& p, std::string& user, std::string& group) {
    if (auto o = p.Value("owner")) {
      if (!IsOwnerName(*o)) return false;
      user = *o;
    }
    if (auto g = p.Value("group")) {
      if (!IsOwnerName(*g)) return false;
      group = *g;
    }
    return true;
  }

  // Where each of `sources` goes when copied or linked as `cp`/`ln` do: with -t DIR, or more
  // than two operands, into the directory (named after each source); with two, to the second
  // operand (into it when written with a trailing '/'). nullopt when the operands say nothing
  // usable; `sources` is left with the sources.
  static std::optional<std::vector<std::string>> Destinations(const ParsedArgs& p,
                                                              std::vector<std::string>& sources) {
    std::optional<std::string> dir = p.Value("target-directory");
    if (!dir && sources.size() > 2 && !p.Has("no-target-directory")) {
      dir = sources.back();
      sources.pop_back();
    }
    std::vector<std::string> dests;
    if (dir) {
      std::optional<std::string> d = NormaliseSetupPath(*dir);
      if (!d) return std::nullopt;
      for (const std::string& s : sources) dests.push_back(JoinPath(*d, BaseNameOf(s)));
    } else if (sources.size() == 2) {
      std::string dest = sources[1];
      if (dest.ends_with("/") && !p.Has("no-target-directory")) {
        dest = JoinPath(dest, BaseNameOf(sources[0]));
      }
      std::optional<std::string> d = NormaliseSetupPath(dest);
      if (!d) return std::nullopt;
      dests.push_back(*d);
      sources.resize(1);
    } else {
      return std::nullopt;
    }
    if (sources.empty() || dests.size() != sources.size()) return std::nullopt;
    return dests;
  }

  // Copies SRC... to DEST, as cp/install/ucf do; `copy` has the mode and owner to give.
  static bool Copies(const ParsedArgs& p, const SetupAction& copy, std::vector<SetupAction>& out) {
    std::vector<std::string> sources = p.operands;
    std::optional<std::vector<std::string>> dests = Destinations(p, sources);
    if (!dests) return false;
    for (size_t i = 0; i < sources.size(); ++i) {
      std::optional<std::string> src = NormaliseSetupPath(sources[i]);
      if (!src) return false;
      SetupAction a = copy;
      a.kind = SetupAction::Kind::kCopy;
      a.path = (*dests)[i];
      a.target = *src;
      if (*src == "/dev/null") {  // the idiom for an empty file
        a.kind = SetupAction::Kind::kFile;
        a.target.clear();
        a.recursive = false;
      }
      out.push_back(std::move(a));
    }
    return true;
  }

  // install -d DIRS (made, then given the owner and mode), or install SRC DEST (copied, 0755
  // unless -m).
  static bool Install(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"directory", {"-d", "--directory"}},
        {"mode", {"-m", "--mode"}, Arg::kRequired},
        {"owner", {"-o", "--owner"}, Arg::kRequired},
        {"group", {"-g", "--group"}, Arg::kRequired},
        {"target-directory", {"-t", "--target-directory"}, Arg::kRequired},
        {"no-target-directory", {"-T", "--no-target-directory"}},
        {"ignored",
         {"-p", "--preserve-timestamps", "-v", "--verbose", "-D", "-c", "-C", "--compare", "-Z",
          "-b"}},
        {"ignored-value", {"-S", "--suffix"}, Arg::kRequired},
        {"ignored-optional", {"--context", "--backup"}, Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p) return false;
    std::string user, group;
    if (!OwnerSpec(*p, user, group)) return false;
    std::optional<uint32_t> mode;
    if (auto m = p->Value("mode")) {
      if (!(mode = CreationMode(*m))) return false;
    }
    if (p->Has("directory")) {
      std::vector<std::string> paths;
      if (p->Has("target-directory") || !Paths(p->operands, paths)) return false;
      for (std::string& path : paths) {
        SetupAction dir = PathAction(SetupAction::Kind::kDir, path);
        dir.mode = mode;
        dir.user = user;
        dir.owner_group = group;
        out.push_back(dir);
        if (!user.empty() || !group.empty()) {
          SetupAction chown = PathAction(SetupAction::Kind::kChown, path);
          chown.user = user;
          chown.owner_group = group;
          out.push_back(std::move(chown));
        }
        if (mode) {
          SetupAction chmod = PathAction(SetupAction::Kind::kChmod, path);
          chmod.mode = mode;
          out.push_back(std::move(chmod));
        }
      }
      return true;
    }
    SetupAction copy;
    copy.mode = mode.value_or(0755);
    copy.user = user;
    copy.owner_group = group;
    return Copies(*p, copy, out);
  }

  static bool Copy(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"recursive", {"-r", "-R", "--recursive", "-a", "--archive"}},
        {"target-directory", {"-t", "--target-directory"}, Arg::kRequired},
        {"no-target-directory", {"-T", "--no-target-directory"}},
        {"ignored",
         {"-p", "-f", "--force", "-v", "--verbose", "-n", "--no-clobber", "-u", "-L",
          "--dereference", "-P", "--no-dereference", "-d", "-H", "--remove-destination", "-x",
          "--one-file-system", "-Z", "-b"}},
        {"ignored-value", {"-S", "--suffix"}, Arg::kRequired},
        {"ignored-optional",
         {"--preserve", "--no-preserve", "--update", "--sparse", "--reflink", "--context",
          "--backup"},
         Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p) return false;
    SetupAction copy;
    copy.recursive = p->Has("recursive");
    return Copies(*p, copy, out);
  }

  // ucf NEW DEST: on a fresh install it puts the package's version of a configuration file in
  // place. `ucf --purge DEST` forgets one: nothing to do.
  static bool Ucf(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"purge", {"-p", "--purge"}},
        {"no-action", {"-n", "--no-action"}},
        {"ignored", {"--debconf-ok", "--three-way", "-3", "-v", "--verbose", "-Z"}},
        {"ignored-value", {"--src-dir", "--sum-file", "--state-dir"}, Arg::kRequired},
        {"ignored-optional", {"-d", "--debug"}, Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p) return false;
    if (p->Has("purge") || p->Has("no-action")) return true;
    if (p->operands.size() != 2) return false;
    SetupAction copy;
    return Copies(*p, copy, out);
  }

  static const std::vector<OptionSpec>& OwnerOptions() {
    static const std::vector<OptionSpec> kSpec = {
        {"recursive", {"-R", "--recursive"}},
        {"ignored",
         {"-h", "--no-dereference", "--dereference", "-H", "-L", "-P", "-v", "--verbose", "-c",
          "--changes", "-f", "--silent", "--quiet", "--preserve-root", "--no-preserve-root"}}};
    return kSpec;
  }

  static bool Chown(const std::vector<std::string>& args, bool chgrp,
                    std::vector<SetupAction>& out) {
    std::optional<ParsedArgs> p = ParseArgs(args, OwnerOptions());
    if (!p || p->operands.size() < 2) return false;
    std::string spec = p->operands[0];
    std::string user, group;
    if (chgrp) {
      group = spec;
    } else {
      size_t sep = spec.find(':');
      if (sep == std::string::npos) sep = spec.find('.');  // the old user.group form
      user = spec.substr(0, sep);
      if (sep != std::string::npos) {
        group = spec.substr(sep + 1);
        if (group.empty()) return false;  // "user:": the user's login group, not followed
      }
    }
    if ((!user.empty() && !IsOwnerName(user)) || (!group.empty() && !IsOwnerName(group)) ||
        (user.empty() && group.empty())) {
      return false;
    }
    std::vector<std::string> paths;
    if (!Paths({p->operands.begin() + 1, p->operands.end()}, paths)) return false;
    for (std::string& path : paths) {
      SetupAction a = PathAction(SetupAction::Kind::kChown, std::move(path));
      a.user = user;
      a.owner_group = group;
      a.recursive = p->Has("recursive");
      out.push_back(std::move(a));
    }
    return true;
  }

  static bool Chmod(std::vector<std::string> args, std::vector<SetupAction>& out) {
    // A symbolic mode may look like an option ("-w", "-x"): chmod takes it as the mode.
    std::optional<std::string> dash_mode;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].size() > 1 && args[i][0] == '-' && args[i][1] != '-' &&
          args[i].find_first_not_of("rwxXst", 1) == std::string::npos && !dash_mode) {
        if (args[i] == "-v" || args[i] == "-c" || args[i] == "-f") continue;
        dash_mode = args[i];
        args.erase(args.begin() + i);
        break;
      }
    }
    std::optional<ParsedArgs> p = ParseArgs(args, OwnerOptions());
    if (!p) return false;
    std::vector<std::string> operands = p->operands;
    if (dash_mode) operands.insert(operands.begin(), *dash_mode);
    if (operands.size() < 2) return false;
    SetupAction chmod;
    chmod.kind = SetupAction::Kind::kChmod;
    chmod.recursive = p->Has("recursive");
    if (std::optional<uint32_t> m = ParseOctalMode(operands[0])) {
      chmod.mode = m;
    } else if (ApplySymbolicMode(operands[0], 0, false)) {
      chmod.symbolic_mode = operands[0];
    } else {
      return false;
    }
    std::vector<std::string> paths;
    if (!Paths({operands.begin() + 1, operands.end()}, paths)) return false;
    for (std::string& path : paths) {
      SetupAction a = chmod;
      a.path = std::move(path);
      out.push_back(std::move(a));
    }
    return true;
  }

  // ln -s TARGET LINK, ln -s TARGET... DIR, ln -s -t DIR TARGET...: symbolic links only.
  static bool Link(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"symbolic", {"-s", "--symbolic"}},
        {"relative", {"-r", "--relative"}},
        {"target-directory", {"-t", "--target-directory"}, Arg::kRequired},
        {"no-target-directory", {"-T", "--no-target-directory"}},
        {"ignored", {"-f", "--force", "-n", "--no-dereference", "-v", "--verbose", "-b"}},
        {"ignored-value", {"-S", "--suffix"}, Arg::kRequired},
        {"ignored-optional", {"--backup"}, Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || !p->Has("symbolic")) return false;
    std::vector<std::string> targets = p->operands;
    std::optional<std::vector<std::string>> dests = Destinations(*p, targets);
    if (!dests) return false;  // one operand: a link in the working directory
    const std::vector<std::string>& links = *dests;
    if (links.size() != targets.size() || targets.empty()) return false;
    for (size_t i = 0; i < targets.size(); ++i) {
      std::string target = targets[i];
      if (target.empty() || target.find('\0') != std::string::npos) return false;
      if (p->Has("relative")) {
        std::optional<std::string> absolute = NormaliseSetupPath(target);
        if (!absolute) return false;
        target = RelativeTarget(*absolute, links[i]);
      }
      SetupAction a = PathAction(SetupAction::Kind::kSymlink, links[i]);
      a.target = std::move(target);
      out.push_back(std::move(a));
    }
    return true;
  }

  // touch FILE...: empty files where nothing is.
  static bool Touch(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"ignored", {"-c", "--no-create", "-a", "-m", "-h", "--no-dereference"}},
        {"ignored-value", {"-d", "--date", "-r", "--reference", "-t"}, Arg::kRequired},
        {"ignored-optional", {"--time"}, Arg::kOptional}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    std::vector<std::string> paths;
    if (!p || !Paths(p->operands, paths)) return false;
    if (p->Has("ignored") && std::any_of(args.begin(), args.end(), [](const std::string& a) {
          return a == "-c" || a == "--no-create";
        })) {
      return true;  // changes times only
    }
    for (std::string& path : paths) out.push_back(PathAction(SetupAction::Kind::kFile, path));
    return true;
  }

  // dpkg-statoverride --add [--update] USER GROUP MODE PATH: the owner and mode dpkg gives the
  // path (now with --update, at every later unpack without): taken as what the path should be.
  static bool StatOverride(const std::vector<std::string>& args, std::vector<SetupAction>& out) {
    static const std::vector<OptionSpec> kSpec = {
        {"add", {"--add"}},
        {"query", {"--list", "--remove"}},
        {"ignored",
         {"--update", "--force", "--quiet", "--force-all", "--force-statoverride-add",
          "--force-statoverride-del", "--force-security-mac"}},
        {"ignored-value", {"--admindir"}, Arg::kRequired},
        {"root", {"--root", "--instdir"}, Arg::kRequired}};
    std::optional<ParsedArgs> p = ParseArgs(args, kSpec);
    if (!p || p->Has("root")) return false;
    if (p->Has("query") && !p->Has("add")) return true;
    if (!p->Has("add") || p->operands.size() != 4) return false;
    auto owner = [](std::string s) -> std::optional<std::string> {
      if (s.starts_with("#")) s.erase(0, 1);  // "#123": a numeric id
      return IsOwnerName(s) ? std::optional(s) : std::nullopt;
    };
    std::optional<std::string> user = owner(p->operands[0]), group = owner(p->operands[1]);
    std::optional<uint32_t> mode = ParseOctalMode(p->operands[2]);
    std::optional<std::string> path = NormaliseSetupPath(p->operands[3]);
    if (!user || !group || !mode || !path) return false;
    SetupCondition exists{SetupCondition::Kind::kPath, *path, true};
    SetupAction chown = PathAction(SetupAction::Kind::kChown, *path);
    chown.user = *user;
    chown.owner_group = *group;
    chown.when = {exists};
    out.push_back(std::move(chown));
    SetupAction chmod = PathAction(SetupAction::Kind::kChmod, *path);
    chmod.mode = mode;
    chmod.when = {exists};
    out.push_back(std::move(chmod));
    return true;
  }

  std::string_view script_;
  Shared& shared_;
  size_t nesting_;
  std::optional<size_t> fixed_line_;
  std::vector<size_t> newlines_;

  std::map<std::string, std::set<std::string>> sites_;  // each variable's assignments, as written
  std::set<std::string> temp_vars_;                     // variables holding a temporary file's name
  std::set<std::string> maybe_set_;  // variables last set by code that may not have run
  std::set<std::string> unstable_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::optional<std::string>> loop_vars_;
  // $1...: the script is read as `postinst configure` on a fresh install.
  // (mutable: the status of a function call is worked out with its arguments, see TestOf)
  mutable std::optional<std::vector<Field>> positional_ = std::vector<Field>{};
  mutable size_t status_depth_ = 0;
  std::map<std::string, const Node*> functions_;
  std::optional<std::string> input_;  // a here-document being read by `while read`
  std::vector<SetupCondition> when_;  // what the tests around the command being read need
  struct Choice {
    SetupCondition condition;  // the then side's
    std::map<std::string, std::string> then_values, else_values;
  };
  std::vector<Choice> choices_;
  std::map<std::string, size_t> chosen_by_;  // variables set by a choice: which
  size_t conditional_ = 0;
  size_t function_conditional_ = 0;
  size_t call_depth_ = 0;
};

// debhelper's dh_usrlocal section: the directories of /usr/local it makes, from the lines of its
// here-document ("DIR default" or "DIR MODE USER GROUP"), read without its shell loop. The
// section is blanked (newlines kept) so that the rest of the script keeps its line numbers.
void TakeUsrLocalSections(std::string& script, std::string_view origin_prefix, ParsedSetup& out) {
  constexpr std::string_view kStart = "# Automatically added by dh_usrlocal";
  constexpr std::string_view kEnd = "# End automatically added section";
  for (size_t start = script.find(kStart); start != std::string::npos;
       start = script.find(kStart, start)) {
    size_t end = script.find(kEnd, start);
    if (end == std::string::npos) return;
    end += kEnd.size();
    std::string_view section = std::string_view(script).substr(start, end - start);
    size_t data = section.find("<< DATA\n");
    if (data != std::string_view::npos) {
      for (const Line& data_line : Lines(section.substr(data + 8), {.strip_cr = false})) {
        std::string_view line = data_line.text;
        if (line == "DATA") break;
        std::vector<std::string_view> f;
        for (size_t i = 0; i < line.size();) {
          size_t e = std::min(line.find(' ', i), line.size());
          if (e > i) f.push_back(line.substr(i, e - i));
          i = e + 1;
        }
        std::optional<std::string> dir = f.empty() ? std::nullopt : NormaliseSetupPath(f[0]);
        std::string origin =
            std::string(origin_prefix) + ":" + std::to_string(LineNumberOf(script, line));
        SetupAction a;
        a.kind = SetupAction::Kind::kDir;
        a.origin = origin;
        if (dir && f.size() == 2 && f[1] == "default") {
          a.path = *dir;
          a.mode = 0755;
          out.actions.push_back(std::move(a));
        } else if (dir && f.size() == 4 && ParseOctalMode(f[1]) && IsOwnerName(f[2]) &&
                   IsOwnerName(f[3])) {
          a.path = *dir;
          a.mode = ParseOctalMode(f[1]);
          a.user = std::string(f[2]);
          a.owner_group = std::string(f[3]);
          out.actions.push_back(std::move(a));
        } else if (!line.empty()) {
          out.not_applied.push_back({origin, std::string(line)});
        }
      }
    }
    for (size_t i = start; i < end; ++i) {
      if (script[i] != '\n') script[i] = ' ';
    }
    start = end;
  }
}

}  // namespace

ParsedSetup ParseMaintainerScript(std::string_view script, std::string_view origin_prefix,
                                  const std::vector<std::string>& arguments) {
  ParsedSetup out;
  std::string text(script);
  TakeUsrLocalSections(text, origin_prefix, out);
  Shared shared;
  shared.out = &out;
  shared.origin_prefix = std::string(origin_prefix);
  Walker walker(text, shared, 0);
  std::vector<Field> positional;
  for (const std::string& a : arguments) positional.push_back(Field{a, true});
  walker.SetPositional(std::move(positional));
  if (!walker.Run()) {
    out.actions.clear();
    out.alternatives.clear();
  }
  if (shared.dropped > 0) {
    out.not_applied.push_back({std::string(origin_prefix),
                               "... and " + std::to_string(shared.dropped) + " more commands"});
  }
  return out;
}

}  // namespace hardbase::image
