#include "pipeline/lock_pipeline.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "deb/package_index.h"
#include "deb/resolver.h"
#include "image/package_files.h"
#include "spec/path_checks.h"

namespace hardbase::pipeline {
namespace {

// libc-bin ships the C.UTF-8 locale (/usr/lib/locale/C.utf8), which programs using libc6 expect
// to find (postgres' initdb, for one): a closure with libc6 gets it, required by
// spec::kRequiredForLocale, and the build keeps only that locale of it.
constexpr std::string_view kLibc = "libc6";
constexpr std::string_view kLocalePackage = "libc-bin";

// The resolver names repositories by a small id; here one id is one (suite, component).
struct RepoRef {
  size_t suite;
  std::string component;
};

bool Selects(const deb::Resolution& resolution, std::string_view name) {
  return std::any_of(resolution.packages.begin(), resolution.packages.end(),
                     [&](const deb::SelectedPackage& p) { return p.record->name == name; });
}

// Where the spec writes `exclude: name` ("image.yaml:7:5"), for messages.
std::string ExcludeLocation(const spec::ImageSpec& image_spec, const std::string& name) {
  for (size_t i = 0; i < image_spec.exclude.size() && i < image_spec.exclude_where.size(); ++i) {
    if (image_spec.exclude[i] == name) return image_spec.Locate(image_spec.exclude_where[i]);
  }
  return image_spec.Locate({});
}

// `warnings` gets what the spec asks for in vain: an exclusion no package needs, a package the
// variant leaves out.
Result<spec::ArchLock> LockArch(const spec::ImageSpec& image_spec,
                                const std::vector<apt::LoadedSuite>& suites,
                                const std::string& arch, std::set<std::string>& warnings) {
  deb::PackageIndex index;
  std::vector<RepoRef> refs;
  for (size_t s = 0; s < suites.size(); ++s) {
    for (const apt::PackagesText& p : suites[s].packages) {
      if (p.arch != arch) continue;
      auto id = static_cast<deb::RepositoryId>(refs.size());
      refs.push_back({s, p.component});
      index.SetRepositoryLabel(id, suites[s].source.suite + "/" + p.component);
      HB_TRY_VOID(WithContext(
          index.AddPackagesFile(p.text, id),
          suites[s].source.Label() + ": " + p.component + "/binary-" + arch + "/Packages"));
    }
  }
  deb::ResolveRequest request;
  request.arch = arch;
  const std::vector<spec::PackageRequest> requested = spec::RequestedPackages(image_spec);
  for (const spec::PackageRequest& p : requested) request.packages.push_back(p.ToString());
  // A dev image is a Debian system apt and maintainer scripts run in: they take the Essential set
  // for granted (debconf runs perl, postinsts run sh, sed and grep) without depending on it.
  std::set<std::string> essential;  // added for that, not named by the spec
  if (image_spec.variant == spec::Variant::kDev) {
    for (std::string& name : index.EssentialPackages(arch)) {
      bool named = std::any_of(requested.begin(), requested.end(),
                               [&](const spec::PackageRequest& p) { return p.name == name; });
      bool excluded = std::find(image_spec.exclude.begin(), image_spec.exclude.end(), name) !=
                      image_spec.exclude.end();
      if (!named && !excluded) {
        essential.insert(name);
        request.packages.push_back(std::move(name));
      }
    }
  }
  request.exclude = image_spec.exclude;
  request.leave_out = image::HardeningExclusions(image_spec.variant);
  HB_TRY(deb::Resolution resolution,
         WithContext(deb::ResolveClosure(index, request), "resolve " + arch));
  auto named = [](const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  const bool add_locale = Selects(resolution, kLibc) && !Selects(resolution, kLocalePackage) &&
                          index.Contains(kLocalePackage) &&
                          !named(request.exclude, kLocalePackage) &&
                          !named(request.leave_out, kLocalePackage);
  if (add_locale) {
    request.packages.emplace_back(kLocalePackage);
    HB_TRY(resolution, WithContext(deb::ResolveClosure(index, request),
                                   fmt::format("resolve {} with {} (the C.UTF-8 locale)", arch,
                                               kLocalePackage)));
  }
  for (const deb::Exclusion& e : resolution.left_out) {
    if (!named(e.wanted_by, spec::kRequiredBySpec)) continue;
    spec::SourceLocation where;
    for (const spec::PackageRequest& p : requested) {
      if (p.name == e.name) where = p.where;
    }
    warnings.insert(fmt::format(
        "{}: packages: '{}' is left out of every {} image ({}); the dev variant keeps it",
        image_spec.Locate(where), e.name, spec::VariantName(image_spec.variant),
        image::HardeningExclusion(e.name, image_spec.variant).value_or("hardening")));
  }
  if (resolution.packages.empty()) {
    return Fail(ErrorCode::kResolve,
                fmt::format("resolve {}: nothing to install: every package the spec asks for is "
                            "left out of a {} image",
                            arch, spec::VariantName(image_spec.variant)));
  }

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
    std::string_view marker = add_locale && p.name == kLocalePackage ? spec::kRequiredForLocale
                              : essential.contains(p.name)           ? spec::kRequiredForEssential
                                                                     : spec::kRequiredBySpec;
    std::replace(p.required_by.begin(), p.required_by.end(), std::string(spec::kRequiredBySpec),
                 std::string(marker));
    out.packages.push_back(std::move(p));
  }
  for (const deb::Exclusion& e : resolution.exclusions) {
    // Recorded only when something wanted it: the lock's reader refuses an empty wanted_by.
    if (e.wanted_by.empty()) {
      warnings.insert(fmt::format("{}: exclude: '{}' is not needed by any package of {}",
                                  ExcludeLocation(image_spec, e.name), e.name, arch));
      continue;
    }
    out.excluded.push_back({e.name, e.wanted_by});
  }
  for (const deb::Exclusion& e : resolution.left_out) {
    out.left_out.push_back({e.name, e.wanted_by});
  }
  return out;
}

}  // namespace

Result<spec::Lock> LockSpec(const spec::ImageSpec& image_spec, net::HttpClient& http,
                            cache::BlobStore& store, const LockOptions& options) {
  HB_TRY(std::vector<apt::SuiteSource> sources, apt::SuiteSourcesFor(image_spec, options.apt_root));
  HB_TRY(std::vector<apt::LoadedSuite> suites,
         apt::LoadSuites(sources, image_spec.archs, http, store, options.load));

  spec::Lock lock;
  lock.spec_digest = spec::ResolutionDigest(image_spec);
  std::set<std::string> fingerprints;
  for (const apt::LoadedSuite& s : suites) {
    fingerprints.insert(s.keyring.begin(), s.keyring.end());
    lock.releases.push_back(
        {s.release.origin, s.source.suite, s.release.codename, Rfc3339(s.release.date), s.signers});
    lock.source_date_epoch = std::max(lock.source_date_epoch, s.release.date);
  }
  lock.keyring_fingerprints.assign(fingerprints.begin(), fingerprints.end());
  std::set<std::string> warnings;
  for (const std::string& arch : image_spec.archs) {
    HB_TRY(spec::ArchLock arch_lock, LockArch(image_spec, suites, arch, warnings));
    lock.archs.push_back(std::move(arch_lock));
  }
  for (const std::string& w : warnings) LogWarn("{}", w);
  return spec::CanonicalLock(std::move(lock));
}

Result<void> WriteLock(const spec::Lock& lock, const std::string& path) {
  std::string text = spec::LockToJson(lock);
  auto read_back = spec::ParseLock(text, path);
  if (!read_back) {
    return Fail(ErrorCode::kInternal,
                fmt::format("the lock would not be readable, so it is not written: {}",
                            read_back.error().message));
  }
  if (*read_back != spec::CanonicalLock(lock)) {
    return Fail(
        ErrorCode::kInternal,
        fmt::format("{}: the lock would read back differently, so it is not written", path));
  }
  return WriteFileAtomic(path, text);
}

std::vector<std::string> DiffLocks(const spec::Lock& before, const spec::Lock& after) {
  std::vector<std::string> out;
  if (before.spec_digest != after.spec_digest) {
    out.push_back(
        fmt::format("the spec changed (digest {} -> {})", before.spec_digest, after.spec_digest));
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
        out.push_back(
            fmt::format("{}: {} {}: same version, other file or origin", arch, name, p->version));
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
    if (old_arch->left_out != new_arch->left_out) {
      out.push_back(fmt::format("{}: what hardening leaves out or who wanted it changed", arch));
    }
  }
  return out;
}

}  // namespace hardbase::pipeline
