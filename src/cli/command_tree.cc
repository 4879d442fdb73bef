#include "cli/command_tree.h"

#include <algorithm>
#include <set>

namespace hardbase::cli {
namespace {

// CLI11's full type name is the value's type followed by each validator's description, joined by
// ':' ("TEXT:{table,json,sarif}", "INT:NONNEGATIVE"); a CLI::IsMember describes itself as the set.
void ReadTypeName(const CLI::Option& opt, OptionInfo& info) {
  std::string full = opt.get_type_name();
  size_t colon = full.find(':');
  info.value_name = full.substr(0, colon);
  while (colon != std::string::npos) {
    size_t start = colon + 1;
    colon = full.find(':', start);
    std::string part = full.substr(start, colon == std::string::npos ? colon : colon - start);
    if (part.size() < 2 || part.front() != '{' || part.back() != '}') continue;
    std::string items = part.substr(1, part.size() - 2);
    size_t from = 0;
    while (from <= items.size()) {
      size_t comma = items.find(',', from);
      if (comma == std::string::npos) comma = items.size();
      if (comma > from) info.choices.push_back(items.substr(from, comma - from));
      from = comma + 1;
    }
  }
}

OptionInfo DescribeOption(const CLI::Option& opt) {
  OptionInfo info;
  for (const auto& s : opt.get_snames()) info.short_names.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) info.long_names.push_back("--" + l);
  if (!opt.nonpositional()) info.positional = opt.get_name(/*positional=*/true);
  info.takes_value = opt.get_items_expected_max() > 0;  // a flag expects none
  if (info.takes_value) ReadTypeName(opt, info);
  info.default_value = opt.get_default_str();
  info.description = opt.get_description();
  info.required = opt.get_required();
  info.repeatable = opt.get_items_expected_max() > 1;
  return info;
}

CommandInfo Describe(const CLI::App& app, std::vector<std::string> path,
                     const std::string& parent_footer) {
  CommandInfo info;
  info.name = app.get_name();
  info.path = std::move(path);
  info.description = app.get_description();
  std::string footer = app.get_footer();
  if (footer != parent_footer) info.footer = footer;
  info.subcommand_required = app.get_require_subcommand_min() > 0;
  info.fallthrough = app.get_fallthrough();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    OptionInfo option = DescribeOption(*opt);
    (option.positional.empty() ? info.options : info.positionals).push_back(std::move(option));
  }
  auto visible = [](const CLI::App* sub) { return !sub->get_group().empty(); };
  for (const CLI::App* sub : app.get_subcommands(visible)) {
    std::vector<std::string> sub_path = info.path;
    sub_path.push_back(sub->get_name());
    info.subcommands.push_back(Describe(*sub, std::move(sub_path), footer));
  }
  return info;
}

}  // namespace

CommandInfo DescribeApp(const CLI::App& app) {
  // The root's own name is argv[0] as typed once parsed ("build/src/cli/hardbase"): the scripts
  // and the page are for the installed command.
  CommandInfo info = Describe(app, {"hardbase"}, "");
  info.name = "hardbase";
  return info;
}

std::vector<std::string> OptionNames(const OptionInfo& option) {
  std::vector<std::string> names = option.short_names;
  names.insert(names.end(), option.long_names.begin(), option.long_names.end());
  return names;
}

namespace {

void Flatten(const CommandInfo& command, const std::vector<const OptionInfo*>& lent,
             std::vector<FlatCommand>& out) {
  FlatCommand flat{&command, "", {}};
  for (size_t i = 0; i < command.path.size(); ++i) {
    flat.key += (i ? "/" : "") + command.path[i];
  }
  std::set<std::string> taken;
  for (const auto& option : command.options) {
    flat.options.push_back(&option);
    for (const auto& name : OptionNames(option)) taken.insert(name);
  }
  for (const OptionInfo* option : lent) {
    auto names = OptionNames(*option);
    if (std::none_of(names.begin(), names.end(), [&](const auto& n) { return taken.count(n); })) {
      flat.options.push_back(option);
    }
  }
  out.push_back(flat);
  for (const auto& sub : command.subcommands) {
    Flatten(sub, sub.fallthrough ? flat.options : std::vector<const OptionInfo*>{}, out);
  }
}

}  // namespace

std::vector<FlatCommand> FlattenCommands(const CommandInfo& root) {
  std::vector<FlatCommand> out;
  Flatten(root, {}, out);
  return out;
}

}  // namespace hardbase::cli
