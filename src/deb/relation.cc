#include "deb/relation.h"

#include <fmt/core.h>

namespace hardbase::deb {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
// Characters policy 5.6.1 allows after the first of a package name.
bool IsNameChar(char c) { return IsLowerAlnum(c) || c == '+' || c == '-' || c == '.'; }
bool IsArchChar(char c) { return IsLowerAlnum(c) || c == '-'; }
// Build profile names: lower case letters, digits, '-' and '.' (as dpkg accepts them).
bool IsProfileChar(char c) { return IsLowerAlnum(c) || c == '-' || c == '.' || c == '+'; }

class RelationParser {
 public:
  RelationParser(std::string_view text, RelationKind kind) : text_(text), kind_(kind) {}

  Result<void> Run(const std::function<void(const RelationAtom&, bool)>& visit) {
    SkipSpace();
    if (AtEnd()) return {};
    while (true) {
      bool first = true;
      while (true) {
        SkipSpace();
        HB_TRY_VOID(ParseAtom());
        visit(atom_, first);
        first = false;
        SkipSpace();
        if (Peek() != '|') break;
        if (kind_ != RelationKind::kDepends) return Bad("alternatives ('|') are not allowed here");
        ++pos_;
      }
      SkipSpace();
      if (AtEnd()) return {};
      if (Peek() != ',') {
        return Bad(kind_ == RelationKind::kDepends ? "expected ',' or '|'" : "expected ','");
      }
      ++pos_;
      SkipSpace();
      if (AtEnd()) return Bad("expected a package name after ','");
    }
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }
  tl::unexpected<hardbase::Error> Bad(std::string_view what) const {
    return Fail(ErrorCode::kSpec, fmt::format("position {}: {}", pos_ + 1, what));
  }
  template <class Pred>
  std::string_view Take(Pred pred) {
    size_t start = pos_;
    while (!AtEnd() && pred(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Result<void> ParseAtom() {
    atom_.name = {};
    atom_.arch_qualifier = {};
    atom_.op = Relation::kAny;
    atom_.version = {};
    atom_.architectures.clear();
    atom_.build_profiles.clear();
    atom_.offset = pos_;

    if (!IsLowerAlnum(Peek())) return Bad("expected a package name");
    // Policy wants two characters at least; like dpkg and apt, one is accepted.
    atom_.name = Take(IsNameChar);
    if (Peek() == ':') {
      ++pos_;
      atom_.arch_qualifier = Take(IsArchChar);
      if (atom_.arch_qualifier.empty()) return Bad("expected an architecture after ':'");
    }
    SkipSpace();
    if (Peek() == '(') {
      ++pos_;
      SkipSpace();
      HB_TRY_VOID(ParseOperator());
      SkipSpace();
      size_t version_pos = pos_;
      atom_.version = Take([](char c) { return !IsSpace(c) && c != ')' && c != '(' && c != ','; });
      if (atom_.version.empty()) return Bad("expected a version");
      if (auto v = ParseVersion(atom_.version); !v) {
        pos_ = version_pos;
        return Bad(v.error().message);
      }
      SkipSpace();
      if (Peek() != ')') return Bad("expected ')'");
      ++pos_;
      SkipSpace();
    }
    if (Peek() == '[') {
      if (kind_ == RelationKind::kProvides)
        return Bad("architecture restrictions are not allowed here");
      ++pos_;
      while (true) {
        SkipSpace();
        if (Peek() == ']') break;
        size_t word_start = pos_;
        if (Peek() == '!') ++pos_;
        if (Take(IsArchChar).empty()) return Bad("expected an architecture or ']'");
        atom_.architectures.push_back(text_.substr(word_start, pos_ - word_start));
      }
      if (atom_.architectures.empty()) return Bad("empty architecture restriction");
      ++pos_;
      SkipSpace();
    }
    while (Peek() == '<') {
      if (kind_ == RelationKind::kProvides) return Bad("build profiles are not allowed here");
      ++pos_;
      std::vector<std::string_view> term;
      while (true) {
        SkipSpace();
        if (Peek() == '>') break;
        size_t word_start = pos_;
        if (Peek() == '!') ++pos_;
        if (Take(IsProfileChar).empty()) return Bad("expected a build profile or '>'");
        term.push_back(text_.substr(word_start, pos_ - word_start));
      }
      if (term.empty()) return Bad("empty build profile restriction");
      ++pos_;
      atom_.build_profiles.push_back(std::move(term));
      SkipSpace();
    }
    return {};
  }

  Result<void> ParseOperator() {
    size_t op_pos = pos_;
    char c = Peek();
    if (c == '<' || c == '>') {
      ++pos_;
      bool less = c == '<';
      if (Peek() == c) {
        ++pos_;
        atom_.op = less ? Relation::kLess : Relation::kGreater;
      } else if (Peek() == '=') {
        ++pos_;
        atom_.op = less ? Relation::kLessEq : Relation::kGreaterEq;
      } else {
        // The obsolete "<" and ">" mean "<=" and ">=" (policy 7.1).
        atom_.op = less ? Relation::kLessEq : Relation::kGreaterEq;
      }
    } else if (c == '=') {
      ++pos_;
      atom_.op = Relation::kEq;
    } else {
      return Bad("expected a relation operator (<<, <=, =, >=, >>)");
    }
    if (kind_ == RelationKind::kProvides && atom_.op != Relation::kEq) {
      pos_ = op_pos;
      return Bad("only '=' is allowed in Provides");
    }
    return {};
  }

  std::string_view text_;
  RelationKind kind_;
  size_t pos_ = 0;
  RelationAtom atom_;
};

}  // namespace

Result<void> VisitRelations(std::string_view text, RelationKind kind,
                            const std::function<void(const RelationAtom&, bool)>& visit) {
  return RelationParser(text, kind).Run(visit);
}

Result<RelationList> ParseRelations(std::string_view text, RelationKind kind) {
  RelationList list;
  HB_TRY_VOID(VisitRelations(text, kind, [&](const RelationAtom& atom, bool starts_group) {
    if (starts_group) list.emplace_back();
    list.back().push_back(atom);
  }));
  return list;
}

std::string_view RelationOperatorName(Relation op) {
  switch (op) {
    case Relation::kAny:
      return "";
    case Relation::kLess:
      return "<<";
    case Relation::kLessEq:
      return "<=";
    case Relation::kEq:
      return "=";
    case Relation::kGreaterEq:
      return ">=";
    case Relation::kGreater:
      return ">>";
  }
  return "";
}

std::string FormatAtom(const RelationAtom& atom) {
  std::string out(atom.name);
  if (!atom.arch_qualifier.empty()) {
    out += ':';
    out += atom.arch_qualifier;
  }
  if (atom.op != Relation::kAny) {
    out += fmt::format(" ({} {})", RelationOperatorName(atom.op), atom.version);
  }
  return out;
}

std::string FormatGroup(const RelationGroup& group) {
  std::string out;
  for (const RelationAtom& atom : group) {
    if (!out.empty()) out += " | ";
    out += FormatAtom(atom);
  }
  return out;
}

}  // namespace hardbase::deb
