#include "deb/package_index.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

#include "base/strings.h"
#include "deb/control.h"
#include "deb/relation.h"
#include "deb/version.h"

namespace hardbase::deb {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsValidPackageName(std::string_view name) {
  if (name.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return false;
  for (char c : name) {
    if (!alnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsValidArchitecture(std::string_view arch) {
  if (arch.empty()) return false;
  for (char c : arch) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A repository-relative path that stays inside the repository: not absolute, no "." or ".."
// component, no white space or control characters.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 127 || c == '\\') return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool ParseSize(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool IsYes(std::string_view v) { return EqualsIgnoreCase(v, "yes"); }

}  // namespace

void PackageIndex::SetRepositoryLabel(RepositoryId id, std::string label) {
  labels_[id] = std::move(label);
}

std::string PackageIndex::RepositoryLabel(RepositoryId id) const {
  auto it = labels_.find(id);
  if (it != labels_.end()) return it->second;
  return fmt::format("repository {}", id);
}

Result<void> PackageIndex::AddPackagesFile(std::shared_ptr<const std::string> text,
                                           RepositoryId repo) {
  if (!text) return Fail(ErrorCode::kInternal, "AddPackagesFile: no text");
  std::string_view all(*text);
  // Every stanza takes at least 128 bytes (the required fields), so this never reallocates; the
  // capacity left over is address space the process never touches.
  std::vector<PackageRecord> records;
  records.reserve(all.size() / 128 + 16);
  struct PendingProvide {
    size_t record;
    std::string_view name;
    std::string_view version;
    std::string_view arch_qualifier;
  };
  std::vector<PendingProvide> provides;

  auto visited = ForEachStanza(all, [&](const Stanza& stanza) -> Result<void> {
    PackageRecord rec;
    rec.repository = repo;
    rec.line = static_cast<uint32_t>(stanza.line());
    std::string_view size_text, source_field, multi_arch, essential;
    bool has_size = false;
    for (const Field& f : stanza.fields()) {
      std::string_view n = f.name;
      if (n.empty()) continue;
      switch (AsciiLower(n[0])) {
        case 'a':
          if (EqualsIgnoreCase(n, "architecture")) rec.architecture = f.value;
          break;
        case 'b':
          if (EqualsIgnoreCase(n, "breaks")) rec.breaks = f.value;
          break;
        case 'c':
          if (EqualsIgnoreCase(n, "conflicts")) rec.conflicts = f.value;
          break;
        case 'd':
          if (EqualsIgnoreCase(n, "depends")) rec.depends = f.value;
          break;
        case 'e':
          if (EqualsIgnoreCase(n, "essential"))
            essential = f.value;
          else if (EqualsIgnoreCase(n, "enhances"))
            rec.enhances = f.value;
          break;
        case 'f':
          if (EqualsIgnoreCase(n, "filename")) rec.filename = f.value;
          break;
        case 'i':
          if (EqualsIgnoreCase(n, "important")) rec.important = rec.important || IsYes(f.value);
          break;
        case 'm':
          if (EqualsIgnoreCase(n, "multi-arch"))
            multi_arch = f.value;
          else if (EqualsIgnoreCase(n, "maintainer"))
            rec.maintainer = f.value;
          break;
        case 'p':
          if (EqualsIgnoreCase(n, "package"))
            rec.name = f.value;
          else if (EqualsIgnoreCase(n, "pre-depends"))
            rec.pre_depends = f.value;
          else if (EqualsIgnoreCase(n, "provides"))
            rec.provides = f.value;
          else if (EqualsIgnoreCase(n, "priority"))
            rec.priority = f.value;
          else if (EqualsIgnoreCase(n, "protected"))
            rec.important = rec.important || IsYes(f.value);
          break;
        case 'r':
          if (EqualsIgnoreCase(n, "recommends"))
            rec.recommends = f.value;
          else if (EqualsIgnoreCase(n, "replaces"))
            rec.replaces = f.value;
          break;
        case 's':
          if (EqualsIgnoreCase(n, "size")) {
            size_text = f.value;
            has_size = true;
          } else if (EqualsIgnoreCase(n, "sha256")) {
            rec.sha256 = f.value;
          } else if (EqualsIgnoreCase(n, "source")) {
            source_field = f.value;
          } else if (EqualsIgnoreCase(n, "suggests")) {
            rec.suggests = f.value;
          }
          break;
        case 'v':
          if (EqualsIgnoreCase(n, "version")) rec.version = f.value;
          break;
        default:
          break;
      }
    }

    auto bad = [&](std::string_view what) {
      if (rec.name.empty())
        return Fail(ErrorCode::kSpec, fmt::format("line {}: {}", rec.line, what));
      return Fail(ErrorCode::kSpec,
                  fmt::format("line {}: package '{}': {}", rec.line, rec.name, what));
    };
    if (rec.name.empty()) return bad("missing Package field");
    if (!IsValidPackageName(rec.name)) return bad("invalid package name");
    if (rec.version.empty()) return bad("missing Version field");
    if (auto v = ParseVersion(rec.version); !v) return bad(v.error().message);
    if (rec.architecture.empty()) return bad("missing Architecture field");
    if (!IsValidArchitecture(rec.architecture)) {
      return bad(fmt::format("invalid architecture '{}'", rec.architecture));
    }
    if (rec.filename.empty()) return bad("missing Filename field");
    if (!IsSafeRelativePath(rec.filename)) {
      return bad(
          fmt::format("Filename '{}' is not a relative path inside the repository", rec.filename));
    }
    if (!has_size) return bad("missing Size field");
    if (!ParseSize(size_text, &rec.size)) return bad(fmt::format("invalid Size '{}'", size_text));
    if (rec.sha256.empty()) return bad("missing SHA256 field");
    if (rec.sha256.size() != 64 || !std::all_of(rec.sha256.begin(), rec.sha256.end(), IsHex)) {
      return bad("SHA256 is not 64 hex digits");
    }

    rec.source = rec.name;
    rec.source_version = rec.version;
    if (!source_field.empty()) {
      std::string_view s = source_field;
      size_t paren = s.find('(');
      std::string_view name = s.substr(0, paren);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      if (!IsValidPackageName(name)) return bad(fmt::format("invalid Source '{}'", source_field));
      rec.source = name;
      if (paren != std::string_view::npos) {
        size_t close = s.find(')', paren);
        if (close == std::string_view::npos || close + 1 != s.size()) {
          return bad(fmt::format("invalid Source '{}'", source_field));
        }
        std::string_view v = s.substr(paren + 1, close - paren - 1);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        if (auto pv = ParseVersion(v); !pv) {
          return bad(fmt::format("invalid Source '{}': {}", source_field, pv.error().message));
        }
        rec.source_version = v;
      }
    }

    if (multi_arch.empty() || EqualsIgnoreCase(multi_arch, "no")) {
      rec.multi_arch = MultiArch::kNo;
    } else if (EqualsIgnoreCase(multi_arch, "same")) {
      rec.multi_arch = MultiArch::kSame;
    } else if (EqualsIgnoreCase(multi_arch, "foreign")) {
      rec.multi_arch = MultiArch::kForeign;
    } else if (EqualsIgnoreCase(multi_arch, "allowed")) {
      rec.multi_arch = MultiArch::kAllowed;
    } else {
      return bad(fmt::format("invalid Multi-Arch '{}'", multi_arch));
    }
    if (!essential.empty()) {
      if (IsYes(essential))
        rec.essential = true;
      else if (!EqualsIgnoreCase(essential, "no"))
        return bad(fmt::format("invalid Essential '{}'", essential));
    }

    auto check = [&](std::string_view field_name, std::string_view value,
                     RelationKind kind) -> Result<void> {
      if (value.empty()) return {};
      auto r = VisitRelations(value, kind, [](const RelationAtom&, bool) {});
      if (!r) return bad(fmt::format("{}: {}", field_name, r.error().message));
      return {};
    };
    HB_TRY_VOID(check("Pre-Depends", rec.pre_depends, RelationKind::kDepends));
    HB_TRY_VOID(check("Depends", rec.depends, RelationKind::kDepends));
    HB_TRY_VOID(check("Conflicts", rec.conflicts, RelationKind::kConflicts));
    HB_TRY_VOID(check("Breaks", rec.breaks, RelationKind::kConflicts));
    if (!rec.provides.empty()) {
      size_t index = records.size();
      auto r = VisitRelations(
          rec.provides, RelationKind::kProvides, [&](const RelationAtom& atom, bool) {
            provides.push_back({index, atom.name, atom.version, atom.arch_qualifier});
          });
      if (!r) return bad(fmt::format("Provides: {}", r.error().message));
    }
    records.push_back(rec);
    return {};
  });
  if (!visited) {
    return Fail(ErrorCode::kSpec,
                fmt::format("Packages of {}: {}", RepositoryLabel(repo), visited.error().message));
  }

  texts_.push_back(std::move(text));
  // Moving the vector into the list keeps its elements where they are.
  records_.push_back(std::move(records));
  const std::vector<PackageRecord>& added = records_.back();
  size_ += added.size();
  names_.reserve(names_.size() + added.size() + provides.size() / 2);
  for (const PackageRecord& rec : added) {
    const PackageRecord* p = &rec;
    std::vector<const PackageRecord*>& versions = names_[p->name].versions;
    // Highest version first; a record goes after the equal versions already there.
    auto pos = std::find_if(versions.begin(), versions.end(), [&](const PackageRecord* other) {
      return CompareVersions(other->version, p->version) < 0;
    });
    versions.insert(pos, p);
  }
  for (const PendingProvide& prv : provides) {
    names_[prv.name].providers.push_back(
        Provider{&added[prv.record], prv.version, prv.arch_qualifier});
  }
  std::lock_guard<std::mutex> lock(mention_mutex_);
  mention_order_.reset();
  return {};
}

const PackageIndex::NameEntry* PackageIndex::Find(std::string_view name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : &it->second;
}

std::span<const PackageRecord* const> PackageIndex::Versions(std::string_view name) const {
  const NameEntry* e = Find(name);
  if (!e) return {};
  return e->versions;
}

const PackageRecord* PackageIndex::Candidate(std::string_view name, std::string_view arch) const {
  for (const PackageRecord* p : Versions(name)) {
    if (p->architecture == arch || p->architecture == "all") return p;
  }
  return nullptr;
}

std::span<const Provider> PackageIndex::Providers(std::string_view name) const {
  const NameEntry* e = Find(name);
  if (!e) return {};
  return e->providers;
}

bool PackageIndex::Contains(std::string_view name) const { return Find(name) != nullptr; }

std::vector<std::string> PackageIndex::EssentialPackages(std::string_view arch) const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : names_) {
    const PackageRecord* p = Candidate(name, arch);
    if (p && p->essential) out.emplace_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> PackageIndex::SimilarNames(std::string_view name, size_t limit) const {
  // Allow one edit in short names, two in longer ones, three from 12 characters on; names of
  // one or two characters are too short for a guess to mean anything.
  if (name.size() < 3) return {};
  size_t max = name.size() < 5 ? 1 : name.size() < 12 ? 2 : 3;
  std::vector<std::pair<size_t, std::string_view>> found;
  for (const auto& [candidate, entry] : names_) {
    if (candidate == name) continue;
    size_t d = EditDistance(name, candidate, max);
    if (d <= max) found.emplace_back(d, candidate);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < found.size() && i < limit; ++i) out.emplace_back(found[i].second);
  return out;
}

void PackageIndex::BuildMentionOrder() const {
  auto order = std::make_unique<std::unordered_map<std::string_view, uint32_t>>();
  order->reserve(names_.size() + names_.size() / 4);
  uint32_t next = 0;
  auto mention = [&](std::string_view name) { order->try_emplace(name, next++); };
  auto mention_field = [&](std::string_view value, RelationKind kind) {
    if (value.empty()) return;
    // Only unqualified names create apt's native package; "foo:any" creates "foo:any". A field
    // that does not parse (only the ones read for this purpose are unchecked) adds what it has.
    (void)VisitRelations(value, kind, [&](const RelationAtom& atom, bool) {
      if (atom.arch_qualifier.empty()) mention(atom.name);
    });
  };
  // apt's debListParser::NewVersion: the package itself, then its relation fields in this order.
  for (const std::vector<PackageRecord>& file : records_) {
    for (const PackageRecord& r : file) {
      mention(r.name);
      mention_field(r.pre_depends, RelationKind::kDepends);
      mention_field(r.depends, RelationKind::kDepends);
      mention_field(r.conflicts, RelationKind::kConflicts);
      mention_field(r.breaks, RelationKind::kConflicts);
      mention_field(r.recommends, RelationKind::kDepends);
      mention_field(r.suggests, RelationKind::kDepends);
      mention_field(r.replaces, RelationKind::kConflicts);
      mention_field(r.enhances, RelationKind::kDepends);
      mention_field(r.provides, RelationKind::kProvides);
    }
  }
  mention_order_ = std::move(order);
}

uint32_t PackageIndex::FirstMentionOrder(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mention_mutex_);
  if (!mention_order_) BuildMentionOrder();
  auto it = mention_order_->find(name);
  return it == mention_order_->end() ? std::numeric_limits<uint32_t>::max() : it->second;
}

}  // namespace hardbase::deb
