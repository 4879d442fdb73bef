#include "pipeline/reproduce.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/json_limits.h"
#include "base/log.h"
#include "base/sha256.h"
#include "oci/image_ref.h"
#include "oci/layer.h"
#include "oci/manifest.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/signatures.h"
#include "registry/registry_source.h"
#include "sign/dsse.h"

namespace hardbase::pipeline {
namespace {

// Files up to this size are hashed when two layers are compared; larger ones (rare in a layer,
// and held in memory to be hashed) by their metadata only. Below the layer reader's own bound.
constexpr uint64_t kMaxHashedFile = uint64_t{256} << 20;
// How many config or manifest differences are listed; the first ones tell the story.
constexpr size_t kMaxJsonDifferences = 8;
// A JSON value quoted in a difference is cut to this many bytes.
constexpr size_t kMaxQuotedValue = 120;

// One platform of the image and the provenance that covers it.
struct Attested {
  oci::PlatformImage image;
  SlsaProvenance provenance;
  std::string where;  // "tag sha256-<hex>.att layer 1", "the index's bundle referrer sha256:..."
};

// Whether a provenance's Debian architecture is this platform.
bool SamePlatform(const std::string& debian_arch, const oci::Platform& platform) {
  auto p = oci::PlatformForDebianArch(debian_arch);
  return p && p->os == platform.os && p->architecture == platform.architecture &&
         (p->variant.empty() || platform.variant.empty() || p->variant == platform.variant);
}

// The first SLSA provenance hardbase can rebuild from that covers `image`: attached to its
// manifest (as `build --sign-key` attests each platform) or to the index `root` (as `attest`
// does), of the image's architecture, verified with `key` when there is one.
Result<Attested> FindProvenance(oci::ImageSource& source, const oci::Descriptor& root,
                                oci::PlatformImage image, const sign::PublicKey* key) {
  const std::string platform = oci::PlatformName(image.config.platform);
  std::vector<oci::Descriptor> subjects = {image.descriptor};
  if (root.digest != image.descriptor.digest) subjects.push_back(root);
  std::vector<std::string> problems;
  for (const auto& subject : subjects) {
    std::vector<Finding> findings;
    if (key) {
      HB_TRY(DigestReport report, CheckAttached(source, subject, *key));
      findings = std::move(report.attestations);
    } else {
      HB_TRY(findings, UnverifiedAttestations(source, subject));
    }
    for (auto& f : findings) {
      // A finding that failed before its statement was read has no type: it may be one.
      if (!f.predicate_type.empty() && f.predicate_type != sign::kPredicateSlsaProvenance) continue;
      std::string where = subject.digest == root.digest && subject.digest != image.descriptor.digest
                              ? "the index's " + f.where
                              : f.where;
      if ((key && !f.valid) || f.predicate_json.empty()) {
        problems.push_back(where + ": " + f.problem);
        continue;
      }
      auto provenance = ParseSlsaProvenance(f.predicate_json);
      if (!provenance) {
        problems.push_back(where + ": " + provenance.error().message);
        continue;
      }
      if (!SamePlatform(provenance->arch, image.config.platform)) {
        problems.push_back(where + ": the provenance of a " + provenance->arch + " build");
        continue;
      }
      return Attested{std::move(image), std::move(*provenance), std::move(where)};
    }
  }
  return Fail(
      ErrorCode::kVerification,
      fmt::format("no SLSA provenance attestation{} covers the {} image {}{}: {}",
                  key ? " that verifies with key " + key->Hint() : "", platform,
                  image.descriptor.digest, subjects.size() > 1 ? " or its index" : "",
                  problems.empty() ? std::string("none found (hardbase build --sign-key attests "
                                                 "one)")
                                   : fmt::format("{}", fmt::join(problems, "; "))));
}

// The platforms' provenances must describe one build: one spec, one lock, one way to compress.
Result<void> CheckOneBuild(const std::vector<Attested>& attested) {
  const Attested& first = attested.front();
  for (const auto& a : attested) {
    const SlsaProvenance& p = a.provenance;
    const SlsaProvenance& q = first.provenance;
    if (p.spec_sha256 != q.spec_sha256 || p.lock_sha256 != q.lock_sha256 ||
        p.compression != q.compression || p.source_date_epoch != q.source_date_epoch) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("the provenances of {} and {} describe different builds (spec, "
                              "lock, compression or timestamp): they cannot be rebuilt as one",
                              oci::PlatformName(first.image.config.platform),
                              oci::PlatformName(a.image.config.platform)));
    }
  }
  return {};
}

// A JSON value for a difference line, cut short.
std::string Quote(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxQuotedValue) text = text.substr(0, kMaxQuotedValue) + "...";
  return text;
}

// What differs between two JSON documents (the image's first), one line per JSON pointer, paths
// starting with one of `skip` left out: "/created: \"a\" vs \"b\"".
std::vector<std::string> JsonDifferences(std::string_view original, std::string_view rebuilt,
                                         std::string_view what,
                                         const std::vector<std::string>& skip) {
  auto a = ParseUntrustedJson(original, "the image's " + std::string(what));
  auto b = ParseUntrustedJson(rebuilt, "the rebuilt " + std::string(what));
  if (!a || !b) return {(!a ? a.error() : b.error()).message};
  std::vector<std::string> out;
  size_t more = 0;
  for (const auto& op : nlohmann::json::diff(*a, *b)) {
    std::string path = op.value("path", "");
    bool skipped = std::any_of(skip.begin(), skip.end(), [&](const std::string& prefix) {
      return path == prefix || path.starts_with(prefix + "/");
    });
    if (skipped) continue;
    if (out.size() == kMaxJsonDifferences) {
      ++more;
      continue;
    }
    std::string kind = op.value("op", "");
    nlohmann::json::json_pointer pointer(path);
    if (kind == "add") {
      out.push_back(fmt::format("{}: only in the rebuild ({})", path, Quote(op["value"])));
    } else if (kind == "remove") {
      out.push_back(fmt::format("{}: only in the image ({})", path, Quote(a->at(pointer))));
    } else {
      out.push_back(fmt::format("{}: {} vs {}", path, Quote(a->at(pointer)), Quote(op["value"])));
    }
  }
  if (more > 0) out.push_back(fmt::format("and {} more", more));
  return out;
}

// What layer `index` holds, from the config's history ("libc6 2.36-9 (amd64)"), or "".
std::string LayerContent(const oci::ImageConfig& config, size_t index) {
  size_t layer = 0;
  for (const auto& h : config.history) {
    if (h.empty_layer) continue;
    if (layer++ != index) continue;
    std::string_view by = h.created_by;
    if (by.starts_with("hardbase: ")) by.remove_prefix(10);
    return std::string(by);
  }
  return "";
}

// One layer's files by themselves: each path's metadata, and the sha256 of each regular file
// member small enough to hash.
struct LayerFiles {
  std::map<std::string, oci::TreeNode> nodes;
  std::map<std::string, std::string> sha256;  // by member path
};

Result<LayerFiles> ReadLayer(oci::ImageSource& source, const oci::Descriptor& layer) {
  if (!oci::IsLayerMediaType(layer.media_type)) {
    return Fail(ErrorCode::kSpec, "layer " + layer.digest + ": media type '" + layer.media_type +
                                      "' is not a filesystem layer");
  }
  LayerFiles out;
  oci::MemberVisitor hash{kMaxHashedFile, [&](const oci::LayerMember& m) {
                            out.sha256[std::string(m.path)] = Sha256Hex(m.content);
                          }};
  HB_TRY(oci::ImageTree tree, WithContext(oci::ReadLayerTree(
                                              1, [&](size_t) { return source.OpenBlob(layer); },
                                              [](std::string_view) { return false; }, &hash),
                                          "layer " + layer.digest));
  out.nodes = std::move(tree.nodes);
  return out;
}

std::string_view TypeName(oci::TreeNode::Type type) {
  switch (type) {
    case oci::TreeNode::Type::kFile:
      return "a regular file";
    case oci::TreeNode::Type::kDirectory:
      return "a directory";
    case oci::TreeNode::Type::kSymlink:
      return "a symbolic link";
    case oci::TreeNode::Type::kCharDevice:
      return "a character device";
    case oci::TreeNode::Type::kBlockDevice:
      return "a block device";
    case oci::TreeNode::Type::kFifo:
      return "a FIFO";
    case oci::TreeNode::Type::kOther:
      break;
  }
  return "something else";
}

// How a path differs between two versions of a layer, the image's value first; "" when it does
// not (as far as the tree shows: not the timestamps).
std::string NodeDifference(const LayerFiles& a, const std::string& path_a, const oci::TreeNode& x,
                           const LayerFiles& b, const oci::TreeNode& y) {
  if (x.type != y.type) return fmt::format("{} vs {}", TypeName(x.type), TypeName(y.type));
  std::vector<std::string> what;
  if (x.link_target != y.link_target) {
    what.push_back(fmt::format("link target '{}' vs '{}'", x.link_target, y.link_target));
  }
  // A hard link is its target's node, named by the target's member.
  bool x_link = x.type == oci::TreeNode::Type::kFile && x.origin != path_a;
  bool y_link = y.type == oci::TreeNode::Type::kFile && y.origin != path_a;
  if (x_link != y_link || (x_link && x.origin != y.origin)) {
    auto describe = [](bool link, const std::string& origin) {
      return link ? "a hard link to " + origin : std::string("a file of its own");
    };
    what.push_back(fmt::format("{} vs {}", describe(x_link, x.origin), describe(y_link, y.origin)));
  }
  if (x.size != y.size) what.push_back(fmt::format("size {} vs {}", x.size, y.size));
  if (x.mode != y.mode) what.push_back(fmt::format("mode {:04o} vs {:04o}", x.mode, y.mode));
  if (x.uid != y.uid || x.gid != y.gid) {
    what.push_back(fmt::format("owner {}:{} vs {}:{}", x.uid, x.gid, y.uid, y.gid));
  }
  if (x.type == oci::TreeNode::Type::kFile) {
    auto hx = a.sha256.find(x.origin);
    auto hy = b.sha256.find(y.origin);
    if (hx != a.sha256.end() && hy != b.sha256.end() && hx->second != hy->second) {
      what.push_back(fmt::format("content sha256 {} vs {}", hx->second, hy->second));
    }
  }
  return fmt::format("{}", fmt::join(what, ", "));
}

// The first path (in byte order) at which two versions of a layer differ.
std::optional<FileDifference> FirstFileDifference(const LayerFiles& a, const LayerFiles& b) {
  auto x = a.nodes.begin();
  auto y = b.nodes.begin();
  while (x != a.nodes.end() || y != b.nodes.end()) {
    if (y == b.nodes.end() || (x != a.nodes.end() && x->first < y->first)) {
      return FileDifference{x->first, "only in the image's layer"};
    }
    if (x == a.nodes.end() || y->first < x->first) {
      return FileDifference{y->first, "only in the rebuilt layer"};
    }
    std::string what = NodeDifference(a, x->first, x->second, b, y->second);
    if (!what.empty()) return FileDifference{x->first, std::move(what)};
    ++x;
    ++y;
  }
  return std::nullopt;
}

// The first layer (bottom up) whose digest differs, and inside it the first differing file.
Result<std::optional<LayerDifference>> FirstLayerDifference(oci::ImageSource& original_source,
                                                            const oci::PlatformImage& original,
                                                            oci::ImageSource& rebuilt_source,
                                                            const oci::PlatformImage& rebuilt) {
  const auto& ol = original.manifest.layers;
  const auto& rl = rebuilt.manifest.layers;
  for (size_t i = 0; i < std::max(ol.size(), rl.size()); ++i) {
    if (i < ol.size() && i < rl.size() && ol[i].digest == rl[i].digest) continue;
    LayerDifference d;
    d.index = i;
    if (i < ol.size()) d.original = ol[i].digest;
    if (i < rl.size()) d.rebuilt = rl[i].digest;
    d.content = LayerContent(i < rl.size() ? rebuilt.config : original.config, i);
    if (i >= rl.size()) {
      d.note = "only in the image";
      return d;
    }
    if (i >= ol.size()) {
      d.note = "only in the rebuild";
      return d;
    }
    const auto& od = original.config.diff_ids;
    const auto& rd = rebuilt.config.diff_ids;
    if (i < od.size() && i < rd.size() && od[i] == rd[i]) {
      d.note = ol[i].media_type != rl[i].media_type
                   ? fmt::format("the same tar (diff_id {}) compressed differently ({} vs {})",
                                 od[i], ol[i].media_type, rl[i].media_type)
                   : fmt::format(
                         "the same tar (diff_id {}) compressed to other bytes (another "
                         "compressor, version or level)",
                         od[i]);
      return d;
    }
    HB_TRY(LayerFiles a, WithContext(ReadLayer(original_source, ol[i]), "the image's layer"));
    HB_TRY(LayerFiles b, WithContext(ReadLayer(rebuilt_source, rl[i]), "the rebuilt layer"));
    d.file = FirstFileDifference(a, b);
    if (!d.file) {
      d.note =
          "the same files (paths, types, modes, owners, sizes, link targets, contents): the tars "
          "differ in what the files do not show (timestamps, member order, headers)";
    }
    return d;
  }
  return std::nullopt;
}

const spec::ArchLock* FindArch(const spec::Lock& lock, const std::string& arch) {
  for (const auto& a : lock.archs) {
    if (a.arch == arch) return &a;
  }
  return nullptr;
}

}  // namespace

Result<PlatformComparison> ComparePlatformImages(oci::ImageSource& original_source,
                                                 const oci::PlatformImage& original,
                                                 oci::ImageSource& rebuilt_source,
                                                 const oci::PlatformImage& rebuilt) {
  PlatformComparison c;
  c.platform = oci::PlatformName(original.config.platform);
  c.original = original.descriptor.digest;
  c.rebuilt = rebuilt.descriptor.digest;
  if (c.same()) return c;
  if (original.manifest.config.digest != rebuilt.manifest.config.digest) {
    HB_TRY(std::string a,
           WithContext(original_source.ReadBlob(original.manifest.config), "the image's config"));
    HB_TRY(std::string b,
           WithContext(rebuilt_source.ReadBlob(rebuilt.manifest.config), "the rebuilt config"));
    // The layers' digests are the layers' business (below).
    c.config = JsonDifferences(a, b, "config", {"/rootfs/diff_ids"});
  }
  HB_TRY(c.layer, FirstLayerDifference(original_source, original, rebuilt_source, rebuilt));
  if (c.config.empty() && !c.layer) {
    HB_TRY(std::string a, original_source.ReadBlob(original.descriptor));
    HB_TRY(std::string b, rebuilt_source.ReadBlob(rebuilt.descriptor));
    std::vector<std::string> lines = JsonDifferences(a, b, "manifest", {"/config", "/layers"});
    c.note = lines.empty() ? "the manifests differ in their encoding only"
                           : fmt::format("the manifests differ: {}", fmt::join(lines, "; "));
  }
  return c;
}

std::vector<std::string> LockProvenanceDifferences(const SlsaProvenance& provenance,
                                                   const spec::Lock& lock) {
  const std::string& arch = provenance.arch;
  const spec::ArchLock* locked = FindArch(lock, arch);
  if (!locked) return {fmt::format("{}: architecture not in the lock", arch)};
  std::map<std::string, const SlsaProvenance::Deb*> built;
  std::map<std::string, const spec::LockedPackage*> now;
  for (const auto& d : provenance.debs) built[d.name] = &d;
  for (const auto& p : locked->packages) now[p.name] = &p;
  std::vector<std::string> out;
  for (const auto& [name, d] : built) {
    auto it = now.find(name);
    if (it == now.end()) {
      out.push_back(fmt::format("{}: - {} {}", arch, name, d->version));
      continue;
    }
    const spec::LockedPackage& p = *it->second;
    if (d->version != p.version) {
      out.push_back(fmt::format("{}: {} {} -> {}", arch, name, d->version, p.version));
    } else if (d->architecture != p.architecture) {
      out.push_back(fmt::format("{}: {} {}: architecture {} -> {}", arch, name, d->version,
                                d->architecture, p.architecture));
    } else if (d->sha256 != p.sha256) {
      out.push_back(fmt::format("{}: {} {}: same version, other .deb (sha256 {} -> {})", arch, name,
                                d->version, d->sha256, p.sha256));
    } else if (d->filename != p.filename) {
      out.push_back(fmt::format("{}: {} {}: same .deb, other file name ({} -> {})", arch, name,
                                d->version, d->filename, p.filename));
    }
  }
  for (const auto& [name, p] : now) {
    if (!built.count(name)) out.push_back(fmt::format("{}: + {} {}", arch, name, p->version));
  }
  return out;
}

Result<Reproduction> ReproduceImage(const ReproduceOptions& options, net::HttpClient& http,
                                    cache::BlobStore& store) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(options.image));
  HB_TRY(auto source, registry::OpenAnyImage(ref, options.registry));
  HB_TRY(oci::Descriptor root, source->Root());
  HB_TRY(auto platforms, oci::ResolvePlatforms(*source, root));
  if (platforms.empty()) return Fail(ErrorCode::kNotFound, "no image for any platform");
  Reproduction out;
  out.image = root.digest;
  out.verified = options.key != nullptr;
  if (options.key) out.key_hint = options.key->Hint();

  std::vector<Attested> attested;
  for (auto& p : platforms) {
    HB_TRY(Attested a, FindProvenance(*source, root, std::move(p), options.key));
    out.provenance.push_back(oci::PlatformName(a.image.config.platform) + ": " + a.where);
    attested.push_back(std::move(a));
  }
  HB_TRY_VOID(CheckOneBuild(attested));
  for (const auto& line : out.provenance) LogInfo("provenance of {}", line);
  if (options.key) {
    LogInfo("provenance verified with key {}", out.key_hint);
  } else {
    LogWarn(
        "the provenance was NOT verified (no key given): it is what the image says about itself, "
        "whoever wrote it");
  }
  const SlsaProvenance& provenance = attested.front().provenance;
  out.built_by = provenance.hardbase_version;

  // The spec and lock: the provenance's files, by sha256.
  out.spec_path = options.spec_path.empty() ? provenance.spec_path : options.spec_path;
  HB_TRY(std::string spec_bytes,
         WithContext(ReadFile(out.spec_path),
                     options.spec_path.empty()
                         ? "the spec the provenance names (--spec FILE to give another path)"
                         : "--spec"));
  if (std::string sha = Sha256Hex(spec_bytes); sha != provenance.spec_sha256) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{} is not the spec the image was built from: its sha256 is {}, the "
                            "provenance records {}",
                            out.spec_path, sha, provenance.spec_sha256));
  }
  out.lock_path = !options.lock_path.empty()   ? options.lock_path
                  : !options.spec_path.empty() ? spec::DefaultLockPath(options.spec_path)
                                               : provenance.lock_path;
  HB_TRY(std::string lock_bytes,
         WithContext(ReadFile(out.lock_path), "the lock (--lock FILE to give another path)"));
  HB_TRY(spec::Lock lock, spec::ParseLock(lock_bytes, out.lock_path));
  std::vector<std::string> differences;
  for (const auto& a : attested) {
    for (auto& line : LockProvenanceDifferences(a.provenance, lock)) {
      differences.push_back(std::move(line));
    }
  }
  // The build hashes the lock as LockToJson writes it: a lock file re-indented by hand is the
  // same lock.
  std::string lock_sha = Sha256Hex(lock_bytes);
  bool same_lock = lock_sha == provenance.lock_sha256 ||
                   Sha256Hex(spec::LockToJson(lock)) == provenance.lock_sha256;
  if (!same_lock) {
    if (differences.empty()) {
      differences.push_back(
          "the same packages: the lock differs in what else it records (the spec's digest, "
          "the releases, the timestamp, who required what)");
    }
    std::string message = fmt::format(
        "{} is not the lock the image was built from: its sha256 is {}, the provenance records "
        "{}; {} difference{} (provenance -> lock)",
        out.lock_path, lock_sha, provenance.lock_sha256, differences.size(),
        differences.size() == 1 ? "" : "s");
    return Fail(Error(ErrorCode::kIntegrity, std::move(message), std::move(differences)));
  }
  if (!differences.empty()) {
    return Fail(Error(ErrorCode::kIntegrity,
                      fmt::format("the provenance records the sha256 of {} but other .debs than "
                                  "it holds (provenance -> lock)",
                                  out.lock_path),
                      std::move(differences)));
  }
  for (const auto& a : lock.archs) out.packages += a.packages.size();

  // The rebuild: every layer from the .debs, compressed and dated as the provenance says.
  BuildOptions build;
  build.spec_path = out.spec_path;
  build.lock_path = out.lock_path;
  build.locked = true;
  build.format = oci::OutputFormat::kOciLayout;
  auto compression = oci::ParseCompression(provenance.compression);
  if (!compression) {
    return Fail(ErrorCode::kSpec,
                fmt::format("the provenance's compression '{}' is not one hardbase writes",
                            provenance.compression));
  }
  build.compression = *compression;
  build.source_date_epoch = provenance.source_date_epoch;
  build.layer_cache = false;
  build.apt_root = options.apt_root;
  build.allow_outside_files = options.allow_outside_files;
  std::optional<TempDir> temp;
  build.output = options.output;
  if (build.output.empty()) {
    HB_TRY(TempDir dir, TempDir::Create("hardbase-reproduce-"));
    temp.emplace(std::move(dir));
    build.output = temp->path() + "/image";
  }
  LogInfo("rebuilding {} from {} ({} packages, {}, timestamp {})", out.image, out.spec_path,
          out.packages, provenance.compression, provenance.source_date_epoch);
  HB_TRY(BuildResult built, WithContext(BuildImage(build, http, store), "rebuild"));

  oci::ImageRef rebuilt_ref;
  rebuilt_ref.transport = oci::ImageRef::Transport::kOciLayout;
  rebuilt_ref.path = build.output;
  HB_TRY(auto rebuilt_source, oci::OpenImage(rebuilt_ref));
  HB_TRY(oci::Descriptor rebuilt_root, rebuilt_source->Root());
  HB_TRY(auto rebuilt_platforms, oci::ResolvePlatforms(*rebuilt_source, rebuilt_root));
  bool every_platform_same = true;
  for (const auto& a : attested) {
    auto match = std::find_if(
        rebuilt_platforms.begin(), rebuilt_platforms.end(),
        [&](const oci::PlatformImage& r) { return r.config.platform == a.image.config.platform; });
    if (match == rebuilt_platforms.end()) {
      PlatformComparison c;
      c.platform = oci::PlatformName(a.image.config.platform);
      c.original = a.image.descriptor.digest;
      c.note = "the rebuild has no image for this platform";
      out.platforms.push_back(std::move(c));
      every_platform_same = false;
      continue;
    }
    HB_TRY(PlatformComparison c, ComparePlatformImages(*source, a.image, *rebuilt_source, *match));
    every_platform_same = every_platform_same && c.same();
    out.platforms.push_back(std::move(c));
  }
  // A reference to one platform's manifest is reproduced by that platform's rebuild.
  bool single_manifest = attested.size() == 1 && attested[0].image.descriptor.digest == root.digest;
  out.rebuilt = single_manifest ? out.platforms[0].rebuilt : built.digest;
  if (!single_manifest && every_platform_same && !out.same()) {
    std::string why = "one is an index, the other a manifest";
    if (rebuilt_root.media_type == root.media_type) {
      HB_TRY(std::string a, source->ReadBlob(root));
      HB_TRY(std::string b, rebuilt_source->ReadBlob(rebuilt_root));
      std::vector<std::string> lines = JsonDifferences(a, b, "index", {});
      why = lines.empty() ? "they differ in their encoding only"
                          : fmt::format("{}", fmt::join(lines, "; "));
    }
    out.root_note = fmt::format("every platform's image is the same, the index is not: {}", why);
  }
  return out;
}

}  // namespace hardbase::pipeline
