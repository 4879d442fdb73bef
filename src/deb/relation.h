// Debian relationship fields (policy 7.1): Depends, Pre-Depends, Recommends, Suggests, Enhances,
// Conflicts, Breaks, Replaces, Provides, and the Build-Depends family.
//
// A field is a comma-separated list of groups; a group is one or more alternatives separated by
// `|`; an alternative is `name[:archqual] [(op version)] [[arch list]] [<profiles>...]`, with white
// space (newlines of folded fields included) allowed between any two tokens. Parsing is zero-copy:
// every string_view in a result points into the text passed in, which must outlive it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "deb/version.h"

namespace hardbase::deb {

// One alternative of a relation.
struct RelationAtom {
  std::string_view name;
  // What followed a ':' after the name: "any", "native" or an architecture name; "" when absent.
  std::string_view arch_qualifier;
  Relation op = Relation::kAny;
  std::string_view version;  // empty when op is kAny
  // The words of a `[...]` architecture restriction as written ("amd64", "!i386"); empty when
  // there is none. Packages files never carry one; source control files do.
  std::vector<std::string_view> architectures;
  // Each `<...>` build-profile term, as its words ("!nocheck", "stage1"); the terms are or-ed, the
  // words of one term and-ed.
  std::vector<std::vector<std::string_view>> build_profiles;
  size_t offset = 0;  // byte offset of `name` in the parsed text
};

// The alternatives of one comma-separated entry, in the order written ("a | b" is {a, b}).
using RelationGroup = std::vector<RelationAtom>;
using RelationList = std::vector<RelationGroup>;

// Which syntax a field allows.
enum class RelationKind {
  kDepends,    // Depends, Pre-Depends, Recommends, Suggests, Enhances, Build-Depends*: `|` allowed
  kConflicts,  // Conflicts, Breaks, Replaces, Build-Conflicts*: no alternatives
  kProvides,   // Provides: no alternatives, no restrictions, only an exact `(= version)`
};

// Parses a whole field value. An empty (or all white space) value is an empty list. Errors are
// kSpec and name the 1-based byte position in `text`: "position 17: expected ')'".
Result<RelationList> ParseRelations(std::string_view text,
                                    RelationKind kind = RelationKind::kDepends);

// The same parse without building a list: calls `visit` for every alternative in order, with
// `starts_group` true for the first alternative of each group. The atom passed is only valid
// during the call. Does not allocate for text without `[...]` or `<...>` restrictions, which makes
// it cheap enough to validate every relation field of a whole Packages file.
Result<void> VisitRelations(
    std::string_view text, RelationKind kind,
    const std::function<void(const RelationAtom&, bool starts_group)>& visit);

// The operator as written by policy: "<<", "<=", "=", ">=", ">>" ("" for kAny).
std::string_view RelationOperatorName(Relation op);

// "name[:qual] (op version)", the restrictions left out: for messages.
std::string FormatAtom(const RelationAtom& atom);
// The alternatives joined with " | ".
std::string FormatGroup(const RelationGroup& group);

}  // namespace hardbase::deb
