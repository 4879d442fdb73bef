#include "pipeline/lock_pipeline.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "base/time.h"
#include "deb/package_index.h"
#include "deb/resolver.h"
#include "spec/path_checks.h"

namespace hardbase::pipeline {
namespace {

// The resolver names repositories by a small id; here one id is one (suite, component).
struct RepoRef {
  size_t suite;
  std::string component;
};

Result<spec::ArchLock> LockArch(const spec::ImageSpec& image_spec,
                                const std::vector<LoadedSuite>& suites, const std::string& arch) {
  deb::PackageIndex index;
  std::vector<RepoRef> refs;
  for (size_t s = 0; s < suites.size(); ++s) {
    for (const PackagesText& p : suites[s].packages) {
      if (p.arch != arch) continue;
      auto id = static_cast<deb::RepositoryId>(refs.size());
      refs.push_back({s, p.component});
      index.SetRepositoryLabel(id, suites[s].source.suite + "/" + p.component);
      HB_TRY_VOID(WithContext(index.AddPackagesFile(p.text, id),
                              suites[s].source.Label() + ": " + p.component + "/binary-" + arch +
                                  "/Packages"));
    }
  }
  deb::ResolveRequest request;
  request.arch = arch;
  for (const spec::PackageRequest& p : spec::RequestedPackages(image_spec)) {
    request.packages.push_back(p.ToString());
  }
  request.exclude = image_spec.exclude;
  HB_TRY(deb::Resolution resolution,
         WithContext(deb::ResolveClosure(index, request), "resolve " + arch));

  spec::ArchLock out;
  out.arch = arch;
  for (const deb::SelectedPackage& selected : resolution.packages) {
    const deb::PackageRecord& r = *selected.record;
    const RepoRef& ref = refs[r.repository];
    spec::LockedPackage p;
    p.name = r.name;
    p.version = r.version;
    p.architecture = r.architecture;
    p.source = r.source;
    p.source_version = r.source_version;
    p.repository = {suites[ref.suite].release.origin, suites[ref.suite].source.suite,
                    ref.component};
    p.filename = r.filename;
    // A repository's Filename is joined to its URI whenever the lock is fetched: refuse one that
    // leaves the repository now, not when a build follows it.
    HB_TRY_VOID(WithContext(
        spec::CheckRepositoryPath(p.filename),
        fmt::format("{}: {}/binary-{}/Packages: package {} {}: Filename",
                    suites[ref.suite].source.Label(), ref.component, arch, p.name, p.version)));
    p.size = r.size;
    p.sha256 = r.sha256;
    std::transform(p.sha256.begin(), p.sha256.end(), p.sha256.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    p.required_by = selected.required_by;
    out.packages.push_back(std::move(p));
  }
  for (const deb::Exclusion& e : resolution.exclusions) {
    out.excluded.push_back({e.name, e.wanted_by});
  }
  return out;
}

}  // namespace

Result<spec::Lock> LockSpec(const spec::ImageSpec& image_spec, net::HttpClient& http,
                            cache::BlobStore& store, const LockOptions& options) {
  HB_TRY(std::vector<SuiteSource> sources, SuiteSourcesFor(image_spec, options.apt_root));
  HB_TRY(std::vector<LoadedSuite> suites,
         LoadSuites(sources, image_spec.archs, http, store, options.load));

  spec::Lock lock;
  lock.spec_digest = spec::ResolutionDigest(image_spec);
  std::set<std::string> fingerprints;
  for (const LoadedSuite& s : suites) {
    fingerprints.insert(s.keyring.begin(), s.keyring.end());
    lock.releases.push_back({s.release.origin, s.source.suite, s.release.codename,
                             Rfc3339(s.release.date), s.signers});
    lock.source_date_epoch = std::max(lock.source_date_epoch, s.release.date);
  }
  lock.keyring_fingerprints.assign(fingerprints.begin(), fingerprints.end());
  for (const std::string& arch : image_spec.archs) {
    HB_TRY(spec::ArchLock arch_lock, LockArch(image_spec, suites, arch));
    lock.archs.push_back(std::move(arch_lock));
  }
  return spec::CanonicalLock(std::move(lock));
}

std::vector<std::string> DiffLocks(const spec::Lock& before, const spec::Lock& after) {
  std::vector<std::string> out;
  if (before.spec_digest != after.spec_digest) {
    out.push_back(fmt::format("the spec changed (digest {} -> {})", before.spec_digest,
                              after.spec_digest));
  }
  std::set<std::string> archs;
  for (const auto& a : before.archs) archs.insert(a.arch);
  for (const auto& a : after.archs) archs.insert(a.arch);
  auto arch_of = [](const spec::Lock& lock, const std::string& arch) -> const spec::ArchLock* {
    for (const auto& a : lock.archs) {
      if (a.arch == arch) return &a;
    }
    return nullptr;
  };
  for (const std::string& arch : archs) {
    const spec::ArchLock* old_arch = arch_of(before, arch);
    const spec::ArchLock* new_arch = arch_of(after, arch);
    if (!old_arch || !new_arch) {
      out.push_back(fmt::format("{}: architecture {}", arch, old_arch ? "removed" : "added"));
      continue;
    }
    std::map<std::string, const spec::LockedPackage*> old_pkgs, new_pkgs;
    for (const auto& p : old_arch->packages) old_pkgs[p.name] = &p;
    for (const auto& p : new_arch->packages) new_pkgs[p.name] = &p;
    for (const auto& [name, p] : old_pkgs) {
      auto it = new_pkgs.find(name);
      if (it == new_pkgs.end()) {
        out.push_back(fmt::format("{}: - {} {}", arch, name, p->version));
      } else if (p->version != it->second->version) {
        out.push_back(fmt::format("{}: {} {} -> {}", arch, name, p->version, it->second->version));
      } else if (p->sha256 != it->second->sha256 || p->filename != it->second->filename ||
                 !(p->repository == it->second->repository)) {
        out.push_back(fmt::format("{}: {} {}: same version, other file or origin", arch, name,
                                  p->version));
      } else if (p->required_by != it->second->required_by) {
        out.push_back(fmt::format("{}: {} {}: now required by {}", arch, name, p->version,
                                  fmt::join(it->second->required_by, ", ")));
      }
    }
    for (const auto& [name, p] : new_pkgs) {
      if (!old_pkgs.count(name)) out.push_back(fmt::format("{}: + {} {}", arch, name, p->version));
    }
    if (old_arch->excluded != new_arch->excluded) {
      out.push_back(fmt::format("{}: exclusions or who wanted them changed", arch));
    }
  }
  return out;
}

}  // namespace hardbase::pipeline
