// Fuzzes the relationship-field parser (Depends, Conflicts, Provides syntaxes). Checks that every
// view stays inside the input, that the visitor and the list builder agree, and that a parsed
// list written back out parses to the same list.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deb/relation.h"

namespace {

using hardbase::deb::RelationAtom;
using hardbase::deb::RelationKind;
using hardbase::deb::RelationList;

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// The whole atom, restrictions included, in canonical spacing.
std::string Write(const RelationList& list) {
  std::string out;
  for (const auto& group : list) {
    if (!out.empty()) out += ", ";
    for (size_t i = 0; i < group.size(); ++i) {
      const RelationAtom& a = group[i];
      if (i > 0) out += " | ";
      out += hardbase::deb::FormatAtom(a);
      if (!a.architectures.empty()) {
        out += " [";
        for (size_t k = 0; k < a.architectures.size(); ++k) {
          out += (k ? " " : "") + std::string(a.architectures[k]);
        }
        out += "]";
      }
      for (const auto& term : a.build_profiles) {
        out += " <";
        for (size_t k = 0; k < term.size(); ++k) out += (k ? " " : "") + std::string(term[k]);
        out += ">";
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (RelationKind kind :
       {RelationKind::kDepends, RelationKind::kConflicts, RelationKind::kProvides}) {
    auto list = hardbase::deb::ParseRelations(text, kind);
    size_t visited = 0;
    auto visit =
        hardbase::deb::VisitRelations(text, kind, [&](const RelationAtom&, bool) { ++visited; });
    if (static_cast<bool>(list) != static_cast<bool>(visit)) __builtin_trap();
    if (!list) continue;
    size_t atoms = 0;
    for (const auto& group : *list) {
      if (group.empty()) __builtin_trap();
      if (kind != RelationKind::kDepends && group.size() != 1) __builtin_trap();
      for (const RelationAtom& a : group) {
        ++atoms;
        if (a.name.empty() || !Inside(a.name, text) || !Inside(a.arch_qualifier, text) ||
            !Inside(a.version, text) || a.offset >= text.size() ||
            text.substr(a.offset, a.name.size()) != a.name) {
          __builtin_trap();
        }
        if ((a.op == hardbase::deb::Relation::kAny) != a.version.empty()) __builtin_trap();
        for (auto arch : a.architectures) {
          if (!Inside(arch, text)) __builtin_trap();
        }
      }
    }
    if (atoms != visited) __builtin_trap();
    std::string written = Write(*list);
    auto again = hardbase::deb::ParseRelations(written, kind);
    if (!again || Write(*again) != written) __builtin_trap();
  }
  return 0;
}
