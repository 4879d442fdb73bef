// Fuzzes the alternatives sources: .jinfo files, and update-alternatives arguments (the input's
// lines as words; maintainer_script_fuzz reads them from scripts). Every alternative found has
// absolute link and target paths and a usable name; choosing keeps one per name, sorted.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/alternatives.h"

namespace {

using hardbase::image::Alternative;

void Check(const std::vector<Alternative>& alts) {
  for (const Alternative& a : alts) {
    if (a.link.empty() || a.link[0] != '/' || a.target.empty() || a.target[0] != '/' ||
        a.name.empty() || a.name.find('/') != std::string::npos) {
      __builtin_trap();
    }
  }
  std::vector<Alternative> chosen = hardbase::image::ChooseAlternatives(alts);
  for (size_t i = 1; i < chosen.size(); ++i) {
    if (!(chosen[i - 1].name < chosen[i].name)) __builtin_trap();
  }
  for (const Alternative& a : alts) {
    for (const Alternative& c : chosen) {
      if (c.name == a.name && c.priority < a.priority) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jinfo = hardbase::image::ParseJinfo(text);
  if (jinfo) {
    for (const Alternative& a : *jinfo) {
      if (a.link != "/usr/bin/" + a.name) __builtin_trap();
    }
    Check(*jinfo);
  }
  std::vector<Alternative> installed;
  std::vector<std::string> words;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = std::min(text.find_first_of(" \n", pos), text.size());
    words.emplace_back(text.substr(pos, end - pos));
    if (end == text.size() || text[end] == '\n') {
      if (auto a = hardbase::image::AlternativeOfInstall(words)) installed.push_back(*a);
      words.clear();
    }
    pos = end + 1;
  }
  Check(installed);
  return 0;
}
