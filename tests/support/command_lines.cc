#include "support/command_lines.h"

#include <set>

#include "base/strings.h"

namespace hardbase::testing {
namespace {

// Whether a help text lists `flag` ("--tag"), as CLI11 prints options ("-o,--output TEXT").
bool HelpLists(const std::string& help, const std::string& flag) {
  for (size_t at = help.find(flag); at != std::string::npos; at = help.find(flag, at + 1)) {
    char before = at == 0 ? ' ' : help[at - 1];
    char after = at + flag.size() < help.size() ? help[at + flag.size()] : ' ';
    bool word_char =
        (after >= 'a' && after <= 'z') || (after >= '0' && after <= '9') || after == '-';
    if ((before == ' ' || before == ',') && !word_char) return true;
  }
  return false;
}

// The subcommands a CLI11 help text lists: the first word of each line under "Subcommands:".
std::set<std::string> Subcommands(const std::string& help) {
  std::set<std::string> names;
  size_t at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return names;
  size_t start = at + 14;
  while (start < help.size()) {
    size_t end = help.find('\n', start);
    if (end == std::string::npos) end = help.size();
    std::string_view line(help.data() + start, end - start);
    start = end + 1;
    if (Trim(line).empty()) break;
    std::string_view name = TrimLeft(line);
    if (name.size() == line.size()) break;  // not indented: the next section
    names.emplace(name.substr(0, name.find(' ')));
  }
  return names;
}

std::string Command(const std::vector<std::string>& path) {
  std::string out = "hardbase";
  for (const auto& p : path) out += " " + p;
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> HardbaseInvocations(std::string_view script) {
  std::vector<std::vector<std::string>> found;
  std::string joined = ReplaceAll(std::string(script), "\\\n", " ");
  std::string heredoc_end;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    std::string line = joined.substr(start, end - start);
    start = end + 1;
    if (!heredoc_end.empty()) {
      if (Trim(line) == heredoc_end) heredoc_end.clear();
      continue;
    }
    std::vector<std::string> words;
    std::string word;
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
        word += c;
      } else if (c == '\'' || c == '"') {
        quote = c;
        word += c;
      } else if (c == ' ' || c == '\t') {
        if (!word.empty()) words.push_back(word);
        word.clear();
      } else if (c == '#' && word.empty()) {
        break;
      } else {
        word += c;
      }
    }
    if (!word.empty()) words.push_back(word);
    for (const auto& w : words) {
      if (w.starts_with("<<")) {
        std::string tag = w.substr(2);
        std::erase_if(tag, [](char c) { return c == '\'' || c == '"' || c == '-'; });
        heredoc_end = tag;
      }
    }
    for (size_t i = 0; i < words.size(); ++i) {
      std::string_view w = words[i];
      while (!w.empty() && (w.front() == '"' || w.front() == '$' || w.front() == '(')) {
        w.remove_prefix(1);
      }
      if (w != "hardbase") continue;
      std::vector<std::string> args;
      for (size_t j = i + 1; j < words.size(); ++j) {
        std::string a = words[j];
        if (a == "|" || a == "||" || a == "&&" || a == ";" || a.starts_with(">") ||
            a.starts_with("<")) {
          break;
        }
        bool last = a.ends_with(")") || a.ends_with(")\"");
        while (!a.empty() && (a.back() == ')' || a.back() == '"' || a.back() == ';')) a.pop_back();
        if (!a.empty()) args.push_back(a);
        if (last) break;
      }
      found.push_back(std::move(args));
    }
  }
  return found;
}

const ProcessResult& CommandLineChecker::Help(const std::vector<std::string>& path) {
  const std::string key = Command(path);
  auto it = helps_.find(key);
  if (it == helps_.end()) {
    std::vector<std::string> argv = {HardbaseBinary()};
    argv.insert(argv.end(), path.begin(), path.end());
    argv.push_back("--help");
    it = helps_.emplace(key, RunProcess(argv)).first;
  }
  return it->second;
}

std::vector<std::string> CommandLineChecker::Check(const std::vector<std::string>& words) {
  std::vector<std::string> problems;
  if (words.empty() || words[0].starts_with("-")) return problems;  // `hardbase --help`
  const std::string top = Help({}).out;
  std::vector<std::string> path;
  const ProcessResult* help = &Help(path);
  for (const auto& w : words) {
    std::set<std::string> subs = Subcommands(help->out);
    if (subs.empty()) break;
    if (!subs.contains(w)) {
      problems.push_back("`" + Command(path) + "` has no subcommand " + w);
      return problems;
    }
    path.push_back(w);
    help = &Help(path);
    if (help->exit_code != 0) {
      problems.push_back("`" + Command(path) + " --help` failed: " + help->err);
      return problems;
    }
  }
  ++commands_;
  for (const auto& w : words) {
    if (!w.starts_with("--")) continue;
    std::string flag = w.substr(0, w.find('='));
    if (!HelpLists(help->out, flag) && !HelpLists(top, flag)) {
      problems.push_back("`" + Command(path) + "` has no " + flag);
    }
    ++flags_;
  }
  return problems;
}

}  // namespace hardbase::testing
