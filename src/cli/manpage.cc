#include "cli/manpage.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "base/strings.h"

namespace hardbase::cli {
namespace {

// `text` as roff body text: backslashes, hyphens (so options stay copyable as ASCII '-'), quotes
// and non-ASCII characters escaped, and a leading '.' or '\'' (a request) defused.
std::string Roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c == '\'') {
      out += "\\(aq";
    } else if (c == '`') {
      out += "\\(ga";
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // A UTF-8 sequence as \[uXXXX]; a malformed byte becomes U+FFFD.
      char32_t cp = 0;
      size_t len = DecodeUtf8(text.substr(i), &cp);
      if (len == 0) {
        cp = 0xFFFD;
        len = 1;
      }
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
      out += buf;
      i += len - 1;
    }
  }
  return out;
}

std::string Bold(std::string_view s) { return "\\fB" + Roff(s) + "\\fR"; }
std::string Italic(std::string_view s) { return "\\fI" + Roff(s) + "\\fR"; }

// "hardbase cache prune"
std::string CommandLine(const CommandInfo& command) {
  std::string out;
  for (const auto& word : command.path) out += (out.empty() ? "" : " ") + word;
  return out;
}

// The tag line of an option: "-o, --output TEXT".
std::string OptionTag(const OptionInfo& option) {
  if (!option.positional.empty())
    return Italic(option.positional) + (option.repeatable ? " ..." : "");
  std::string out;
  for (const auto& name : OptionNames(option)) out += (out.empty() ? "" : ", ") + Bold(name);
  if (option.takes_value)
    out += " " + Italic(option.value_name.empty() ? "VALUE" : option.value_name);
  if (option.repeatable) out += " ...";
  return out;
}

std::string OptionBody(const OptionInfo& option) {
  std::string out = Roff(option.description);
  // Help texts are phrases without a final stop; what follows here is sentences.
  bool more = !option.choices.empty() || !option.default_value.empty() ||
              (option.required && option.positional.empty());
  if (more && !out.empty() && out.back() != '.') out += ".";
  if (!option.choices.empty()) {
    out += "\nOne of:";
    for (size_t i = 0; i < option.choices.size(); ++i) {
      out += (i ? ", " : " ") + Bold(option.choices[i]);
    }
    out += ".";
  }
  if (!option.default_value.empty()) out += "\nDefault: " + Bold(option.default_value) + ".";
  if (option.required && option.positional.empty()) out += "\nRequired.";
  return out;
}

std::string OptionList(const std::vector<OptionInfo>& options, bool skip_help) {
  std::string out;
  for (const auto& option : options) {
    if (skip_help && OptionNames(option) == std::vector<std::string>{"-h", "--help"}) continue;
    out += ".TP\n" + OptionTag(option) + "\n" + OptionBody(option) + "\n";
  }
  return out;
}

// A help footer as paragraphs: indented lines stay as they are, the rest is filled.
std::string Paragraphs(std::string_view text) {
  std::string out;
  bool literal = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    bool indented = !line.empty() && line.front() == ' ';
    if (indented != literal) {
      out += indented ? ".PP\n.nf\n.RS 2\n" : ".RE\n.fi\n";
      literal = indented;
    }
    if (line.empty()) {
      if (!literal) out += ".PP\n";
      continue;
    }
    out += Roff(line) + "\n";
  }
  if (literal) out += ".RE\n.fi\n";
  return out;
}

std::string Synopsis(const CommandInfo& command) {
  std::string out = ".B " + Roff(CommandLine(command)) + "\n";
  for (const auto& option : command.options) {
    if (!option.required) continue;
    out += Bold(option.long_names.empty() ? option.short_names.front() : option.long_names.front());
    out += " " + Italic(option.value_name) + "\n";
  }
  bool optional_options = false;
  for (const auto& option : command.options) optional_options |= !option.required;
  if (optional_options) out += "[" + Italic("OPTIONS") + "]\n";
  if (!command.subcommands.empty()) {
    out += (command.subcommand_required ? Italic("COMMAND") : "[" + Italic("COMMAND") + "]") + "\n";
  }
  for (const auto& positional : command.positionals) {
    std::string word = Italic(positional.positional) + (positional.repeatable ? " ..." : "");
    out += (positional.required ? word : "[" + word + "]") + "\n";
  }
  return out;
}

// Where the help mentions an environment variable or a home file: in the same text (an option's
// help, or a command's footer) of one or more commands. Shared options, such as the registry
// flags, say the same thing in every command that has them, and are listed once.
struct Mention {
  std::string option;                 // "--authfile"; "" for a command's footer
  std::string text;                   // the help text
  std::vector<std::string> commands;  // "sbom", "vuln update"; "" for the global options
};
struct Mentions {
  std::map<std::string, std::vector<Mention>> environment;  // "HARDBASE_CACHE_DIR" -> mentions
  std::map<std::string, std::vector<Mention>> files;        // "~/.docker/config.json" -> mentions
};

void Add(std::vector<Mention>& list, const std::string& option, const std::string& text,
         const std::string& command) {
  for (auto& m : list) {
    if (m.option == option && m.text == text) {
      m.commands.push_back(command);
      return;
    }
  }
  list.push_back({option, text, {command}});
}

void CollectMentions(const std::string& command, const std::string& option, const std::string& text,
                     Mentions& mentions) {
  static const std::regex kVariable(R"(\$([A-Z][A-Z0-9_]+))");
  static const std::regex kHomeFile(R"(~/[^\s,;()]*[^\s,;().])");
  std::set<std::string> seen;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kVariable);
       it != std::sregex_iterator(); ++it) {
    if (seen.insert("$" + (*it)[1].str()).second) {
      Add(mentions.environment[(*it)[1]], option, text, command);
    }
  }
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kHomeFile);
       it != std::sregex_iterator(); ++it) {
    if (seen.insert(it->str()).second) Add(mentions.files[it->str()], option, text, command);
  }
}

void CollectAll(const CommandInfo& command, Mentions& mentions) {
  // "vuln update"; "" for hardbase itself
  std::string name;
  for (size_t i = 1; i < command.path.size(); ++i) name += (i > 1 ? " " : "") + command.path[i];
  for (const auto& option : command.options) {
    std::string flag =
        option.long_names.empty() ? option.short_names.front() : option.long_names.front();
    CollectMentions(name, flag, option.description, mentions);
  }
  for (const auto& positional : command.positionals) {
    CollectMentions(name, positional.positional, positional.description, mentions);
  }
  if (!name.empty() && !command.footer.empty()) CollectMentions(name, "", command.footer, mentions);
  for (const auto& sub : command.subcommands) CollectAll(sub, mentions);
}

// "--authfile of sbom, sign: Credentials file ...", "--cache-dir: Download cache ..." (a global
// option), "hardbase keygen: The password comes from ..." (a footer).
std::string MentionLine(const Mention& m) {
  std::string who = m.option.empty() ? "" : Bold(m.option);
  bool global = m.commands.size() == 1 && m.commands.front().empty();
  if (!global) {
    std::string commands;
    for (size_t i = 0; i < m.commands.size(); ++i) {
      commands += (i ? ", " : "") + Bold(who.empty() ? "hardbase " + m.commands[i] : m.commands[i]);
    }
    who = who.empty() ? commands : who + " of " + commands;
  }
  return who + ": " + Roff(m.text);
}

std::string MentionSection(std::string_view title,
                           const std::map<std::string, std::vector<Mention>>& entries) {
  if (entries.empty()) return "";
  std::string out = ".SH " + std::string(title) + "\n";
  for (const auto& [name, list] : entries) {
    out += ".TP\n" + Bold(name) + "\n";
    for (size_t i = 0; i < list.size(); ++i)
      out += (i ? ".br\n" : "") + MentionLine(list[i]) + "\n";
  }
  return out;
}

void Commands(const CommandInfo& command, std::string& out) {
  for (const auto& sub : command.subcommands) {
    out += ".SS \"" + Roff(CommandLine(sub)) + "\"\n";
    out += Synopsis(sub);
    out += ".PP\n" + Roff(sub.description) + "\n";
    if (!sub.subcommands.empty()) {
      out += ".PP\nCommands:";
      for (size_t i = 0; i < sub.subcommands.size(); ++i) {
        out += std::string(i ? ", " : " ") + Bold(CommandLine(sub.subcommands[i]));
      }
      out += ".\n";
    }
    out += OptionList(sub.positionals, false);
    out += OptionList(sub.options, /*skip_help=*/true);
    if (!sub.footer.empty()) out += ".PP\n" + Paragraphs(sub.footer);
    Commands(sub, out);
  }
}

}  // namespace

std::string ManPage(const CommandInfo& root, const ManPageOptions& options) {
  std::string description = root.description;
  std::string prefix = root.name + ": ";
  if (description.starts_with(prefix)) description.erase(0, prefix.size());

  std::string out =
      ".\\\" hardbase(1), generated by `hardbase manpage` from the command line hardbase parses.\n";
  out += ".TH HARDBASE 1 \"\" \"hardbase " + Roff(options.version) + "\" \"User Commands\"\n";
  out += ".SH NAME\nhardbase \\- " + Roff(description) + "\n";

  out += ".SH SYNOPSIS\n.B hardbase\n[" + Italic("GLOBAL OPTIONS") + "] " + Italic("COMMAND") +
         " [" + Italic("OPTIONS") + "] [" + Italic("ARGUMENTS") + "]\n.br\n.B hardbase\n" +
         Italic("COMMAND") + " " + Bold("--help") + "\n";

  out += ".SH DESCRIPTION\n" + Bold("hardbase") + " builds " + Roff(description) +
         ". Its commands are listed under\n.BR COMMANDS ;\nthe global options work before or "
         "after the command's name.\n";

  // The root footer is the exit code table ("  3  spec: ..."); anything else in it is prose.
  static const std::regex kExitLine(R"(^\s*(\d+)\s+(.+)$)");
  std::string exit_status, prose;
  size_t start = 0;
  while (start < root.footer.size()) {
    size_t end = root.footer.find('\n', start);
    if (end == std::string::npos) end = root.footer.size();
    std::string line = root.footer.substr(start, end - start);
    start = end + 1;
    std::smatch m;
    if (std::regex_match(line, m, kExitLine)) {
      exit_status += ".TP\n" + Bold(m[1].str()) + "\n" + Roff(m[2].str()) + "\n";
    } else if (line != "Exit codes:") {
      prose += line + "\n";
    }
  }
  if (!prose.empty()) out += ".PP\n" + Paragraphs(prose);

  out += ".SH GLOBAL OPTIONS\n" + OptionList(root.options, false);
  out += ".SH COMMANDS\n";
  Commands(root, out);
  if (!exit_status.empty()) out += ".SH EXIT STATUS\n" + exit_status;

  Mentions mentions;
  CollectAll(root, mentions);
  out += MentionSection("ENVIRONMENT", mentions.environment);
  out += MentionSection("FILES", mentions.files);

  out += ".SH SEE ALSO\n";
  if (!options.doc_dir.empty()) {
    out += "The image spec format: " + Italic(options.doc_dir + "/spec.md") +
           ".\n.br\nAn overview with examples: " + Italic(options.doc_dir + "/README.md") + ".\n";
  } else {
    out += "The image spec format: docs/spec.md in hardbase's sources.\n";
  }
  return out;
}

}  // namespace hardbase::cli
