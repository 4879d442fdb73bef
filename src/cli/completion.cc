#include "cli/completion.h"

#include <array>
#include <functional>

#include "base/strings.h"

namespace hardbase::cli {
namespace {

constexpr std::array<std::string_view, 3> kShells = {"bash", "zsh", "fish"};

// `s` as one word for fish, whose single quotes know \\ and \'.
std::string FishQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// A help text on one line (the shells show one line per candidate).
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
  return out;
}

// "#1", "#2", ...: how the scripts name the positional arguments of a command.
std::string PositionalKey(size_t index) { return "#" + std::to_string(index + 1); }

// A sh `case` over "$1" (or "$1 $2") whose arms print lines: the arms are (patterns, words) pairs.
// The same text is valid bash and zsh.
struct CaseArm {
  std::vector<std::string> patterns;
  std::vector<std::string> lines;
};

std::string ShCaseFunction(std::string_view name, std::string_view comment,
                           std::string_view subject, const std::vector<CaseArm>& arms) {
  std::string out = "# " + std::string(comment) + "\n" + std::string(name) + "() {\n  case \"" +
                    std::string(subject) + "\" in\n";
  for (const auto& arm : arms) {
    if (arm.lines.empty()) continue;
    out += "    ";
    for (size_t i = 0; i < arm.patterns.size(); ++i)
      out += (i ? "|" : "") + ShellQuote(arm.patterns[i]);
    out += ") printf '%s\\n'";
    for (const auto& line : arm.lines) out += " " + ShellQuote(line);
    out += " ;;\n";
  }
  return out + "  esac\n}\n\n";
}

// The data functions both the bash and the zsh script use: _hardbase_subcommands PATH,
// _hardbase_options PATH, _hardbase_takes_value PATH OPTION, _hardbase_choices PATH OPTION|#N;
// with `describe`, also _hardbase_describe_subcommands PATH and _hardbase_describe_options PATH,
// which print "name:help" lines for zsh's _describe.
std::string ShDataFunctions(const std::vector<FlatCommand>& commands, bool describe) {
  std::vector<CaseArm> subcommands, options, choices, subcommand_help, option_help;
  std::vector<std::string> value_patterns;
  for (const auto& flat : commands) {
    CaseArm subs{{flat.key}, {}}, opts{{flat.key}, {}}, sub_help{{flat.key}, {}},
        opt_help{{flat.key}, {}};
    for (const auto& sub : flat.command->subcommands) {
      subs.lines.push_back(sub.name);
      sub_help.lines.push_back(sub.name + ":" + OneLine(sub.description));
    }
    for (const OptionInfo* option : flat.options) {
      for (const auto& name : OptionNames(*option)) {
        opts.lines.push_back(name);
        opt_help.lines.push_back(name + ":" + OneLine(option->description));
        if (option->takes_value) value_patterns.push_back(flat.key + " " + name);
      }
      if (!option->choices.empty()) {
        CaseArm arm{{}, option->choices};
        for (const auto& name : OptionNames(*option)) arm.patterns.push_back(flat.key + " " + name);
        choices.push_back(std::move(arm));
      }
    }
    const auto& positionals = flat.command->positionals;
    for (size_t i = 0; i < positionals.size(); ++i) {
      if (!positionals[i].choices.empty()) {
        choices.push_back({{flat.key + " " + PositionalKey(i)}, positionals[i].choices});
      }
    }
    subcommands.push_back(std::move(subs));
    options.push_back(std::move(opts));
    subcommand_help.push_back(std::move(sub_help));
    option_help.push_back(std::move(opt_help));
  }
  std::string out;
  out += ShCaseFunction("_hardbase_subcommands", "The subcommands of command path $1.", "$1",
                        subcommands);
  out += ShCaseFunction("_hardbase_options",
                        "The options command path $1 accepts (the global ones included).", "$1",
                        options);
  out +=
      "# Whether option $2 of command path $1 takes a value.\n"
      "_hardbase_takes_value() {\n  case \"$1 $2\" in\n";
  if (!value_patterns.empty()) {
    out += "    ";
    for (size_t i = 0; i < value_patterns.size(); ++i) {
      out += (i ? "|" : "") + ShellQuote(value_patterns[i]);
      if (i + 1 < value_patterns.size() && (i + 1) % 4 == 0) out += " \\\n    ";
    }
    out += ") return 0 ;;\n";
  }
  out += "  esac\n  return 1\n}\n\n";
  out += ShCaseFunction("_hardbase_choices",
                        "The fixed values of option $2 (or positional #N) of command path $1.",
                        "$1 $2", choices);
  if (describe) {
    out += ShCaseFunction("_hardbase_describe_subcommands",
                          "\"name:help\" for each subcommand of command path $1.", "$1",
                          subcommand_help);
    out += ShCaseFunction("_hardbase_describe_options",
                          "\"name:help\" for each option of command path $1.", "$1", option_help);
  }
  return out;
}

std::string BashScript(const CommandInfo& root) {
  std::string out =
      "# bash completion for hardbase, generated by `hardbase completion bash` from the command\n"
      "# line hardbase parses. Install it as\n"
      "# /usr/share/bash-completion/completions/hardbase, or source it from ~/.bashrc.\n\n";
  out += ShDataFunctions(FlattenCommands(root), /*describe=*/false);
  out += R"BASH(# Completes the word under the cursor: walks the words before it to find the command
# (hardbase, hardbase/cache, ...) and whether an option is waiting for its value. An empty
# answer leaves the word to readline's file name completion.
_hardbase() {
  local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath=hardbase npos=0 skip=0 i w opt="" words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if ((skip)); then
      # "--opt=value" arrives as "--opt" "=" "value" ('=' breaks words): the value follows.
      [[ $w == "=" ]] || skip=0
      continue
    fi
    case "$w" in
      -*=*) ;;
      -*) _hardbase_takes_value "$cmdpath" "$w" && skip=1 ;;
      =) skip=1 ;;
      *)
        if [[ $'\n'"$(_hardbase_subcommands "$cmdpath")"$'\n' == *$'\n'"$w"$'\n'* ]]; then
          cmdpath="$cmdpath/$w"
          npos=0
        else
          npos=$((npos + 1))
        fi
        ;;
    esac
  done
  COMPREPLY=()
  if [[ $cur == "=" ]] && ((skip)); then
    opt="${COMP_WORDS[COMP_CWORD - 1]}"
    cur=""
  elif ((skip)); then
    opt="${COMP_WORDS[COMP_CWORD - 1]}"
    [[ $opt == "=" ]] && opt="${COMP_WORDS[COMP_CWORD - 2]}"
  fi
  if [[ -n $opt ]]; then
    words="$(_hardbase_choices "$cmdpath" "$opt")"
  elif [[ $cur == -* ]]; then
    words="$(_hardbase_options "$cmdpath")"
  else
    words="$(_hardbase_subcommands "$cmdpath")"
    [[ -n $words ]] || words="$(_hardbase_choices "$cmdpath" "#$((npos + 1))")"
  fi
  [[ -n $words ]] && mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  return 0
}

complete -o bashdefault -o default -F _hardbase hardbase
)BASH";
  return out;
}

std::string ZshScript(const CommandInfo& root) {
  std::string out =
      "#compdef hardbase\n"
      "# zsh completion for hardbase, generated by `hardbase completion zsh` from the command "
      "line\n"
      "# hardbase parses. Install it as _hardbase in a directory of $fpath (such as\n"
      "# /usr/share/zsh/vendor-completions), or source it after compinit.\n\n";
  out += ShDataFunctions(FlattenCommands(root), /*describe=*/true);
  out += R"ZSH(# Completes the word under the cursor: walks the words before it to find the command
# (hardbase, hardbase/cache, ...) and whether an option is waiting for its value.
_hardbase() {
  local cur=${words[CURRENT]} cmdpath=hardbase opt=""
  local -i npos=0 skip=0 i
  local w
  local -a candidates
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    if ((skip)); then
      skip=0
      continue
    fi
    case $w in
      -*=*) ;;
      -*) _hardbase_takes_value $cmdpath $w && skip=1 ;;
      *)
        if (( ${${(f)"$(_hardbase_subcommands $cmdpath)"}[(Ie)$w]} )); then
          cmdpath=$cmdpath/$w
          npos=0
        else
          npos+=1
        fi
        ;;
    esac
  done
  if [[ $cur == -*=* ]]; then
    opt=${cur%%=*}
    compset -P '*='
  elif ((skip)); then
    opt=${words[CURRENT-1]}
  fi
  if [[ -n $opt ]]; then
    candidates=(${(f)"$(_hardbase_choices $cmdpath $opt)"})
    if ((${#candidates})); then
      compadd -a candidates
    else
      _files
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    candidates=(${(f)"$(_hardbase_describe_options $cmdpath)"})
    _describe -t options 'option' candidates
    return
  fi
  candidates=(${(f)"$(_hardbase_describe_subcommands $cmdpath)"})
  if ((${#candidates})); then
    _describe -t commands 'hardbase command' candidates
    return
  fi
  candidates=(${(f)"$(_hardbase_choices $cmdpath "#$((npos + 1))")"})
  if ((${#candidates})); then
    compadd -a candidates
  else
    _files
  fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _hardbase "$@"
else
  compdef _hardbase hardbase
fi
)ZSH";
  return out;
}

std::string FishScript(const CommandInfo& root) {
  std::vector<FlatCommand> commands = FlattenCommands(root);
  std::string out =
      "# fish completion for hardbase, generated by `hardbase completion fish` from the command\n"
      "# line hardbase parses. Install it as hardbase.fish in a directory of\n"
      "# $fish_complete_path (such as /usr/share/fish/vendor_completions.d).\n\n";

  out +=
      "# The subcommands of command path $argv[1].\n"
      "function __hardbase_subcommands\n    switch $argv[1]\n";
  for (const auto& flat : commands) {
    if (flat.command->subcommands.empty()) continue;
    out += "        case " + FishQuote(flat.key) + "\n            printf '%s\\n'";
    for (const auto& sub : flat.command->subcommands) out += " " + FishQuote(sub.name);
    out += "\n";
  }
  out += "    end\nend\n\n";

  out +=
      "# Whether option $argv[2] of command path $argv[1] takes a value.\n"
      "function __hardbase_takes_value\n    switch \"$argv[1] $argv[2]\"\n";
  for (const auto& flat : commands) {
    std::string patterns;
    for (const OptionInfo* option : flat.options) {
      if (!option->takes_value) continue;
      for (const auto& name : OptionNames(*option))
        patterns += " " + FishQuote(flat.key + " " + name);
    }
    if (!patterns.empty()) out += "        case" + patterns + "\n            return 0\n";
  }
  out += "    end\n    return 1\nend\n\n";

  out += R"FISH(# Three lines about the command line before the cursor: the command path (hardbase,
# hardbase/cache, ...), how many positional arguments it has, and 1 when an option waits for its
# value. Every completion's condition asks, so the answer is kept for the line it was made for.
function __hardbase_state
    set -l line (commandline -pc)
    if test "$line" = "$__hardbase_state_line"
        printf '%s\n' $__hardbase_state_value
        return
    end
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath hardbase
    set -l npos 0
    set -l skip 0
    for w in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '-*=*'
            case '-*'
                __hardbase_takes_value $cmdpath $w; and set skip 1
            case '*'
                if contains -- $w (__hardbase_subcommands $cmdpath)
                    set cmdpath $cmdpath/$w
                    set npos 0
                else
                    set npos (math $npos + 1)
                end
        end
    end
    set -g __hardbase_state_line $line
    set -g __hardbase_state_value $cmdpath $npos $skip
    printf '%s\n' $cmdpath $npos $skip
end

# Whether the command line is at command path $argv[1] (for options).
function __hardbase_at
    set -l state (__hardbase_state)
    test "$state[1]" = "$argv[1]"
end

# Whether the word under the cursor is positional argument $argv[2] + 1 of command path $argv[1]
# (0 for the first, which is where subcommands go).
function __hardbase_arg
    set -l state (__hardbase_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" = "$argv[2]"; and test "$state[3]" = 0
end

complete -c hardbase -e
)FISH";
  for (const auto& flat : commands) {
    out += "\n# " + flat.key + "\n";
    for (const auto& sub : flat.command->subcommands) {
      out += "complete -c hardbase -f -n " + FishQuote("__hardbase_arg " + flat.key + " 0") +
             " -a " + FishQuote(sub.name) + " -d " + FishQuote(OneLine(sub.description)) + "\n";
    }
    for (const OptionInfo* option : flat.options) {
      out += "complete -c hardbase -n " + FishQuote("__hardbase_at " + flat.key);
      for (const auto& s : option->short_names) out += " -s " + FishQuote(s.substr(1));
      for (const auto& l : option->long_names) out += " -l " + FishQuote(l.substr(2));
      if (!option->choices.empty()) {
        std::string values;
        for (const auto& c : option->choices) values += (values.empty() ? "" : " ") + c;
        out += " -x -a " + FishQuote(values);
      } else if (option->takes_value) {
        out += " -r";
      }
      out += " -d " + FishQuote(OneLine(option->description)) + "\n";
    }
    const auto& positionals = flat.command->positionals;
    for (size_t i = 0; i < positionals.size(); ++i) {
      if (positionals[i].choices.empty()) continue;
      std::string values;
      for (const auto& c : positionals[i].choices) values += (values.empty() ? "" : " ") + c;
      out += "complete -c hardbase -f -n " +
             FishQuote("__hardbase_arg " + flat.key + " " + std::to_string(i)) + " -a " +
             FishQuote(values) + " -d " + FishQuote(OneLine(positionals[i].description)) + "\n";
    }
  }
  return out;
}

}  // namespace

std::span<const std::string_view> CompletionShells() { return kShells; }

Result<std::string> CompletionScript(const CommandInfo& root, std::string_view shell) {
  if (shell == "bash") return BashScript(root);
  if (shell == "zsh") return ZshScript(root);
  if (shell == "fish") return FishScript(root);
  return Fail(ErrorCode::kUsage,
              "no completion for shell '" + std::string(shell) + "' (bash, zsh or fish)");
}

}  // namespace hardbase::cli
