// Fuzzes PackageIndex over arbitrary Packages text, then resolves a few of what it indexed.
// Checks the index's own promises: versions sorted highest first, candidates of the right
// architecture, well-formed required fields, and resolutions made only of indexed records.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deb/package_index.h"
#include "deb/resolver.h"
#include "deb/version.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  hardbase::deb::PackageIndex index;
  index.SetRepositoryLabel(0, "fuzz");
  auto added = index.AddPackagesFile(text, 0);
  if (!added) {
    if (index.size() != 0) __builtin_trap();
    return 0;
  }
  std::vector<std::string> names;
  std::string_view all(*text);
  size_t pos = 0;
  while ((pos = all.find("Package:", pos)) != std::string_view::npos) {
    size_t start = pos + 8;
    while (start < all.size() && (all[start] == ' ' || all[start] == '\t')) ++start;
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    std::string name(all.substr(start, end - start));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t' || name.back() == '\r')) {
      name.pop_back();
    }
    pos = end;
    auto versions = index.Versions(name);
    for (size_t k = 0; k < versions.size(); ++k) {
      const auto* r = versions[k];
      if (r->name != name || r->sha256.size() != 64 || r->filename.empty()) __builtin_trap();
      if (k > 0 && hardbase::deb::CompareVersions(versions[k - 1]->version, r->version) < 0) {
        __builtin_trap();
      }
      const auto* cand = index.Candidate(name, r->architecture);
      if (!cand || (cand->architecture != r->architecture && cand->architecture != "all")) {
        __builtin_trap();
      }
    }
    if (!versions.empty() && names.size() < 3) names.push_back(name);
  }
  if (names.empty()) return 0;
  (void)index.SimilarNames(names.front());
  (void)index.FirstMentionOrder(names.front());
  for (const char* arch : {"amd64", "all"}) {
    hardbase::deb::ResolveRequest req;
    req.arch = arch;
    req.packages = names;
    auto res = hardbase::deb::ResolveClosure(index, req);
    if (!res) continue;
    for (const auto& p : res->packages) {
      bool found = false;
      for (const auto* r : index.Versions(p.record->name)) found = found || r == p.record;
      if (!found || p.required_by.empty()) __builtin_trap();
    }
  }
  return 0;
}
