#include "image/alternatives.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "base/strings.h"

namespace hardbase::image {
namespace {

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

}  // namespace

Result<std::vector<Alternative>> ParseJinfo(std::string_view text) {
  std::vector<Alternative> out;
  std::optional<int64_t> priority;
  for (const Line& line : Lines(text)) {
    auto error = [&](std::string_view what) {
      return Fail(ErrorCode::kSpec, "jinfo line " + std::to_string(line.number) + " '" +
                                        std::string(line.text) + "': " + std::string(what));
    };
    std::vector<std::string_view> words = Words(line.text);
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

std::optional<Alternative> AlternativeOfInstall(const std::vector<std::string>& args) {
  static const std::set<std::string, std::less<>> kHarmlessOptions = {"--quiet", "--verbose",
                                                                      "--force", "--debug"};
  size_t j = 0;
  while (j < args.size() && kHarmlessOptions.contains(args[j])) ++j;
  if (j + 4 >= args.size() || args[j] != "--install") return std::nullopt;
  const std::string* a = &args[j + 1];  // LINK NAME PATH PRIORITY
  std::optional<int64_t> priority = ParsePriority(a[3]);
  if (!IsAbsolute(a[0]) || !IsAlternativeName(a[1]) || !IsAbsolute(a[2]) || !priority) {
    return std::nullopt;
  }
  return Alternative{.link = a[0], .name = a[1], .target = a[2], .priority = *priority};
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
