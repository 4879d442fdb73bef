#include "deb/resolver.h"

#include <fmt/core.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "deb/relation.h"
#include "deb/version.h"

namespace hardbase::deb {
namespace {

constexpr unsigned kMaxDepth = 3000;       // apt's IsModeChangeOk gives up deeper than this
constexpr size_t kMaxReasonLength = 2000;  // failure explanations nest; keep messages readable
// The required_by (and wanted_by) entry of what the request names.
constexpr std::string_view kRequestedBySpec = "(spec)";

// apt's numeric priorities (pkgCache::State::VerPriority); a version without a Priority field
// has 0, an unknown word counts as "extra".
int PriorityRank(std::string_view priority) {
  if (priority.empty()) return 0;
  std::string p = AsciiLower(priority);
  if (p == "required") return 1;
  if (p == "important") return 2;
  if (p == "standard") return 3;
  if (p == "optional") return 4;
  return 5;
}

std::string Truncate(std::string s) {
  if (s.size() > kMaxReasonLength) {
    s.resize(kMaxReasonLength);
    s += "...";
  }
  return s;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

struct Node;

// A version that satisfies a relation through its Provides (apt's PrvIterator).
struct ProvideLink {
  Node* owner;
  const PackageRecord* record;
  std::string_view version;  // provided version; "" when unversioned
};

// One package as apt's depcache sees it on a single-architecture system: the native package of a
// name (arch "all" versions included), or the pseudo package "name:any" that `:any` relations
// target. Holds apt's state: candidate, version marked for install, the Protected flag.
struct Node {
  std::string name;       // the group: the package name without a qualifier
  std::string qualifier;  // "" for the native package, "any", or an unsupported architecture
  std::vector<const PackageRecord*> versions;  // highest first; empty for virtual names
  const PackageRecord* original_candidate = nullptr;
  const PackageRecord* candidate = nullptr;
  const PackageRecord* install = nullptr;  // set when marked for install
  bool protect = false;
  bool excluded = false;
  bool essential = false;
  bool important = false;
  bool links_built = false;
  std::vector<ProvideLink> links;  // what provides this node
  std::optional<uint32_t> order;
  std::string failure;  // why apt gave up on this package, for error messages
};

struct Dep {
  RelationGroup alternatives;
  std::string_view field;  // "Pre-Depends", "Depends", "Conflicts", "Breaks"
};

struct Relations {
  std::vector<Dep> positive;  // Pre-Depends then Depends, as apt lists them
  std::vector<Dep> negative;  // Conflicts then Breaks, one atom each
};

struct Solution {
  Node* node;
  const PackageRecord* version;
  bool operator==(const Solution& o) const { return version == o.version && node == o.node; }
};

class Resolver {
 public:
  Resolver(const PackageIndex& index, const ResolveRequest& request)
      : index_(index), request_(request) {}

  Result<Resolution> Run();

 private:
  bool ArchOk(const PackageRecord* r) const {
    return r->architecture == request_.arch || r->architecture == "all";
  }
  Node* GetNode(std::string_view name, std::string_view qualifier = "");
  Node* Target(const RelationAtom& atom);
  const std::vector<ProvideLink>& Links(Node* node);
  const Relations& RelationsOf(const PackageRecord* record);
  uint32_t Order(Node* node);

  bool AtomSatisfied(const RelationAtom& atom, const Node* parent, bool negative,
                     bool use_candidate);
  bool GroupSatisfied(const Dep& dep, const Node* parent, bool use_candidate);
  std::vector<Solution> PossibleSolutions(const RelationGroup& group, const Node* parent,
                                          bool negative, bool sorted);

  // apt's pkgDepCache::MarkInstall and its helpers, reduced to what can happen when nothing is
  // installed yet.
  bool MarkInstall(Node* pkg, bool auto_inst, unsigned depth, bool from_user);
  bool DependenciesSatisfiableByCandidates(Node* pkg);
  bool RemoveConflicts(Node* pkg, const std::vector<const Dep*>& to_remove, bool from_user);
  bool InstallDependencies(Node* pkg, unsigned depth, const std::vector<const Dep*>& to_install,
                           bool propagate_protected, bool from_user);
  bool MarkKeep(Node* pkg);
  void SetFailure(Node* node, std::string why) {
    if (node->failure.empty()) node->failure = Truncate(std::move(why));
  }

  std::string ExplainGroup(const Dep& dep, const Node* parent);
  std::string ExplainAtom(const RelationAtom& atom, const Node* parent);
  std::string Available(const RelationAtom& atom);
  std::string DidYouMean(std::string_view name) const;

  Result<Node*> RequestedNode(const std::string& spec);

  const PackageIndex& index_;
  const ResolveRequest& request_;
  std::unordered_map<std::string, std::unique_ptr<Node>> nodes_;
  std::unordered_map<const PackageRecord*, Relations> relations_;
  std::optional<Error> internal_error_;
};

Node* Resolver::GetNode(std::string_view name, std::string_view qualifier) {
  std::string key(name);
  if (!qualifier.empty()) {
    key += ':';
    key += qualifier;
  }
  auto& slot = nodes_[key];
  if (slot) return slot.get();
  slot = std::make_unique<Node>();
  Node* n = slot.get();
  n->name = std::string(name);
  n->qualifier = std::string(qualifier);
  if (qualifier.empty()) {
    for (const PackageRecord* r : index_.Versions(name)) {
      if (!ArchOk(r)) continue;
      n->versions.push_back(r);
      n->essential = n->essential || r->essential;
      n->important = n->important || r->important;
    }
    if (!n->versions.empty()) n->original_candidate = n->candidate = n->versions.front();
  }
  return n;
}

Node* Resolver::Target(const RelationAtom& atom) {
  std::string_view q = atom.arch_qualifier;
  // "native" and the target architecture name the native package; with a single architecture
  // nothing else can satisfy them.
  if (q.empty() || q == "native" || q == request_.arch) return GetNode(atom.name);
  return GetNode(atom.name, q);
}

const std::vector<ProvideLink>& Resolver::Links(Node* node) {
  if (node->links_built) return node->links;
  node->links_built = true;
  if (node->qualifier.empty()) {
    for (const Provider& p : index_.Providers(node->name)) {
      if (!ArchOk(p.package)) continue;
      if (!p.arch_qualifier.empty() && p.arch_qualifier != request_.arch) continue;
      node->links.push_back({GetNode(p.package->name), p.package, p.version});
    }
  } else if (node->qualifier == "any") {
    // apt gives every Multi-Arch: allowed version an implicit "Provides: name:any (= version)",
    // and every Provides of such a version a ":any" twin.
    Node* base = GetNode(node->name);
    for (const PackageRecord* v : base->versions) {
      if (v->multi_arch == MultiArch::kAllowed) node->links.push_back({base, v, v->version});
    }
    for (const Provider& p : index_.Providers(node->name)) {
      if (!ArchOk(p.package)) continue;
      bool explicit_any = p.arch_qualifier == "any";
      bool implicit_any = p.arch_qualifier.empty() && p.package->multi_arch == MultiArch::kAllowed;
      if (explicit_any || implicit_any) {
        node->links.push_back({GetNode(p.package->name), p.package, p.version});
      }
    }
  }
  return node->links;
}

const Relations& Resolver::RelationsOf(const PackageRecord* record) {
  auto it = relations_.find(record);
  if (it != relations_.end()) return it->second;
  Relations rel;
  auto add = [&](std::string_view text, std::string_view field, RelationKind kind,
                 std::vector<Dep>& out) {
    if (text.empty()) return;
    auto parsed = ParseRelations(text, kind);
    if (!parsed) {
      // The index checked every relation field when it was added.
      if (!internal_error_) {
        internal_error_ =
            Error{ErrorCode::kInternal, fmt::format("{} {}: {}: {}", record->name, record->version,
                                                    field, parsed.error().message)};
      }
      return;
    }
    for (RelationGroup& g : *parsed) {
      if (kind == RelationKind::kConflicts) {
        for (RelationAtom& a : g) out.push_back(Dep{{std::move(a)}, field});
      } else {
        out.push_back(Dep{std::move(g), field});
      }
    }
  };
  add(record->pre_depends, "Pre-Depends", RelationKind::kDepends, rel.positive);
  add(record->depends, "Depends", RelationKind::kDepends, rel.positive);
  add(record->conflicts, "Conflicts", RelationKind::kConflicts, rel.negative);
  add(record->breaks, "Breaks", RelationKind::kConflicts, rel.negative);
  return relations_.emplace(record, std::move(rel)).first->second;
}

uint32_t Resolver::Order(Node* node) {
  if (!node->order) node->order = index_.FirstMentionOrder(node->name);
  return *node->order;
}

bool VersionOk(std::string_view version, const RelationAtom& atom) {
  return atom.op == Relation::kAny || Satisfies(version, atom.op, atom.version);
}

bool ProvideOk(std::string_view provided, const RelationAtom& atom) {
  if (atom.op == Relation::kAny) return true;
  if (provided.empty()) return false;  // an unversioned Provides never meets a versioned relation
  return Satisfies(provided, atom.op, atom.version);
}

// apt's CheckDep with InstallVersion (use_candidate false) or CandidateVersion. A negative
// relation is "satisfied" when something matches it: a conflict exists. Conflicts never apply
// within the package's own name (group).
bool Resolver::AtomSatisfied(const RelationAtom& atom, const Node* parent, bool negative,
                             bool use_candidate) {
  Node* t = Target(atom);
  if (!negative && t->excluded) return true;
  if (!(negative && (t->name == parent->name || t->excluded))) {
    const PackageRecord* v = use_candidate ? t->candidate : t->install;
    if (v && VersionOk(v->version, atom)) return true;
  }
  for (const ProvideLink& l : Links(t)) {
    if (negative && (l.owner->name == parent->name || l.owner->excluded)) continue;
    const PackageRecord* v = use_candidate ? l.owner->candidate : l.owner->install;
    if (v == l.record && ProvideOk(l.version, atom)) return true;
  }
  return false;
}

bool Resolver::GroupSatisfied(const Dep& dep, const Node* parent, bool use_candidate) {
  for (const RelationAtom& a : dep.alternatives) {
    if (AtomSatisfied(a, parent, false, use_candidate)) return true;
  }
  return false;
}

// apt's getAllPossibleSolutions over CANDIDATE versions: per alternative, the target's candidate
// and the providers' candidates that satisfy it, ranked by CompareProviders when `sorted`.
std::vector<Solution> Resolver::PossibleSolutions(const RelationGroup& group, const Node* parent,
                                                  bool negative, bool sorted) {
  std::vector<Solution> out;
  for (const RelationAtom& atom : group) {
    Node* t = Target(atom);
    std::vector<Solution> list;
    bool self = negative && t->name == parent->name;
    if (!self && t->candidate && !(negative && t->excluded) &&
        VersionOk(t->candidate->version, atom)) {
      list.push_back({t, t->candidate});
    }
    for (const ProvideLink& l : Links(t)) {
      if (negative && (l.owner->name == parent->name || l.owner->excluded)) continue;
      if (l.owner->candidate == l.record && ProvideOk(l.version, atom)) {
        list.push_back({l.owner, l.record});
      }
    }
    if (sorted) {
      // apt's CompareProviders, minus what needs installed packages or several architectures.
      std::sort(list.begin(), list.end(), [&](const Solution& a, const Solution& b) {
        Node* x = a.node;
        Node* y = b.node;
        if (x->protect != y->protect) return x->protect;
        if (x->name != y->name) {
          if (x->name == t->name) return true;
          if (y->name == t->name) return false;
        }
        if (x->essential != y->essential) return x->essential;
        if (x->important != y->important) return x->important;
        int px = PriorityRank(a.version->priority);
        int py = PriorityRank(b.version->priority);
        if (px != py) return px < py;
        return Order(x) > Order(y);
      });
    }
    out.insert(out.end(), list.begin(), list.end());
  }
  if (!sorted) {
    std::sort(out.begin(), out.end(),
              [](const Solution& a, const Solution& b) { return a.version < b.version; });
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (!negative) {
    std::erase_if(out, [](const Solution& s) { return s.node->protect && !s.node->install; });
  }
  return out;
}

bool Resolver::DependenciesSatisfiableByCandidates(Node* pkg) {
  for (const Dep& dep : RelationsOf(pkg->candidate).positive) {
    if (GroupSatisfied(dep, pkg, false) || GroupSatisfied(dep, pkg, true)) continue;
    SetFailure(pkg, pkg->name + " -> " + ExplainGroup(dep, pkg));
    if (!pkg->protect) {
      // apt discards the candidate so that nothing tries it again.
      pkg->candidate = nullptr;
      pkg->install = nullptr;
    }
    return false;
  }
  return true;
}

bool Resolver::MarkKeep(Node* pkg) {
  if (pkg->protect) return false;
  pkg->install = nullptr;
  return true;
}

bool Resolver::RemoveConflicts(Node* pkg, const std::vector<const Dep*>& to_remove,
                               bool from_user) {
  bool propagate = pkg->protect;
  bool failed = false;
  for (const Dep* d : to_remove) {
    const RelationAtom& atom = d->alternatives.front();
    for (const Solution& s : PossibleSolutions(d->alternatives, pkg, true, true)) {
      Node* other = s.node;
      if (other->candidate != s.version) continue;
      std::string relation = fmt::format("{} {}: {}", pkg->name, d->field, FormatAtom(atom));
      if (other->install) {
        if (!MarkKeep(other)) {
          SetFailure(pkg, fmt::format("{}, but {} is already selected", relation, other->name));
          failed = true;
          if (!propagate && !from_user) break;
          continue;
        }
        SetFailure(other, fmt::format("{}: dropped by {}", other->name, relation));
      }
      if (propagate) {
        SetFailure(other, fmt::format("{}: ruled out by {}", other->name, relation));
        other->candidate = other->install;  // apt's MarkInstall_DiscardCandidate
        other->protect = true;
      }
    }
    if (failed && !propagate && !from_user) break;
  }
  return !failed;
}

bool Resolver::InstallDependencies(Node* pkg, unsigned depth,
                                   const std::vector<const Dep*>& to_install,
                                   bool propagate_protected, bool from_user) {
  bool failed = false;
  for (const Dep* dep : to_install) {
    bool found = GroupSatisfied(*dep, pkg, false);
    if (found && !propagate_protected) continue;
    if (found) {
      // A protected package protects the single possible solution of each of its dependencies.
      std::vector<Solution> sols = PossibleSolutions(dep->alternatives, pkg, false, false);
      if (sols.size() != 1) continue;
      Node* inst = sols.front().node;
      if (inst->protect) continue;
      inst->protect = true;
      if (!MarkInstall(inst, true, depth + 1, false)) failed = true;
      continue;
    }
    std::vector<Solution> sols = PossibleSolutions(dep->alternatives, pkg, false, true);
    for (const Solution& s : sols) {
      Node* inst = s.node;
      if (inst->candidate != s.version) continue;
      if (propagate_protected && sols.size() == 1) {
        if (!MarkInstall(inst, false, depth + 1, false)) continue;
        inst->protect = true;
      }
      if (!MarkInstall(inst, true, depth + 1, false)) continue;
      found = true;
      break;
    }
    if (!found) {
      SetFailure(pkg, pkg->name + " -> " + ExplainGroup(*dep, pkg));
      failed = true;
      if (!propagate_protected && !from_user) break;
    }
  }
  return !failed;
}

bool Resolver::MarkInstall(Node* pkg, bool auto_inst, unsigned depth, bool from_user) {
  if (pkg->excluded) return true;
  // IsModeChangeOk
  if (depth > kMaxDepth || pkg->versions.empty()) return false;
  if (!from_user && !pkg->install && pkg->protect) return false;
  if (!pkg->candidate) return false;
  if (!pkg->protect && pkg->install) {
    bool broken = false;
    for (const Dep& dep : RelationsOf(pkg->install).positive) {
      if (!GroupSatisfied(dep, pkg, false)) {
        broken = true;
        break;
      }
    }
    if (!broken) {
      for (const Dep& dep : RelationsOf(pkg->install).negative) {
        if (AtomSatisfied(dep.alternatives.front(), pkg, true, false)) {
          broken = true;
          break;
        }
      }
    }
    if (!broken) return true;
  }
  // IsInstallOk (a single architecture never has Multi-Arch: same siblings out of sync)
  if (auto_inst && !DependenciesSatisfiableByCandidates(pkg)) return false;

  if (from_user) pkg->install = pkg->candidate;
  bool fail_early = !pkg->protect && !from_user;
  bool has_failed = false;
  std::vector<const Dep*> to_install, to_remove;
  if (auto_inst) {
    const Relations& rel = RelationsOf(pkg->candidate);
    bool propagate = pkg->protect;
    for (const Dep& dep : rel.positive) {
      if (GroupSatisfied(dep, pkg, false) && !propagate) continue;
      to_install.push_back(&dep);
    }
    for (const Dep& dep : rel.negative) {
      if (!AtomSatisfied(dep.alternatives.front(), pkg, true, false) && !propagate) continue;
      to_remove.push_back(&dep);
    }
    if (!RemoveConflicts(pkg, to_remove, from_user)) {
      if (fail_early) return false;
      has_failed = true;
    }
  }
  if (!from_user) pkg->install = pkg->candidate;
  if (!auto_inst) return !has_failed;

  // While its dependencies are marked, the package is protected (apt's ScopedProtected).
  bool already_protected = pkg->protect;
  pkg->protect = true;
  bool ok = InstallDependencies(pkg, depth, to_install, already_protected, from_user);
  if (!ok) {
    if (fail_early) {
      // apt's MarkInstall_DiscardInstall: unmarked, and its candidate discarded.
      pkg->install = nullptr;
      pkg->candidate = nullptr;
      if (!already_protected) pkg->protect = false;
      return false;
    }
    has_failed = true;
  }
  if (!already_protected) pkg->protect = false;
  return !has_failed;
}

std::string Resolver::DidYouMean(std::string_view name) const {
  std::vector<std::string> similar = index_.SimilarNames(name);
  if (similar.empty()) return "";
  return fmt::format(" (did you mean {}?)", JoinNames(similar));
}

std::string Resolver::Available(const RelationAtom& atom) {
  std::vector<std::string> parts;
  for (const PackageRecord* r : index_.Versions(atom.name)) {
    std::string where = index_.RepositoryLabel(r->repository);
    if (!ArchOk(r)) where += ", " + std::string(r->architecture);
    if (atom.arch_qualifier == "any" && r->multi_arch != MultiArch::kAllowed) {
      where += ", not Multi-Arch: allowed";
    }
    parts.push_back(fmt::format("{} ({})", r->version, where));
  }
  for (const Provider& p : index_.Providers(atom.name)) {
    if (!ArchOk(p.package)) continue;
    std::string what = fmt::format("{} {} provides it", p.package->name, p.package->version);
    if (!p.version.empty()) what += fmt::format(" (= {})", p.version);
    parts.push_back(std::move(what));
  }
  if (parts.empty()) return "none";
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

std::string Resolver::ExplainAtom(const RelationAtom& atom, const Node* parent) {
  Node* t = Target(atom);
  // The candidates that would satisfy the relation, before anything was ruled out.
  std::vector<Node*> candidates;
  if (t->original_candidate && VersionOk(t->original_candidate->version, atom)) {
    candidates.push_back(t);
  }
  for (const ProvideLink& l : Links(t)) {
    if (l.owner->original_candidate == l.record && ProvideOk(l.version, atom)) {
      candidates.push_back(l.owner);
    }
  }
  std::string text = FormatAtom(atom);
  if (candidates.empty()) {
    if (!index_.Contains(atom.name)) {
      return fmt::format("{}: unknown package{}", text, DidYouMean(atom.name));
    }
    if (!t->qualifier.empty() && t->qualifier != "any") {
      return fmt::format("{}: architecture '{}' is not the target ({})", text, t->qualifier,
                         request_.arch);
    }
    for (const PackageRecord* r : t->versions) {
      if (r != t->original_candidate && VersionOk(r->version, atom)) {
        // apt installs only candidates; an older version needs a pin in the spec.
        return fmt::format(
            "{}: the candidate {} does not satisfy it and only candidates are installed (require "
            "{}={} to use that version); available: {}",
            text, t->original_candidate->version, t->name, r->version, Available(atom));
      }
    }
    return fmt::format("{}: no version satisfies; available: {}", text, Available(atom));
  }
  for (Node* c : candidates) {
    if (c == parent || c->failure.empty()) continue;
    if (c->name == atom.name) return c->failure;
    return fmt::format("{} -> {}", text, c->failure);
  }
  return fmt::format("{}: cannot be installed", text);
}

std::string Resolver::ExplainGroup(const Dep& dep, const Node* parent) {
  if (dep.alternatives.size() == 1) return ExplainAtom(dep.alternatives.front(), parent);
  std::string parts;
  for (const RelationAtom& a : dep.alternatives) {
    if (!parts.empty()) parts += "; ";
    parts += ExplainAtom(a, parent);
  }
  return Truncate(fmt::format("{}: no alternative can be installed ({})",
                              FormatGroup(dep.alternatives), parts));
}

Result<Node*> Resolver::RequestedNode(const std::string& spec) {
  std::string_view name = spec;
  std::string_view version;
  if (auto eq = name.find('='); eq != std::string_view::npos) {
    version = name.substr(eq + 1);
    name = name.substr(0, eq);
    if (version.empty()) {
      return Fail(ErrorCode::kResolve, fmt::format("'{}': empty version after '='", spec));
    }
  }
  if (name.empty()) return Fail(ErrorCode::kResolve, "empty package name in request");
  if (!index_.Contains(name)) {
    return Fail(ErrorCode::kResolve, fmt::format("unknown package '{}'{}", name, DidYouMean(name)));
  }
  Node* node = GetNode(name);
  if (node->versions.empty()) {
    if (!index_.Versions(name).empty()) {
      RelationAtom atom;
      atom.name = name;
      return Fail(ErrorCode::kResolve,
                  fmt::format("package '{}' has no version for {}; available: {}", name,
                              request_.arch, Available(atom)));
    }
    // A virtual package: like apt, take its provider when there is exactly one.
    std::vector<Node*> providers;
    for (const ProvideLink& l : Links(node)) {
      if (l.owner->candidate == l.record &&
          std::find(providers.begin(), providers.end(), l.owner) == providers.end()) {
        providers.push_back(l.owner);
      }
    }
    if (providers.size() == 1 && version.empty()) return providers.front();
    std::vector<std::string> names;
    for (Node* p : providers) names.push_back(p->name);
    std::sort(names.begin(), names.end());
    if (names.empty()) {
      return Fail(ErrorCode::kResolve,
                  fmt::format("'{}' is a virtual package and nothing for {} provides it", name,
                              request_.arch));
    }
    return Fail(ErrorCode::kResolve,
                fmt::format("'{}' is a virtual package provided by {}: name one of them", name,
                            JoinNames(names)));
  }
  if (!version.empty()) {
    const PackageRecord* pinned = nullptr;
    for (const PackageRecord* r : node->versions) {
      if (r->version == version) {
        pinned = r;
        break;
      }
    }
    if (!pinned) {
      for (const PackageRecord* r : node->versions) {
        if (CompareVersions(r->version, version) == 0) {
          pinned = r;
          break;
        }
      }
    }
    if (!pinned) {
      RelationAtom atom;
      atom.name = name;
      return Fail(ErrorCode::kResolve, fmt::format("no version '{}' of '{}'; available: {}",
                                                   version, name, Available(atom)));
    }
    node->original_candidate = node->candidate = pinned;
  }
  return node;
}

Result<Resolution> Resolver::Run() {
  if (request_.arch.empty()) return Fail(ErrorCode::kResolve, "no architecture given");
  std::vector<std::string> excluded_names;
  for (const std::string& name : request_.exclude) {
    if (std::find(excluded_names.begin(), excluded_names.end(), name) != excluded_names.end()) {
      continue;
    }
    if (!index_.Contains(name)) {
      return Fail(ErrorCode::kResolve,
                  fmt::format("exclude: unknown package '{}'{}", name, DidYouMean(name)));
    }
    Node* node = GetNode(name);
    node->excluded = true;
    node->install = node->candidate;  // stands installed for everything that needs it
    excluded_names.push_back(name);
  }
  std::set<std::string> left_out_names;
  for (const std::string& name : request_.leave_out) {
    // A policy list names packages some indexes lack; the user's exclusion of one wins.
    if (!index_.Contains(name)) continue;
    Node* node = GetNode(name);
    if (node->excluded) continue;
    node->excluded = true;
    node->install = node->candidate;
    left_out_names.insert(name);
  }

  std::map<std::string, std::set<std::string>> wanted_by;
  std::vector<Node*> roots;
  for (const std::string& spec : request_.packages) {
    HB_TRY(Node * node, RequestedNode(spec));
    if (left_out_names.count(node->name)) {
      wanted_by[node->name].insert(std::string(kRequestedBySpec));
      continue;
    }
    if (node->excluded) {
      return Fail(ErrorCode::kResolve,
                  fmt::format("package '{}' is both requested and excluded", node->name));
    }
    if (std::find(roots.begin(), roots.end(), node) == roots.end()) roots.push_back(node);
  }

  // apt-get install: every requested package is protected and marked first, then each one's
  // dependencies are marked in the order requested.
  for (Node* root : roots) {
    root->protect = true;
    MarkInstall(root, false, 0, true);
  }
  for (Node* root : roots) MarkInstall(root, true, 0, true);
  if (internal_error_) return Fail(*internal_error_);

  // Keep what the requested packages reach through satisfied dependencies.
  std::map<Node*, std::set<std::string>> required_by;
  std::map<Node*, Node*> parent;
  std::vector<Node*> order;
  std::deque<Node*> queue;
  for (Node* root : roots) {
    required_by[root].insert(std::string(kRequestedBySpec));
    order.push_back(root);
    queue.push_back(root);
    parent[root] = nullptr;
  }
  auto chain = [&](Node* n) {
    std::vector<std::string> names;
    for (Node* p = n; p; p = parent[p]) names.push_back(p->name);
    std::string out;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      if (!out.empty()) out += " -> ";
      out += *it;
    }
    return out;
  };
  while (!queue.empty()) {
    Node* p = queue.front();
    queue.pop_front();
    if (!p->install) {
      // A requested package apt could not even start on (its dependencies are not satisfiable).
      std::string why = p->failure.empty() ? p->name + ": cannot be installed" : p->failure;
      return Fail(ErrorCode::kResolve, why);
    }
    const Relations& rel = RelationsOf(p->install);
    const Dep* broken = nullptr;
    for (const Dep& dep : rel.positive) {
      std::vector<Node*> satisfiers;
      for (const RelationAtom& atom : dep.alternatives) {
        Node* t = Target(atom);
        if (t->excluded || (t->install && VersionOk(t->install->version, atom))) {
          satisfiers.push_back(t);
        }
        for (const ProvideLink& l : Links(t)) {
          if (l.owner->install == l.record && ProvideOk(l.version, atom)) {
            satisfiers.push_back(l.owner);
          }
        }
      }
      if (satisfiers.empty() && !broken) broken = &dep;
      for (Node* s : satisfiers) {
        if (s->excluded) {
          wanted_by[s->name].insert(p->name);
          continue;
        }
        if (s == p) continue;
        required_by[s].insert(p->name);
        if (!parent.count(s)) {
          parent[s] = p;
          order.push_back(s);
          queue.push_back(s);
        }
      }
    }
    if (broken) {
      // What apt recorded when it gave up on this package is the root cause; without a record
      // (apt unmarked a dependency later), explain the first unsatisfied dependency.
      std::string prefix = parent[p] ? chain(parent[p]) + " -> " : "";
      std::string why =
          !p->failure.empty() ? p->failure : p->name + " -> " + ExplainGroup(*broken, p);
      return Fail(ErrorCode::kResolve, prefix + why);
    }
  }
  if (internal_error_) return Fail(*internal_error_);

  // Conflicts and Breaks between selected packages.
  for (Node* p : order) {
    for (const Dep& dep : RelationsOf(p->install).negative) {
      const RelationAtom& atom = dep.alternatives.front();
      Node* t = Target(atom);
      std::vector<Node*> hits;
      if (t->name != p->name && !t->excluded && t->install && parent.count(t) &&
          VersionOk(t->install->version, atom)) {
        hits.push_back(t);
      }
      for (const ProvideLink& l : Links(t)) {
        if (l.owner->name == p->name || l.owner->excluded || !parent.count(l.owner)) continue;
        if (l.owner->install == l.record && ProvideOk(l.version, atom)) hits.push_back(l.owner);
      }
      if (!hits.empty()) {
        Node* o = hits.front();
        return Fail(ErrorCode::kResolve,
                    fmt::format("cannot install both {} {} and {} {}: {} {}: {} ({}; {})", p->name,
                                p->install->version, o->name, o->install->version, p->name,
                                dep.field, FormatAtom(atom), chain(p), chain(o)));
      }
    }
  }

  Resolution res;
  for (Node* n : order) {
    SelectedPackage sp;
    sp.record = n->install;
    const std::set<std::string>& by = required_by[n];
    sp.required_by.assign(by.begin(), by.end());
    res.packages.push_back(std::move(sp));
  }
  std::sort(res.packages.begin(), res.packages.end(),
            [](const SelectedPackage& a, const SelectedPackage& b) {
              return a.record->name < b.record->name;
            });
  std::sort(excluded_names.begin(), excluded_names.end());
  for (const std::string& name : excluded_names) {
    Exclusion e;
    e.name = name;
    const std::set<std::string>& by = wanted_by[name];
    e.wanted_by.assign(by.begin(), by.end());
    res.exclusions.push_back(std::move(e));
  }
  for (const std::string& name : left_out_names) {
    auto it = wanted_by.find(name);
    if (it == wanted_by.end()) continue;
    res.left_out.push_back({name, std::vector<std::string>(it->second.begin(), it->second.end())});
  }
  return res;
}

}  // namespace

Result<Resolution> ResolveClosure(const PackageIndex& index, const ResolveRequest& request) {
  Resolver resolver(index, request);
  return resolver.Run();
}

}  // namespace hardbase::deb
