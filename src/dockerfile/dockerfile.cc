// Parse follows BuildKit's two stages: parser.Parse (lines, directives, continuations, heredocs,
// the per-instruction line parsers) and instructions.Parse (flags and arguments checked per
// instruction). Print writes each instruction's stored text back on one line; the few places
// where that alone would read back differently are handled where they arise (see PrintInstruction).
#include "dockerfile/dockerfile.h"

#include <algorithm>
#include <array>
#include <span>
#include <utility>

#include "base/printable.h"
#include "base/strings.h"
#include "dockerfile/syntax.h"

namespace hardbase::dockerfile {
namespace {

namespace sx = syntax;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

constexpr std::array<std::string_view, 18> kKeywords = {
    "ADD",   "ARG",        "CMD", "COPY",  "ENTRYPOINT", "ENV",  "EXPOSE", "FROM",    "HEALTHCHECK",
    "LABEL", "MAINTAINER", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ONBUILD"};

// `s` for an error message: quoted, shown safely, at most 80 bytes of it.
std::string Quoted(std::string_view s) {
  constexpr size_t kShown = 80;
  std::string shown = Printable(s.substr(0, kShown));
  if (s.size() > kShown) shown += "...";
  return "\"" + shown + "\"";
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// " (did you mean X?)" for the candidate nearest to `word`, when one is near enough.
template <class Names>
std::string Suggestion(std::string_view word, const Names& candidates, std::string_view prefix) {
  if (word.size() > 32) return "";
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    size_t d = EditDistance(AsciiLower(word), AsciiLower(candidate), 2);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (best.empty()) return "";
  return " (did you mean " + std::string(prefix) + std::string(best) + "?)";
}

Result<void> Problem(std::string message) { return Fail(ErrorCode::kSpec, std::move(message)); }

// ---- Parser directives ----------------------------------------------------------------------

bool IsRegexSpace(char c) {  // Go's \s
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

// What BuildKit's DirectiveParser.ParseLine reads from one line (newline removed, leading space
// trimmed): "#", spaces, then ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ with a known name.
std::optional<Directive> MatchDirective(std::string_view line) {
  if (!line.starts_with('#')) return std::nullopt;
  std::string_view s = sx::TrimLeftGoSpace(line.substr(1));
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto alnum = [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); };
  if (s.empty() || !alpha(s[0])) return std::nullopt;
  size_t i = 1;
  while (i < s.size() && alnum(s[i])) ++i;
  std::string name = AsciiLower(s.substr(0, i));
  while (i < s.size() && IsRegexSpace(s[i])) ++i;
  if (i == s.size() || s[i] != '=') return std::nullopt;
  std::string_view after = s.substr(i + 1);
  if (after.empty()) return std::nullopt;
  size_t lead = 0;
  while (lead < after.size() && IsRegexSpace(after[lead])) ++lead;
  std::string_view value;
  if (lead == after.size()) {
    value = after.substr(after.size() - 1);  // (.+?) must take one character: the last space
  } else {
    value = after.substr(lead);
    while (IsRegexSpace(value.back())) value.remove_suffix(1);
  }
  if (name != "syntax" && name != "escape" && name != "check") return std::nullopt;
  return Directive{std::move(name), std::string(value)};
}

std::string DirectiveLine(const Directive& d) { return "# " + d.name + "=" + d.value; }

// ---- Comments -------------------------------------------------------------------------------

// The comment of a line that starts with '#' (leading space already trimmed).
std::string CommentText(std::string_view line) {
  std::string_view c = line.substr(1);
  if (c.starts_with(' ')) c.remove_prefix(1);
  return std::string(c);
}

std::string CommentLine(std::string_view comment) {
  if (comment.empty()) return "#";
  std::string out = "# ";
  for (char c : comment) {
    out += c;
    if (c == '\n') out += "# ";  // not from Parse: keeps a hand-made comment a comment
  }
  return out;
}

// ---- Flags ----------------------------------------------------------------------------------

enum class FlagType { kBool, kString, kStrings };
struct FlagSpec {
  std::string_view name;
  FlagType type;
};

constexpr FlagSpec kFromFlags[] = {{"platform", FlagType::kString}};
constexpr FlagSpec kRunFlags[] = {{"mount", FlagType::kStrings},
                                  {"network", FlagType::kString},
                                  {"security", FlagType::kString},
                                  {"device", FlagType::kStrings}};
constexpr FlagSpec kAddFlags[] = {
    {"chown", FlagType::kString},      {"chmod", FlagType::kString},    {"link", FlagType::kBool},
    {"keep-git-dir", FlagType::kBool}, {"checksum", FlagType::kString}, {"unpack", FlagType::kBool},
    {"exclude", FlagType::kStrings}};
constexpr FlagSpec kCopyFlags[] = {{"chown", FlagType::kString},    {"from", FlagType::kString},
                                   {"chmod", FlagType::kString},    {"link", FlagType::kBool},
                                   {"exclude", FlagType::kStrings}, {"parents", FlagType::kBool}};
constexpr FlagSpec kHealthcheckFlags[] = {{"interval", FlagType::kString},
                                          {"timeout", FlagType::kString},
                                          {"start-period", FlagType::kString},
                                          {"start-interval", FlagType::kString},
                                          {"retries", FlagType::kString}};

Flag ToFlag(std::string_view word) {
  word.remove_prefix(2);  // "--"
  Flag flag;
  size_t eq = word.find('=');
  flag.name = std::string(word.substr(0, eq));
  if (eq == std::string_view::npos) {
    flag.has_value = false;
  } else {
    flag.value = std::string(word.substr(eq + 1));
  }
  return flag;
}

// BuildKit's BFlags.Parse for the flags `specs` allows.
Result<void> CheckFlags(const Instruction& inst, std::span<const FlagSpec> specs) {
  std::vector<std::string_view> used;
  for (const Flag& flag : inst.flags) {
    const std::string shown = Quoted("--" + flag.name);
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const FlagSpec& s) { return s.name == flag.name; });
    if (spec == specs.end()) {
      std::vector<std::string_view> names;
      for (const FlagSpec& s : specs) names.push_back(s.name);
      return Problem(inst.keyword + ": unknown flag " + shown + Suggestion(flag.name, names, "--"));
    }
    if (spec->type != FlagType::kStrings) {  // at most one of each of these: `used` stays short
      if (std::find(used.begin(), used.end(), spec->name) != used.end()) {
        return Problem(inst.keyword + ": duplicate flag " + shown);
      }
      used.push_back(spec->name);
    }
    if (spec->type == FlagType::kBool) {
      if (flag.has_value && flag.value.empty()) {
        return Problem(inst.keyword + ": missing a value on flag " + shown);
      }
      std::string v = AsciiLower(flag.value);
      if (flag.has_value && v != "true" && v != "false") {
        return Problem(inst.keyword + ": expecting a boolean value for flag " + shown + ", not " +
                       Quoted(flag.value));
      }
    } else if (!flag.has_value) {
      return Problem(inst.keyword + ": missing a value on flag " + shown);
    }
  }
  return {};
}

// The fields of a --mount value, split at commas outside double quotes (go-csvvalue's reading).
std::vector<std::string> CsvFields(std::string_view s) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      if (quoted && i + 1 < s.size() && s[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// What runNetworkPostHook, runSecurityPostHook and parseMount (without an expander) check.
Result<void> CheckRunFlags(const Instruction& inst) {
  for (const Flag& flag : inst.flags) {
    if (flag.name == "network" && flag.value != "default" && flag.value != "none" &&
        flag.value != "host") {
      return Problem("RUN: invalid network mode " + Quoted(flag.value) +
                     " (default, none or host)");
    }
    if (flag.name == "security" && flag.value != "insecure" && flag.value != "sandbox") {
      return Problem("RUN: security " + Quoted(flag.value) + " is not valid (insecure or sandbox)");
    }
    if (flag.name == "mount") {
      for (const std::string& field : CsvFields(flag.value)) {
        size_t eq = field.find('=');
        if (eq == std::string::npos || AsciiLower(field.substr(0, eq)) != "from") continue;
        std::string_view value = std::string_view(field).substr(eq + 1);
        size_t dollar = value.find('$');
        if (dollar != std::string_view::npos && dollar + 1 != value.size()) {
          return Problem("RUN: --mount 'from' does not support variable expansion, define an " +
                         std::string("alias stage instead"));
        }
      }
    }
  }
  return {};
}

// parseOptInterval and the --retries check of parseHealthcheck.
Result<void> CheckHealthcheckFlags(const Instruction& inst) {
  for (const Flag& flag : inst.flags) {
    if (flag.value.empty()) continue;
    if (flag.name == "retries") {
      std::string_view v = flag.value;
      bool negative = false;
      if (v[0] == '+' || v[0] == '-') {
        negative = v[0] == '-';
        v.remove_prefix(1);
      }
      bool digits = !v.empty() &&
                    std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits)
        return Problem("HEALTHCHECK: --retries " + Quoted(flag.value) + " is not a number");
      v.remove_prefix(std::min(v.find_first_not_of('0'), v.size()));
      const std::string_view limit = negative ? "2147483648" : "2147483647";
      if (v.size() > limit.size() || (v.size() == limit.size() && v > limit)) {
        return Problem("HEALTHCHECK: --retries " + Quoted(flag.value) + " is out of range");
      }
      if (negative && !v.empty()) {
        return Problem("HEALTHCHECK: --retries cannot be negative (" + flag.value + ")");
      }
      continue;
    }
    std::string error;
    std::optional<int64_t> d = sx::ParseGoDuration(flag.value, &error);
    if (!d) return Problem("HEALTHCHECK: --" + flag.name + ": " + Printable(error));
    if (*d != 0 && *d < 1000 * 1000) {
      return Problem("HEALTHCHECK: --" + flag.name + " cannot be less than 1ms");
    }
  }
  return {};
}

// ---- Arguments ------------------------------------------------------------------------------

// Sets exec form when `inst.text` is a JSON array of strings (parseJSON); an array of anything
// else is an error.
Result<void> ReadJsonForm(Instruction& inst) {
  std::vector<std::string> args;
  switch (sx::ParseJsonArgs(inst.text, &args)) {
    case sx::JsonArgs::kNotJson:
      return {};
    case sx::JsonArgs::kNotStrings:
      return Problem(inst.keyword +
                     ": when using JSON array syntax, arrays must be comprised of strings only");
    case sx::JsonArgs::kStrings:
      inst.exec_form = true;
      inst.exec_args = std::move(args);
      return {};
  }
  return {};
}

// The arguments as BuildKit's parseMaybeJSONToList gives them to COPY, ADD and VOLUME: the JSON
// strings, else the text split at blanks (quotes do not group).
std::vector<std::string> ListArgs(const Instruction& inst) {
  if (inst.exec_form) return inst.exec_args;
  std::vector<std::string> out;
  for (std::string_view piece : sx::SplitBlank(inst.text)) out.emplace_back(piece);
  return out;
}

// The here-document markers of RUN, COPY and ADD in shell form; bodies are read by Parse.
Result<void> ReadHeredocMarkers(Instruction& inst) {
  if (inst.exec_form) return {};
  if (inst.keyword != "RUN" && inst.keyword != "COPY" && inst.keyword != "ADD") return {};
  sx::HeredocMarkers found = sx::FindHeredocs(inst.text);
  if (!found.error.empty()) return Problem(inst.keyword + ": " + found.error);
  for (auto& marker : found.markers) {
    Heredoc h;
    h.delimiter = std::move(marker.name);
    h.strip_tabs = marker.strip_tabs;
    h.expand = marker.expand;
    inst.heredocs.push_back(std::move(h));
  }
  return {};
}

// parseNameVal and parseKvps: ENV and LABEL.
Result<void> CheckKeyValues(const Instruction& inst, char escape) {
  std::vector<std::string> words = sx::LineWords(inst.text, escape);
  if (words.empty()) return Problem(inst.keyword + " requires at least one argument");
  if (words[0].find('=') == std::string::npos) {
    if (sx::SplitBlankOnce(inst.text).second.empty()) {
      return Problem(inst.keyword + " must have two arguments");
    }
    return {};
  }
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return Problem(inst.keyword + ": can't find = in " + Quoted(word) +
                     "; must be of the form: name=value");
    }
    if (eq == 0) return Problem(inst.keyword + " names can not be blank");
  }
  return {};
}

Result<Instruction> ParseInstructionLine(std::string_view line, char escape, bool trigger);

// instructions.Parse's checks for one instruction, and what its line parser reads from the text
// (exec form, heredoc markers, ONBUILD's and HEALTHCHECK's nested instruction).
Result<void> CheckInstruction(Instruction& inst, char escape) {
  const std::string& k = inst.keyword;
  const std::span<const FlagSpec> none;
  auto require_text = [&](std::string_view how) -> Result<void> {
    if (inst.text.empty()) return Problem(k + " requires " + std::string(how));
    return {};
  };
  if (k == "FROM") {
    HB_TRY_VOID(CheckFlags(inst, kFromFlags));
    std::vector<std::string_view> args = sx::SplitBlank(inst.text);
    const bool named = args.size() == 3 && EqualsIgnoreCase(args[1], "as");
    if (args.size() != 1 && !named) {
      return Problem("FROM requires either one or three arguments (image [AS name])");
    }
    if (named) {
      std::string name = AsciiLower(args[2]);
      bool valid =
          name[0] >= 'a' && name[0] <= 'z' && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   c == '.';
          });
      if (!valid) {
        return Problem("invalid name for build stage: " + Quoted(args[2]) +
                       ", name can't start with a number or contain symbols");
      }
    }
    return {};
  }
  if (k == "RUN") {
    HB_TRY_VOID(CheckFlags(inst, kRunFlags));
    HB_TRY_VOID(CheckRunFlags(inst));
    HB_TRY_VOID(ReadJsonForm(inst));
    return ReadHeredocMarkers(inst);
  }
  if (k == "CMD" || k == "ENTRYPOINT") {
    HB_TRY_VOID(CheckFlags(inst, none));
    return ReadJsonForm(inst);
  }
  if (k == "SHELL") {
    HB_TRY_VOID(CheckFlags(inst, none));
    HB_TRY_VOID(ReadJsonForm(inst));
    if (inst.text.empty() || (inst.exec_form && inst.exec_args.empty())) {
      return Problem("SHELL requires at least one argument");
    }
    if (!inst.exec_form) return Problem("SHELL requires the arguments to be in JSON form");
    return {};
  }
  if (k == "ENV" || k == "LABEL") {
    HB_TRY_VOID(CheckFlags(inst, none));
    return CheckKeyValues(inst, escape);
  }
  if (k == "ARG") {
    HB_TRY_VOID(CheckFlags(inst, none));
    std::vector<std::string> words = sx::LineWords(inst.text, escape);
    if (words.empty()) return Problem("ARG requires at least one argument");
    for (const std::string& word : words) {
      if (word.starts_with('=')) return Problem("ARG names can not be blank");
    }
    return {};
  }
  if (k == "MAINTAINER" || k == "USER" || k == "WORKDIR" || k == "STOPSIGNAL") {
    HB_TRY_VOID(CheckFlags(inst, none));
    return require_text("exactly one argument");
  }
  if (k == "EXPOSE") {
    HB_TRY_VOID(CheckFlags(inst, none));
    return require_text("at least one argument");
  }
  if (k == "VOLUME") {
    HB_TRY_VOID(CheckFlags(inst, none));
    HB_TRY_VOID(ReadJsonForm(inst));
    std::vector<std::string> args = ListArgs(inst);
    if (args.empty()) return Problem("VOLUME requires at least one argument");
    for (const std::string& arg : args) {
      if (sx::TrimGoSpace(arg).empty()) {
        return Problem("VOLUME specified can not be an empty string");
      }
    }
    return {};
  }
  if (k == "COPY" || k == "ADD") {
    HB_TRY_VOID(CheckFlags(inst, k == "COPY" ? std::span<const FlagSpec>(kCopyFlags)
                                             : std::span<const FlagSpec>(kAddFlags)));
    HB_TRY_VOID(ReadJsonForm(inst));
    std::vector<std::string> args = ListArgs(inst);
    if (args.size() < 2) {
      return Problem(k + " requires at least two arguments (sources and a destination)");
    }
    if (sx::ParseHeredocWord(args.back()).marker) {
      return Problem(k + " cannot accept a heredoc as a destination");
    }
    return ReadHeredocMarkers(inst);
  }
  if (k == "ONBUILD") {
    HB_TRY_VOID(CheckFlags(inst, none));
    HB_TRY_VOID(require_text("at least one argument"));
    HB_TRY(Instruction trigger, ParseInstructionLine(inst.text, escape, /*trigger=*/true));
    inst.nested.push_back(std::move(trigger));
    return {};
  }
  if (k == "HEALTHCHECK") {
    HB_TRY_VOID(require_text("at least one argument"));
    // The type is the text up to the first space byte (parseHealthConfig reads bytes).
    std::string_view text = inst.text;
    size_t sep = 0;
    while (sep < text.size() && !sx::IsLatin1Space(static_cast<unsigned char>(text[sep]))) ++sep;
    size_t next = sep;
    while (next < text.size() && sx::IsLatin1Space(static_cast<unsigned char>(text[next]))) ++next;
    const std::string type = AsciiUpper(text.substr(0, sep));
    HB_TRY_VOID(CheckFlags(inst, kHealthcheckFlags));
    if (type == "NONE") {
      if (next < text.size()) return Problem("HEALTHCHECK NONE takes no arguments");
      return {};
    }
    if (type != "CMD") {
      return Problem("HEALTHCHECK: unknown type " + Quoted(text.substr(0, sep)) + " (try CMD)");
    }
    HB_TRY_VOID(CheckHealthcheckFlags(inst));
    Instruction cmd;
    cmd.keyword = "CMD";
    cmd.text = std::string(text.substr(next));
    HB_TRY_VOID(ReadJsonForm(cmd));
    if (cmd.text.empty() || (cmd.exec_form && cmd.exec_args.empty())) {
      return Problem("HEALTHCHECK: missing command after HEALTHCHECK CMD");
    }
    inst.nested.push_back(std::move(cmd));
    return {};
  }
  return Problem("unknown instruction " + Quoted(k));  // not reached: keywords are checked first
}

// One instruction from its line, continuations joined (BuildKit's newNodeFromLine: splitCommand,
// then the instruction's line parser), checked. `trigger` for ONBUILD's.
Result<Instruction> ParseInstructionLine(std::string_view line, char escape, bool trigger) {
  line = sx::TrimGoSpace(line);
  auto [command, args] = sx::SplitBlankOnce(line);
  Instruction inst;
  inst.keyword = AsciiUpper(command);
  if (std::find(kKeywords.begin(), kKeywords.end(), inst.keyword) == kKeywords.end()) {
    return Fail(ErrorCode::kSpec,
                "unknown instruction " + Quoted(command) + Suggestion(command, kKeywords, ""));
  }
  if (trigger) {
    if (inst.keyword == "ONBUILD") {
      return Fail(ErrorCode::kSpec, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (inst.keyword == "FROM" || inst.keyword == "MAINTAINER") {
      return Fail(ErrorCode::kSpec, inst.keyword + " isn't allowed as an ONBUILD trigger");
    }
  }
  sx::Flags flags = sx::ExtractFlags(args, escape);
  for (const std::string& word : flags.words) inst.flags.push_back(ToFlag(word));
  inst.text = std::string(sx::TrimGoSpace(flags.rest));
  HB_TRY_VOID(CheckInstruction(inst, escape));
  return inst;
}

// ---- Printing -------------------------------------------------------------------------------

// A flag as one word that ExtractFlags reads back: "--name=value", or "--"name=value"" with '"'
// and the escape character escaped when it holds a space byte, a quote or the escape character.
std::string FlagWord(const Flag& flag, char escape) {
  std::string body = flag.name;
  if (flag.has_value) body += "=" + flag.value;
  bool plain = std::none_of(body.begin(), body.end(), [&](char c) {
    return sx::IsLatin1Space(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == escape;
  });
  if (plain) return "--" + body;
  std::string out = "--\"";
  for (char c : body) {
    if (c == '"' || c == escape) out += escape;
    out += c;
  }
  out += '"';
  return out;
}

// The instruction whose heredocs follow `inst`'s line: ONBUILD's trigger holds them.
const Instruction& HeredocHolder(const Instruction& inst) {
  return inst.keyword == "ONBUILD" && !inst.nested.empty() ? inst.nested.front() : inst;
}

// The lines of `inst` and of what it nests (ONBUILD HEALTHCHECK CMD ...).
void SetLines(Instruction& inst, int line, int end_line) {
  inst.line = line;
  inst.end_line = end_line;
  for (Instruction& nested : inst.nested) SetLines(nested, line, end_line);
}

// Print, noting the output's size after each instruction (for Parse's size check).
void PrintTo(const Dockerfile& d, std::string* out, std::vector<size_t>* ends) {
  std::vector<Directive> directives = d.directives;
  const bool has_escape = std::any_of(directives.begin(), directives.end(),
                                      [](const Directive& x) { return x.name == "escape"; });
  if (d.escape != '\\' && !has_escape) {
    directives.insert(directives.begin(), Directive{"escape", std::string(1, d.escape)});
  }
  for (const Directive& directive : directives) *out += DirectiveLine(directive) + "\n";
  // A blank line ends the directives, so that a first comment cannot be read as one.
  bool blank = !directives.empty();
  const std::vector<std::string>* first_comments =
      d.instructions.empty() ? &d.trailing_comments : &d.instructions.front().comments;
  if (!first_comments->empty() && MatchDirective(CommentLine(first_comments->front()))) {
    blank = true;
  }
  if (blank) *out += "\n";
  for (size_t i = 0; i < d.instructions.size(); ++i) {
    const Instruction& inst = d.instructions[i];
    if (i > 0 && inst.keyword == "FROM") *out += "\n";
    for (const std::string& comment : inst.comments) *out += CommentLine(comment) + "\n";
    *out += PrintInstruction(inst, d.escape);
    *out += '\n';
    for (const Heredoc& h : HeredocHolder(inst).heredocs) {
      *out += h.body;
      if (!h.body.empty() && h.body.back() != '\n') *out += '\n';
      *out += h.delimiter;
      *out += '\n';
    }
    if (ends) ends->push_back(out->size());
  }
  for (const std::string& comment : d.trailing_comments) *out += CommentLine(comment) + "\n";
}

}  // namespace

// ---- Instruction ----------------------------------------------------------------------------

std::vector<std::string> Instruction::Words(char escape) const {
  if (exec_form) return exec_args;
  return sx::ShellWords(text, escape);
}

std::vector<std::pair<std::string, std::optional<std::string>>> Instruction::KeyValues(
    char escape) const {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  std::vector<std::string> words = sx::LineWords(text, escape);
  if (words.empty()) return out;
  if (keyword != "ARG" && words[0].find('=') == std::string::npos) {
    auto [key, value] = sx::SplitBlankOnce(text);
    out.emplace_back(sx::Unquote(key, escape), sx::Unquote(value, escape));
    return out;
  }
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(sx::Unquote(word, escape), std::nullopt);
    } else {
      out.emplace_back(sx::Unquote(std::string_view(word).substr(0, eq), escape),
                       sx::Unquote(std::string_view(word).substr(eq + 1), escape));
    }
  }
  return out;
}

std::optional<std::string> Instruction::FlagValue(std::string_view name) const {
  for (const Flag& flag : flags) {
    if (flag.name == name) return flag.value;
  }
  return std::nullopt;
}

bool Instruction::operator==(const Instruction& other) const {
  return keyword == other.keyword && flags == other.flags && text == other.text &&
         exec_form == other.exec_form && exec_args == other.exec_args &&
         heredocs == other.heredocs && nested == other.nested && comments == other.comments;
}

std::vector<Stage> Dockerfile::Stages() const {
  std::vector<Stage> stages;
  for (size_t i = 0; i < instructions.size(); ++i) {
    const Instruction& inst = instructions[i];
    if (inst.keyword != "FROM") continue;
    if (!stages.empty()) stages.back().end = i;
    Stage stage;
    stage.from = i;
    stage.end = instructions.size();
    std::vector<std::string> words = inst.Words(escape);
    if (!words.empty()) stage.base = words[0];
    if (words.size() == 3 && EqualsIgnoreCase(words[1], "as")) stage.name = AsciiLower(words[2]);
    stage.platform = inst.FlagValue("platform").value_or("");
    stages.push_back(std::move(stage));
  }
  return stages;
}

// ---- Parse ----------------------------------------------------------------------------------

Result<Dockerfile> Parse(std::string_view text) {
  auto fail = [](size_t line, std::string message) {
    return Fail(ErrorCode::kSpec, "line " + std::to_string(line) + ": " + message);
  };
  if (text.size() > kMaxDockerfileBytes) {
    std::string_view head = text.substr(0, kMaxDockerfileBytes);
    size_t line = 1 + static_cast<size_t>(std::count(head.begin(), head.end(), '\n'));
    return fail(line, "the Dockerfile is larger than 4 MiB");
  }
  {
    size_t number = 0;
    for (size_t start = 0; start < text.size(); ++number) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      if (end - start > kMaxLineBytes) return fail(number + 1, "line longer than 1 MiB");
      start = end + 1;
    }
  }

  Dockerfile d;
  size_t pos = 0;
  size_t line_no = 0;
  // The next physical line with its line ending; false at the end of the text.
  auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    *line = text.substr(pos, end - pos);
    pos = end;
    ++line_no;
    return true;
  };

  std::vector<std::string> comments;
  bool directives_done = false;
  bool seen_from = false;
  std::string_view raw;
  while (next_line(&raw)) {
    if (line_no == 1 && raw.starts_with(kBom)) raw.remove_prefix(kBom.size());
    std::string_view token = sx::TrimLeftGoSpace(sx::TrimNewline(raw));
    if (!directives_done) {
      std::optional<Directive> directive = MatchDirective(token);
      if (!directive) {
        directives_done = true;
      } else {
        for (const Directive& seen : d.directives) {
          if (seen.name == directive->name) {
            return fail(line_no, "only one " + directive->name + " parser directive can be used");
          }
        }
        if (directive->name == "escape") {
          if (directive->value != "`" && directive->value != "\\") {
            return fail(line_no, "invalid escape token " + Quoted(directive->value) +
                                     " does not match ` or \\");
          }
          d.escape = directive->value[0];
        }
        if (DirectiveLine(*directive).size() > kMaxLineBytes) {
          return fail(line_no, "line longer than 1 MiB");
        }
        d.directives.push_back(std::move(*directive));
        continue;
      }
    }
    if (token.starts_with('#')) {
      comments.push_back(CommentText(token));
      if (CommentLine(comments.back()).size() > kMaxLineBytes) {
        return fail(line_no, "line longer than 1 MiB");
      }
      continue;
    }
    std::string_view piece;
    bool continues = sx::Continues(token, d.escape, &piece);
    if (!continues && piece.empty()) continue;  // a blank line
    const size_t start = line_no;
    std::string joined(piece);
    while (continues && next_line(&raw)) {
      std::string_view line = sx::TrimNewline(raw);
      std::string_view trimmed = sx::TrimLeftGoSpace(line);
      if (trimmed.empty() || trimmed.starts_with('#')) continue;  // dropped inside continuations
      continues = sx::Continues(line, d.escape, &piece);
      joined += piece;
    }

    auto parsed = ParseInstructionLine(joined, d.escape, /*trigger=*/false);
    if (!parsed) return fail(start, parsed.error().message);
    Instruction inst = std::move(*parsed);
    if (inst.keyword == "FROM") {
      seen_from = true;
    } else if (!seen_from && inst.keyword != "ARG") {
      return fail(start, inst.keyword + " before the first FROM (only ARG may come before it)");
    }

    Instruction& holder = inst.keyword == "ONBUILD" ? inst.nested.front() : inst;
    for (Heredoc& heredoc : holder.heredocs) {
      bool terminated = false;
      while (next_line(&raw)) {
        std::string_view candidate = sx::TrimNewline(raw);
        std::string_view body_line = raw;
        if (heredoc.strip_tabs) {
          candidate.remove_prefix(std::min(candidate.find_first_not_of('\t'), candidate.size()));
          body_line.remove_prefix(std::min(body_line.find_first_not_of('\t'), body_line.size()));
        }
        if (candidate == heredoc.delimiter) {
          terminated = true;
          break;
        }
        heredoc.body.append(body_line);
      }
      if (!terminated) {
        return fail(start, "unterminated heredoc <<" + Quoted(heredoc.delimiter));
      }
    }
    SetLines(inst, static_cast<int>(start), static_cast<int>(line_no));
    if (PrintInstruction(inst, d.escape).size() > kMaxLineBytes) {
      return fail(start, "instruction longer than 1 MiB once its lines are joined");
    }
    inst.comments = std::move(comments);
    comments.clear();
    d.instructions.push_back(std::move(inst));
  }
  d.trailing_comments = std::move(comments);

  const size_t last = std::max<size_t>(line_no, 1);
  if (d.instructions.empty()) return fail(last, "the Dockerfile has no instructions");
  if (!seen_from) return fail(last, "the Dockerfile has no FROM");

  // What Print writes for it must be within the limits too.
  std::string printed;
  std::vector<size_t> ends;
  PrintTo(d, &printed, &ends);
  if (printed.size() > kMaxDockerfileBytes) {
    size_t i = 0;
    while (i < ends.size() && ends[i] <= kMaxDockerfileBytes) ++i;
    size_t line = i < d.instructions.size() ? static_cast<size_t>(d.instructions[i].line) : last;
    return fail(line, "the Dockerfile is larger than 4 MiB in canonical form");
  }
  return d;
}

// ---- Print ----------------------------------------------------------------------------------

std::string PrintInstruction(const Instruction& inst, char escape) {
  std::string out = inst.keyword;
  for (const Flag& flag : inst.flags) {
    out += ' ';
    out += FlagWord(flag, escape);
  }
  if (!inst.text.empty()) {
    // Text that would itself read as flags (it starts with "--", or with a byte that the flag
    // reader skips as a space) goes after a "--", which ends the flags.
    sx::Flags probe = sx::ExtractFlags(inst.text, escape);
    if (!probe.words.empty() || probe.rest.size() != inst.text.size()) out += " --";
    out += ' ';
    out += inst.text;
  }
  // Text ending with an escape character would continue on the next line; a vertical tab after it
  // stops that (the continuation allows only spaces and tabs after it) and is trimmed away again.
  std::string_view unused;
  if (sx::Continues(out, escape, &unused)) out += '\v';
  return out;
}

std::string Print(const Dockerfile& dockerfile) {
  std::string out;
  PrintTo(dockerfile, &out, nullptr);
  return out;
}

}  // namespace hardbase::dockerfile
