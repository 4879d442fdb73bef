#include "pipeline/build_pipeline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "apt/fetch_debs.h"
#include "apt/repositories.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/sha256.h"
#include "base/version.h"
#include "deb/distro.h"
#include "image/dpkg_database.h"
#include "image/image_files.h"
#include "image/local_files.h"
#include "image/package_files.h"
#include "oci/output_target.h"
#include "pipeline/build_record.h"
#include "pipeline/describe_image.h"
#include "pipeline/lock_pipeline.h"
#include "pipeline/package_layers.h"
#include "pipeline/remote_layer_cache.h"
#include "pipeline/signatures.h"
#include "sign/dsse.h"
#include "spec/image_spec.h"
#include "spec/lock.h"

namespace hardbase::pipeline {
namespace {

namespace fs = std::filesystem;

// The lock to build: the lock file as it is with --locked (missing or stale is an error);
// otherwise that file when it still matches the spec, else a fresh resolution written to it.
Result<spec::Lock> LockToBuild(const BuildOptions& options, const spec::ImageSpec& spec,
                               const std::string& lock_path, net::HttpClient& http,
                               cache::BlobStore& store) {
  auto existing = spec::LoadLock(lock_path);
  if (options.locked) {
    if (!existing && existing.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kStale,
                  fmt::format("--locked: {} does not exist: run hardbase lock {}", lock_path,
                              options.spec_path));
    }
    if (!existing) return Fail(existing.error());
    HB_TRY_VOID(spec::CheckLockMatchesSpec(*existing, spec, lock_path));
    return existing;
  }
  if (existing && spec::CheckLockMatchesSpec(*existing, spec, lock_path)) return existing;
  if (!existing && existing.error().code != ErrorCode::kNotFound) return Fail(existing.error());
  LogInfo("{} {}: resolving", lock_path, existing ? "is stale" : "does not exist");
  LockOptions lock_options;
  lock_options.load.offline = options.offline;
  lock_options.apt_root = options.apt_root;
  HB_TRY(spec::Lock lock, LockSpec(spec, http, store, lock_options));
  HB_TRY_VOID(WriteLock(lock, lock_path));
  return lock;
}

// Warns (or with --strict fails) about `paths:` globs that matched nothing in any package.
Result<void> CheckGlobsMatched(const spec::ImageSpec& spec, const image::FilePolicy& policy,
                               const std::vector<const PackageLayer*>& layers, bool strict) {
  auto check = [&](const std::vector<image::PathGlob>& globs, std::string_view key,
                   auto hits_of) -> Result<void> {
    for (size_t i = 0; i < globs.size(); ++i) {
      uint64_t hits = 0;
      for (const auto* l : layers) hits += hits_of(*l)[i];
      if (hits > 0) continue;
      std::string msg = fmt::format("{}: paths.{}: '{}' matches no file of any package",
                                    spec.Locate({}), key, globs[i].pattern());
      if (strict) return Fail(ErrorCode::kSpec, msg);
      LogWarn("{}", msg);
    }
    return {};
  };
  HB_TRY_VOID(check(
      policy.include, "include",
      [](const PackageLayer& l) -> const auto& { return l.include_hits; }));
  return check(
      policy.exclude, "exclude",
      [](const PackageLayer& l) -> const auto& { return l.exclude_hits; });
}

std::vector<std::string> ConfigEnv(const spec::ImageSpec& spec) {
  std::map<std::string, std::string> env = spec.env;
  env.emplace("PATH", std::string(spec::kDefaultPath));
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

oci::Descriptor LayerDescriptor(const LayerInfo& l, oci::Compression c) {
  oci::Descriptor d;
  d.media_type = std::string(oci::LayerMediaType(c));
  d.digest = "sha256:" + l.digest;
  d.size = static_cast<int64_t>(l.size);
  return d;
}

// A package layer one architecture's image needs.
using Wanted = WantedLayer;

// One architecture's image, bottom to top: the layers, their history, and the config's user.
struct ArchLayers {
  std::vector<LayerInfo> layers;
  std::vector<oci::HistoryEntry> history;
  std::string user;
  std::vector<std::string> warnings;  // about the packages (see BuildResult::warnings)
  image::ElfCheck elf;
};

// The ELF files of the image's own layer by who put them there: a `files:` entry (named by its
// place in the spec), else the packages' setup (a copy of a package's file).
std::map<std::string, std::vector<image::ElfFile>> OwnLayerElfFiles(
    const std::vector<oci::LayerEntry>& entries, const std::vector<image::LocalFile>& local_files) {
  std::map<std::string, std::vector<image::ElfFile>> out;
  for (auto& f : image::ElfFilesOf(entries)) {
    auto local = std::find_if(local_files.begin(), local_files.end(),
                              [&](const image::LocalFile& l) { return l.path == f.path; });
    out[local == local_files.end() ? "the packages' setup" : "the files: entry at " + local->where]
        .push_back(std::move(f));
  }
  return out;
}

// Stacks the skeleton, the package layers (by package name) and the image's own layer, and checks
// on the result that the image can start and that its ELF files are for `arch` (with `strict`,
// those Debian keeps for other processors too).
Result<ArchLayers> StackLayers(const spec::ImageSpec& spec, const std::string& arch,
                               std::vector<Wanted> wanted,
                               const std::map<std::string, std::optional<PackageLayer>>& layers,
                               const std::vector<image::LocalFile>& local_files, int64_t epoch,
                               oci::Compression compression, cache::BlobStore& store,
                               const std::vector<image::AptRepository>& apt_repositories,
                               bool strict) {
  ArchLayers out;
  std::string created = oci::Rfc3339(epoch);
  image::ImageView view;
  auto skeleton = image::SkeletonEntries(arch);
  view.Add(skeleton);
  HB_TRY(std::string skeleton_tar, oci::WriteLayerTar(skeleton));
  HB_TRY(LayerInfo skeleton_layer, StoreGeneratedLayer(store, skeleton_tar, compression));
  out.layers.push_back(skeleton_layer);
  out.history.push_back({created, "hardbase: merged-/usr skeleton", "", false});

  image::TopLayerInputs top_inputs;
  top_inputs.spec = &spec;
  top_inputs.files = local_files;
  top_inputs.epoch = epoch;
  std::sort(wanted.begin(), wanted.end(),
            [](const Wanted& a, const Wanted& b) { return a.package->name < b.package->name; });
  // Past kMaxPackageLayers, the largest packages keep layers of their own and the rest share one.
  std::set<std::string> merged;
  if (wanted.size() > kMaxPackageLayers) {
    std::vector<const Wanted*> by_size;
    for (const auto& w : wanted) by_size.push_back(&w);
    std::stable_sort(by_size.begin(), by_size.end(), [&](const Wanted* a, const Wanted* b) {
      return layers.at(a->key)->layer.size > layers.at(b->key)->layer.size;
    });
    for (size_t i = kMaxPackageLayers - 1; i < by_size.size(); ++i) {
      merged.insert(by_size[i]->package->name);
    }
  }
  std::vector<image::StackedPackage> stacked;
  std::vector<LayerInfo> merged_layers;
  std::vector<std::string> merged_names;
  for (const auto& w : wanted) {
    const PackageLayer& l = *layers.at(w.key);
    stacked.push_back({w.package->name, &l.entries});
    std::string what =
        fmt::format("{} {} ({})", w.package->name, w.package->version, w.package->architecture);
    if (merged.count(w.package->name)) {
      merged_layers.push_back(l.layer);
      merged_names.push_back(std::move(what));
    } else {
      out.layers.push_back(l.layer);
      out.history.push_back({created, "hardbase: " + what, "", false});
    }
    top_inputs.packages.push_back(w.package->name);
    top_inputs.facts.push_back(l.facts);
  }
  if (!merged_layers.empty()) {
    HB_TRY(LayerInfo merged_layer, MergePackageLayers(store, merged_layers, compression));
    out.layers.push_back(merged_layer);
    out.history.push_back({created,
                           fmt::format("hardbase: {} smaller packages in one layer: {}",
                                       merged_names.size(), fmt::join(merged_names, ", ")),
                           "", false});
  }

  HB_TRY_VOID(WithContext(image::StackPackages(stacked, view), "build " + arch));
  HB_TRY(image::TopLayer top,
         WithContext(image::TopLayerEntries(top_inputs, view), "build " + arch));
  view.Add(top.entries);
  HB_TRY_VOID(image::CheckStartable(spec, view));
  std::vector<image::ElfFilesOwner> elf_owners;
  for (const auto& w : wanted) {
    elf_owners.push_back({"package " + w.package->name, &layers.at(w.key)->facts.elf_files});
  }
  auto own_elf = OwnLayerElfFiles(top.entries, local_files);
  for (const auto& [owner, files] : own_elf) elf_owners.push_back({owner, &files});
  HB_TRY(out.elf, WithContext(image::CheckElfMachines(arch, elf_owners, strict), "build " + arch));
  out.warnings = std::move(top.warnings);
  out.warnings.insert(out.warnings.end(), out.elf.warnings.begin(), out.elf.warnings.end());
  for (auto& w :
       image::MissingInterpreterWarnings(top_inputs.packages, top_inputs.facts, spec, view)) {
    out.warnings.push_back(std::move(w));
  }
  HB_TRY(std::string top_tar, oci::WriteLayerTar(std::move(top.entries)));
  HB_TRY(LayerInfo top_layer, StoreGeneratedLayer(store, top_tar, compression));
  out.layers.push_back(top_layer);
  out.history.push_back(
      {created,
       "hardbase: the packages' setup, accounts, trust stores, alternatives and the spec's dirs "
       "and files",
       "", false});
  out.user = top.user;
  if (spec.variant == spec::Variant::kDev) {
    image::DpkgDatabaseInputs db{arch, {}, apt_repositories, epoch};
    for (const auto& w : wanted) {
      db.packages.push_back({w.package->name, w.package->architecture, &layers.at(w.key)->facts});
    }
    HB_TRY(auto db_entries, WithContext(image::DpkgDatabaseEntries(db, view), "build " + arch));
    HB_TRY(std::string db_tar, oci::WriteLayerTar(std::move(db_entries)));
    HB_TRY(LayerInfo db_layer, StoreGeneratedLayer(store, db_tar, compression));
    out.layers.push_back(db_layer);
    out.history.push_back(
        {created, "hardbase: dpkg database and apt sources (dev variant)", "", false});
  }
  return out;
}

// The dev variant's apt sources: the suites the lock came from, with the keyrings that verified
// them, read now. A host keyring keeps its path as apt on the host names it (under `apt_root`).
Result<std::vector<image::AptRepository>> DevAptRepositories(const spec::ImageSpec& spec,
                                                             const std::string& apt_root) {
  HB_TRY(auto sources, apt::SuiteSourcesFor(spec, apt_root));
  std::string root = apt_root == "/" ? "" : apt_root;
  while (root.ends_with('/')) root.pop_back();
  std::vector<image::AptRepository> out;
  for (const auto& s : sources) {
    image::AptRepository r{s.uri, s.suite,      s.components,     s.architectures,
                           {},    s.inline_key, s.allowed_signers};
    for (const auto& path : s.keyring_paths) {
      HB_TRY(std::string content,
             WithContext(ReadFile(path), "dev variant: the keyring of " + s.Label()));
      bool under_root = spec.repositories.empty() && !root.empty() && path.starts_with(root + "/");
      r.keyrings.push_back({under_root ? path.substr(root.size()) : path, std::move(content)});
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The repository name signatures claim: --reference, else the spec's name.
std::string DockerReference(const BuildOptions& options, const spec::ImageSpec& spec) {
  return options.docker_reference.empty() ? spec.name : options.docker_reference;
}

// One platform's SBOMs as referrers of its manifest; with a key, its signature and the
// attestations of its SPDX SBOM and SLSA provenance.
Result<Artifacts> ArchProvenance(const BuildOptions& options, const spec::ImageSpec& spec,
                                 const spec::Lock& lock, const spec::ArchLock& arch_lock,
                                 const std::vector<Wanted>& wanted,
                                 const std::map<std::string, std::optional<PackageLayer>>& layers,
                                 const oci::Descriptor& manifest, int64_t epoch) {
  std::vector<InstalledPackage> installed;
  sbom::Document doc;
  for (const auto& w : wanted) {
    const image::PackageFacts& facts = layers.at(w.key)->facts;
    installed.push_back({facts.status, facts.copyright});
    if (facts.os_release) doc.distro = deb::ParseOsRelease(*facts.os_release);
  }
  doc.name = spec.name;
  doc.image_digest = manifest.digest;
  doc.architecture = arch_lock.arch;
  doc.created = oci::Rfc3339(epoch);
  doc.tool_version = std::string(HardbaseVersion());
  HB_TRY_VOID(DescribePackages(installed, &arch_lock, doc));

  Artifacts out;
  std::string spdx = sbom::SbomJson(doc, sbom::SbomFormat::kSpdx);
  out.Append(SbomArtifact(manifest, sbom::kSpdxMediaType, spdx, doc.created));
  out.Append(SbomArtifact(manifest, sbom::kCycloneDxMediaType,
                          sbom::SbomJson(doc, sbom::SbomFormat::kCycloneDx), doc.created));
  if (!options.sign_key) return out;

  const Attachment attachment{manifest, doc.created, {}};
  HB_TRY(Artifacts signature,
         SignatureArtifacts(*options.sign_key, attachment, DockerReference(options, spec)));
  out.Append(std::move(signature));
  BuildInputs inputs;
  inputs.spec_path = options.spec_path;
  HB_TRY(std::string spec_bytes, ReadFile(options.spec_path));
  inputs.spec_sha256 = Sha256Hex(spec_bytes);
  inputs.lock_path =
      options.lock_path.empty() ? spec::DefaultLockPath(options.spec_path) : options.lock_path;
  inputs.lock_sha256 = Sha256Hex(spec::LockToJson(lock));
  inputs.arch = arch_lock.arch;
  inputs.distro = doc.distro;
  inputs.compression = std::string(oci::CompressionName(options.compression));
  inputs.source_date_epoch = epoch;
  inputs.packages = &arch_lock;
  HB_TRY(Artifacts attestations, AttestationArtifacts(*options.sign_key, attachment,
                                                      {{std::string(sign::kPredicateSpdx), spdx},
                                                       {std::string(sign::kPredicateSlsaProvenance),
                                                        SlsaProvenancePredicate(inputs)}}));
  out.Append(std::move(attestations));
  return out;
}

}  // namespace

Result<PreparedBuild> PrepareBuild(const BuildOptions& options, net::HttpClient& http,
                                   cache::BlobStore& store) {
  PreparedBuild out;
  HB_TRY(out.spec, spec::LoadImageSpec(options.spec_path));
  const spec::ImageSpec& spec = out.spec;
  out.lock_path =
      options.lock_path.empty() ? spec::DefaultLockPath(options.spec_path) : options.lock_path;
  // The spec's own inputs are checked before a stale lock is re-resolved and written.
  HB_TRY(image::FilePolicy policy, WithContext(image::MakeFilePolicy(spec.paths), spec.Locate({})));
  policy.dev_variant = spec.variant == spec::Variant::kDev;
  out.policy = std::make_unique<image::FilePolicy>(std::move(policy));
  HB_TRY(out.local_files, image::LoadLocalFiles(spec, options.allow_outside_files));
  HB_TRY(out.lock, LockToBuild(options, spec, out.lock_path, http, store));
  out.epoch = options.source_date_epoch.value_or(out.lock.source_date_epoch);
  out.settings = PackageLayerSettings{out.policy.get(), out.epoch, options.compression};
  auto note_left_out = [&](const std::string& name, std::string_view why) {
    std::string note = fmt::format("{} ({})", name, why);
    if (std::find(out.left_out.begin(), out.left_out.end(), note) == out.left_out.end()) {
      out.left_out.push_back(note);
    }
  };
  for (const auto& arch : out.lock.archs) {
    // What the resolver left out for hardening because something depended on it.
    for (const auto& e : arch.left_out) {
      note_left_out(e.name, image::HardeningExclusion(e.name, spec.variant).value_or("hardening"));
    }
    for (const auto& p : arch.packages) {
      if (auto why = image::HardeningExclusion(p.name, spec.variant)) {
        note_left_out(p.name, *why);
        continue;
      }
      out.layers[arch.arch].push_back({&p, PackageLayerKey(p, out.settings)});
    }
  }
  return out;
}

Result<void> FetchLayerDebs(const PreparedBuild& prepared, const std::set<std::string>& keys,
                            const std::string& apt_root, net::HttpClient& http,
                            cache::BlobStore& store) {
  std::set<const spec::LockedPackage*> wanted;
  for (const auto& [arch, layers] : prepared.layers) {
    for (const auto& w : layers) {
      if (keys.count(w.key)) wanted.insert(w.package);
    }
  }
  if (wanted.empty()) return {};
  spec::Lock needed = prepared.lock;
  for (size_t a = 0; a < needed.archs.size(); ++a) {
    const auto& all = prepared.lock.archs[a].packages;
    auto& kept = needed.archs[a].packages;
    kept.clear();
    for (const auto& p : all) {
      if (wanted.count(&p)) kept.push_back(p);
    }
  }
  HB_TRY(auto sources, apt::SuiteSourcesFor(prepared.spec, apt_root));
  return WithContext(apt::FetchDebs(needed, sources, http, store).map([](auto) {}),
                     "fetch " + prepared.lock_path);
}

Result<void> BuildPackageLayers(std::vector<LayerJob> jobs, unsigned workers,
                                cache::BlobStore& store, const LayerDone& done,
                                RemoteLayerCache* publish_to) {
  if (jobs.empty()) return {};
  // Largest first, so the long ones start early and the workers finish together.
  std::stable_sort(jobs.begin(), jobs.end(), [](const LayerJob& a, const LayerJob& b) {
    return a.package->size > b.package->size;
  });
  Progress progress("building layers", jobs.size(), Progress::Unit::kItems);
  std::mutex mu;
  HB_TRY_VOID(ParallelFor(jobs.size(), workers, [&](size_t i) -> Result<void> {
    const LayerJob& job = jobs[i];
    Result<PackageLayer> built = BuildPackageLayer(store, *job.package, *job.settings, job.key);
    if (built && publish_to) {
      if (auto published = publish_to->Publish(job.key, job.settings->compression, store);
          !published) {
        built = Fail(published.error());
      }
    }
    std::lock_guard lock(mu);
    progress.Advance(1);
    return done(job, std::move(built));
  }));
  progress.Finish();
  return {};
}

Result<BuildResult> BuildImage(const BuildOptions& options, net::HttpClient& http,
                               cache::BlobStore& store) {
  // Refused now, not after the build: what is at the output path may not be hardbase's to replace.
  HB_TRY_VOID(oci::CheckOutputTarget(options.format, options.output));
  HB_TRY(PreparedBuild prepared, PrepareBuild(options, http, store));
  return BuildPreparedImage(options, std::move(prepared), http, store);
}

Result<BuildResult> BuildPreparedImage(const BuildOptions& options, PreparedBuild prepared,
                                       net::HttpClient& http, cache::BlobStore& store) {
  HB_TRY_VOID(oci::CheckOutputTarget(options.format, options.output));
  const spec::ImageSpec& spec = prepared.spec;
  const image::FilePolicy& policy = *prepared.policy;
  const std::vector<image::LocalFile>& local_files = prepared.local_files;
  const spec::Lock& lock = prepared.lock;
  const int64_t epoch = prepared.epoch;
  const PackageLayerSettings& settings = prepared.settings;
  BuildResult result;
  result.left_out = prepared.left_out;

  // Every package layer of every arch, by cache key (an arch:all package is shared by archs).
  std::map<std::string, std::vector<Wanted>>& per_arch = prepared.layers;
  std::map<std::string, std::optional<PackageLayer>> layers;
  std::set<std::string> missing;
  std::vector<LayerJob> jobs;
  for (const auto& [arch, wanted] : per_arch) {
    for (const auto& w : wanted) {
      if (layers.count(w.key)) continue;
      std::optional<PackageLayer> cached;
      if (options.layer_cache) {
        HB_TRY(cached, FindPackageLayer(store, w.key));
      }
      if (!cached && missing.insert(w.key).second) jobs.push_back({w.key, w.package, &settings});
      layers.emplace(w.key, std::move(cached));
    }
  }
  for (const auto& note : result.left_out) LogInfo("hardening: left out {}", note);

  // With a remote cache, it ends up holding every layer of the image: the missing ones are
  // fetched from it, and those built or found here that it lacks are published to it.
  RemoteLayerCache* remote = options.layer_cache ? options.remote_cache : nullptr;
  std::set<std::string> found_here;
  for (const auto& [key, layer] : layers) {
    if (layer) found_here.insert(key);
  }
  if (remote && !missing.empty()) {
    HB_TRY(auto fetched, remote->FetchAll(missing, 0, store, result.warnings));
    for (auto& [key, layer] : fetched) {
      missing.erase(key);
      layers[key] = std::move(layer);
    }
    std::erase_if(jobs, [&](const LayerJob& job) { return !missing.count(job.key); });
    result.layers_fetched = fetched.size();
  }
  if (!missing.empty()) {
    HB_TRY_VOID(FetchLayerDebs(prepared, missing, options.apt_root, http, store));
    unsigned workers = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    HB_TRY_VOID(BuildPackageLayers(
        std::move(jobs), workers, store,
        [&](const LayerJob& job, Result<PackageLayer> built) {
          if (!built) return Result<void>(Fail(built.error()));
          layers[job.key] = std::move(*built);
          return Result<void>();
        },
        remote));
  }
  if (remote) {
    HB_TRY_VOID(remote->PublishAll(found_here, options.compression, 0, store));
  }
  result.layers_built = missing.size();
  result.layers_cached = layers.size() - missing.size();

  std::vector<const PackageLayer*> all_layers;
  for (const auto& [key, l] : layers) all_layers.push_back(&*l);
  HB_TRY_VOID(CheckGlobsMatched(spec, policy, all_layers, options.strict));

  oci::ImageOutput output;
  output.tag = options.tag;
  std::vector<oci::Descriptor> manifests;
  std::map<std::string, std::string> annotations = {
      {std::string(oci::kAnnotationCreated), oci::Rfc3339(epoch)},
      {"org.opencontainers.image.title", spec.name}};
  for (const auto& [k, v] : spec.annotations) annotations[k] = v;
  const std::string created = oci::Rfc3339(epoch);
  Artifacts artifacts;
  std::set<std::string> blobs_added;
  auto add_blob = [&](oci::BlobSource blob) {
    if (blobs_added.insert(blob.descriptor.digest).second) output.blobs.push_back(std::move(blob));
  };

  std::vector<image::AptRepository> dev_repositories;
  if (spec.variant == spec::Variant::kDev) {
    HB_TRY(dev_repositories, DevAptRepositories(spec, options.apt_root));
  }
  for (const auto& arch_lock : lock.archs) {
    const std::string& arch = arch_lock.arch;
    const auto& wanted = per_arch[arch];
    HB_TRY(oci::Platform platform, oci::PlatformForDebianArch(arch));
    HB_TRY(ArchLayers stack,
           StackLayers(spec, arch, wanted, layers, local_files, epoch, options.compression, store,
                       dev_repositories, options.strict));
    // Warnings about packages, the same for every arch mostly: each once, --strict or not.
    for (auto& w : stack.warnings) {
      if (std::find(result.warnings.begin(), result.warnings.end(), w) == result.warnings.end()) {
        result.warnings.push_back(std::move(w));
      }
    }
    oci::ImageConfig config;
    config.platform = platform;
    config.created = created;
    config.user = stack.user;
    config.env = ConfigEnv(spec);
    config.entrypoint = spec.entrypoint;
    config.cmd = spec.cmd;
    config.working_dir = spec.workdir;
    config.labels = spec.labels;
    config.history = stack.history;
    std::vector<oci::Descriptor> layer_descriptors;
    ArchBuild built{arch, "", wanted.size(), stack.layers.size(), 0};
    built.elf_files = stack.elf.files;
    built.elf_machines = stack.elf.machines;
    for (const auto& l : stack.layers) {
      config.diff_ids.push_back("sha256:" + l.diff_id);
      layer_descriptors.push_back(LayerDescriptor(l, options.compression));
      HB_TRY(auto path, store.Find(l.digest));
      if (!path) {
        return Fail(ErrorCode::kIo,
                    "layer " + l.digest + " vanished from the cache during the build");
      }
      add_blob({layer_descriptors.back(), "", *path});
      built.compressed_bytes += l.size;
    }
    oci::Blob config_blob =
        oci::MakeBlob(std::string(oci::kMediaTypeConfig), oci::ConfigJson(config));
    built.compressed_bytes += config_blob.bytes.size();
    oci::Blob manifest =
        oci::MakeBlob(std::string(oci::kMediaTypeManifest),
                      oci::ManifestJson(config_blob.descriptor, layer_descriptors, annotations));
    manifest.descriptor.platform = platform;
    built.manifest_digest = manifest.descriptor.digest;
    manifests.push_back(manifest.descriptor);
    add_blob({config_blob.descriptor, std::move(config_blob.bytes), ""});
    add_blob({manifest.descriptor, std::move(manifest.bytes), ""});
    result.archs.push_back(std::move(built));

    HB_TRY(Artifacts provenance, WithContext(ArchProvenance(options, spec, lock, arch_lock, wanted,
                                                            layers, manifest.descriptor, epoch),
                                             "provenance of " + arch));
    artifacts.Append(std::move(provenance));
  }

  if (manifests.size() == 1) {
    output.root = manifests.front();
  } else {
    oci::Blob index =
        oci::MakeBlob(std::string(oci::kMediaTypeIndex), oci::IndexJson(manifests, annotations));
    output.root = index.descriptor;
    add_blob({index.descriptor, std::move(index.bytes), ""});
  }
  result.digest = output.root.digest;
  if (options.sign_key && manifests.size() > 1) {
    HB_TRY(Artifacts signature, SignatureArtifacts(*options.sign_key, {output.root, created, {}},
                                                   DockerReference(options, spec)));
    artifacts.Append(std::move(signature));
  }
  for (auto& blob : artifacts.blobs) add_blob(std::move(blob));
  output.artifacts = std::move(artifacts.entries);
  result.artifacts = output.artifacts.size();
  // What it was built from, for `catalog build --changed-only` (build_record.h): in index.json
  // only, so that no digest depends on it.
  HB_TRY(output.root.annotations[std::string(kAnnotationBuildInputs)],
         BuildInputsDigest(options, prepared));
  HB_TRY_VOID(MakeDirs(DirName(fs::absolute(options.output).string())));
  HB_TRY_VOID(WithContext(oci::WriteImage(output, options.format, options.output),
                          "write " + options.output));
  return result;
}

}  // namespace hardbase::pipeline
