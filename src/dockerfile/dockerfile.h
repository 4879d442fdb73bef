// A Dockerfile as BuildKit's frontend reads it (the Dockerfile reference, syntax 1.x): parser
// directives, comments, every instruction with its flags, exec (JSON) and shell forms, line
// continuations with the file's escape character, heredocs, ARG before the first FROM, stages.
//
// Parse and Print are inverses on the tree: Parse(Print(Parse(text))) == Parse(text). Print writes
// a canonical form (one instruction per line, continuations joined), not the original bytes.
// A Dockerfile is untrusted input: Parse bounds its size and reports the first problem with its
// line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::dockerfile {

// "--from=build" is {"from", "build"}; a flag without "=" ("--link") has an empty value and
// has_value false.
struct Flag {
  std::string name;
  std::string value;
  bool has_value = true;
  bool operator==(const Flag&) const = default;
};

// A here-document ("<<EOF", "<<-EOF", "<<'EOF'", "<<\"EOF\""): its body is the lines up to the
// delimiter, each with its newline; `strip_tabs` for "<<-" (leading tabs removed from the body),
// `expand` false when the delimiter was quoted.
//
// The body is what the here-document holds: the lines as written, their line endings ("\r\n"
// too) kept, and for "<<-" without the tabs that start each line. The delimiter is the marker's
// word with its quotes removed; a line is the delimiter's when it is that word once its line ending
// (and for "<<-" its leading tabs) is removed. As BuildKit, markers are found in RUN, COPY and ADD
// in shell form (and in ONBUILD's trigger, where they belong to the nested instruction).
struct Heredoc {
  std::string delimiter;
  std::string body;
  bool strip_tabs = false;
  bool expand = true;
  bool operator==(const Heredoc&) const = default;
};

struct Instruction {
  std::string keyword;      // upper case: "FROM", "RUN", "COPY", ...
  int line = 0;             // 1-based line of its first line in the file
  int end_line = 0;         // of its last line (continuations, heredoc bodies)
  std::vector<Flag> flags;  // "--name[=value]" before the arguments, in order
  // The arguments after the flags, continuations joined (the escape character and newline
  // removed, comment lines inside a continuation dropped), trimmed. For exec form, the JSON text.
  std::string text;
  bool exec_form = false;              // the arguments are a JSON array of strings ...
  std::vector<std::string> exec_args;  // ... these
  std::vector<Heredoc> heredocs;       // in the order their "<<" markers appear in `text`
  // ONBUILD's trigger, HEALTHCHECK's CMD: the nested instruction (one element), else empty.
  std::vector<Instruction> nested;
  std::vector<std::string> comments;  // comment lines just above it, without "#" and one space
  // (every comment line since the previous instruction, blank lines between them or not; none
  // inside a continuation, which are dropped; directives are not comments)

  // The whitespace-separated words of `text`, with Dockerfile quoting: "..." and '...' group,
  // the escape character escapes the next character. For FROM, COPY, ADD, EXPOSE, USER,
  // WORKDIR, VOLUME (shell form), STOPSIGNAL, MAINTAINER.
  // Quotes are removed (inside "..." the escape character escapes only '"', '$' and itself); "$"
  // variables stay as written; an unterminated quote runs to the end. In exec form: exec_args.
  std::vector<std::string> Words(char escape = '\\') const;
  // ENV, LABEL and ARG as key/value pairs, "k=v" words and the legacy "ENV k v w" form (one pair,
  // the value the rest). An ARG without "=" has no value (nullopt).
  // Keys and values are unquoted as Words does it, spaces inside a value kept ("ENV A='x  y'" is
  // {"A", "x  y"}); the words are split first as BuildKit's line parser does (quotes group).
  std::vector<std::pair<std::string, std::optional<std::string>>> KeyValues(
      char escape = '\\') const;
  // The flag's value, nullopt when the instruction does not have it (the first one when it is
  // given several times, as --mount and --exclude may be).
  std::optional<std::string> FlagValue(std::string_view name) const;

  bool operator==(const Instruction& other) const;  // the tree, not `line`/`end_line`
};

struct Directive {
  std::string name;  // lower case: "syntax", "escape", "check"
  std::string value;
  bool operator==(const Directive&) const = default;
};

struct Stage {
  size_t from = 0;       // index of its FROM in Dockerfile::instructions
  size_t end = 0;        // one past its last instruction
  std::string base;      // the image FROM names ("python:3.11-slim", "build", "scratch")
  std::string name;      // "AS name", lower case; "" without
  std::string platform;  // --platform
};

struct Dockerfile {
  std::vector<Directive> directives;
  char escape = '\\';
  std::vector<Instruction> instructions;       // in file order, ARGs before the first FROM included
  std::vector<std::string> trailing_comments;  // after the last instruction

  // The stages, in order (FROM to the next FROM).
  std::vector<Stage> Stages() const;
  bool operator==(const Dockerfile&) const = default;
};

// The size limits Parse enforces, on the text it reads and on the canonical text Print would write
// for it (so that whatever Parse accepts, Print writes text that Parse accepts).
inline constexpr size_t kMaxDockerfileBytes = size_t{4} << 20;
inline constexpr size_t kMaxLineBytes = size_t{1} << 20;  // a line without its newline

// kSpec "line N: ..." for an unknown instruction, a flag an instruction does not take, an
// unterminated heredoc or JSON array, an instruction before the first FROM other than ARG, a
// Dockerfile with no FROM, a file over 4 MiB or a line over 1 MiB.
//
// Also as BuildKit's parser and instruction reader reject them: a repeated or malformed parser
// directive (an escape other than '\\' or '`'), a JSON array of other than strings, SHELL not in
// JSON form, a wrong number of arguments (FROM one or "x AS name", USER/WORKDIR one, COPY/ADD two
// or more and a destination that is not a heredoc, ...), ENV/LABEL without "=", a bad stage name,
// flag values (--network, --security, HEALTHCHECK durations and --retries, bool flags), and ONBUILD
// ONBUILD/FROM/MAINTAINER. A JSON array that does not parse is shell form, as in BuildKit; only
// SHELL requires JSON. Unlike BuildKit, which ignores them, flags on ARG and STOPSIGNAL and unknown
// flags on HEALTHCHECK NONE are rejected, and ONBUILD's trigger is checked as an instruction of its
// own (BuildKit checks it when the trigger runs).
Result<Dockerfile> Parse(std::string_view text);

// The canonical text: directives, then each instruction on one line (comments above it), heredoc
// bodies after their instruction's line.
// A blank line follows the directives (and comes first when the first comment would read as one),
// and precedes every FROM but the first; comments are written "# text" ("#" when empty).
std::string Print(const Dockerfile& dockerfile);
// One instruction as Print writes it (without its comments and heredoc bodies), for a Dockerfile
// whose escape character is `escape`: keyword, flags (quoted where needed), "--" when the text
// would otherwise read as flags, the text.
std::string PrintInstruction(const Instruction& instruction, char escape = '\\');

}  // namespace hardbase::dockerfile
