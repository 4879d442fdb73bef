// PackageIndex: the binary packages of several repositories (their Packages files), looked up by
// name, by candidate version and by provided (virtual) name.
//
// The index keeps every Packages text it is given alive (shared_ptr) and its records are views into
// those texts, so a 45 MB Packages file costs no copy. Records never move once added: pointers to
// them stay valid for the life of the index. Adding is not thread-safe; once every file is added,
// the const lookups may run from any number of threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace hardbase::deb {

// A small number the caller maps to its own repository (suite) record.
using RepositoryId = uint32_t;

enum class MultiArch : uint8_t { kNo, kSame, kForeign, kAllowed };

// One stanza of a Packages file. Every view points into the text it was parsed from, which the
// PackageIndex keeps alive. Relation fields are kept as written (folded lines included) and were
// checked to parse when the record was added; parse them with deb/relation.h.
struct PackageRecord {
  std::string_view name;
  std::string_view version;
  std::string_view architecture;
  std::string_view source;          // the source package's name; the binary's name when absent
  std::string_view source_version;  // from "Source: name (version)"; the binary's version otherwise
  std::string_view depends;
  std::string_view pre_depends;
  std::string_view provides;
  std::string_view conflicts;
  std::string_view breaks;
  // Only read to reproduce apt's order of package names (see FirstMentionOrder).
  std::string_view recommends;
  std::string_view suggests;
  std::string_view replaces;
  std::string_view enhances;
  std::string_view filename;  // repository-relative path of the .deb
  uint64_t size = 0;
  std::string_view sha256;  // 64 lower- or upper-case hex digits, as written
  MultiArch multi_arch = MultiArch::kNo;
  bool essential = false;
  bool important = false;  // "Important: yes" or "Protected: yes"
  std::string_view priority;
  std::string_view maintainer;
  RepositoryId repository = 0;
  uint32_t line = 0;  // 1-based line of the stanza in its Packages text
};

// A package that lists a name in its Provides.
struct Provider {
  const PackageRecord* package = nullptr;
  std::string_view version;         // the "(= version)" of the Provides entry; "" when unversioned
  std::string_view arch_qualifier;  // as written after ':' in the Provides entry; usually ""
};

class PackageIndex {
 public:
  PackageIndex() = default;
  PackageIndex(const PackageIndex&) = delete;
  PackageIndex& operator=(const PackageIndex&) = delete;

  // The name used for repository `id` in messages ("bookworm-security"); "repository <id>" unless
  // set.
  void SetRepositoryLabel(RepositoryId id, std::string label);
  std::string RepositoryLabel(RepositoryId id) const;

  // Indexes every stanza of a decompressed Packages text. Files of one repository may be added one
  // by one (one per component). Fails with kSpec on the first malformed stanza, naming the
  // repository's label and the line: a missing or malformed Package, Version, Architecture,
  // Filename, Size or SHA256 field, or a relation field that does not parse. On failure nothing of
  // this text is indexed.
  Result<void> AddPackagesFile(std::shared_ptr<const std::string> text, RepositoryId repo);

  // Every version of a binary package, of every architecture, highest version first; records with
  // equal versions in the order they were added.
  std::span<const PackageRecord* const> Versions(std::string_view name) const;

  // The highest version of `name` built for `arch` or for "all"; nullptr when there is none. Equal
  // versions: the first added wins.
  const PackageRecord* Candidate(std::string_view name, std::string_view arch) const;

  // Every package (all versions and architectures) whose Provides names `name`, in the order added.
  std::span<const Provider> Providers(std::string_view name) const;

  // Is `name` known at all, as a binary package or as a provided name?
  bool Contains(std::string_view name) const;

  // Known names (binary packages and provided names) nearest to `name` by edit distance: up to
  // `limit` of the closest, only those close enough to be a plausible typo. For "did you mean".
  std::vector<std::string> SimilarNames(std::string_view name, size_t limit = 3) const;

  // The position at which apt's cache generator would create the package `name` for the native
  // architecture, parsing the files in the order they were added: apt numbers packages in that
  // order and, when every other rule ties, prefers the provider with the higher number. Names never
  // mentioned get UINT32_MAX. The table is built on first use (about 0.1 s for a full archive).
  uint32_t FirstMentionOrder(std::string_view name) const;

  // The names of the packages whose candidate for `arch` (see Candidate) is Essential: yes,
  // sorted: what every Debian system holds and apt and maintainer scripts take for granted.
  std::vector<std::string> EssentialPackages(std::string_view arch) const;

  size_t size() const { return size_; }

 private:
  struct NameEntry {
    std::vector<const PackageRecord*> versions;
    std::vector<Provider> providers;
  };
  const NameEntry* Find(std::string_view name) const;
  void BuildMentionOrder() const;

  std::vector<std::shared_ptr<const std::string>> texts_;
  std::vector<std::vector<PackageRecord>> records_;  // one vector per file, never resized
  size_t size_ = 0;
  std::unordered_map<std::string_view, NameEntry> names_;
  std::map<RepositoryId, std::string> labels_;

  mutable std::mutex mention_mutex_;
  mutable std::unique_ptr<std::unordered_map<std::string_view, uint32_t>> mention_order_;
};

}  // namespace hardbase::deb
