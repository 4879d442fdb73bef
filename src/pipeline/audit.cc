#include "pipeline/audit.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "audit/secrets.h"
#include "base/fs.h"
#include "base/fs_safe.h"
#include "dockerfile/dockerfile.h"
#include "image/installed_packages.h"
#include "oci/cosign_layout.h"
#include "oci/manifest.h"
#include "pipeline/scan.h"
#include "pipeline/signatures.h"
#include "sbom/format.h"
#include "sign/bundle.h"
#include "sign/dsse.h"

namespace hardbase::pipeline {
namespace {

using Type = oci::TreeNode::Type;

// Every layer's small text files searched for secrets as they stream by.
oci::MemberVisitor SecretVisitor(std::vector<audit::LayerSecret>& out) {
  return {audit::kMaxSecretScanBytes, [&out](const oci::LayerMember& m) {
            for (auto& s : audit::FindSecrets(m.path, m.content)) {
              out.push_back({m.layer, std::string(m.path), std::move(s.kind), s.line});
            }
          }};
}

Type TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return Type::kFile;
  if (S_ISDIR(mode)) return Type::kDirectory;
  if (S_ISLNK(mode)) return Type::kSymlink;
  if (S_ISCHR(mode)) return Type::kCharDevice;
  if (S_ISBLK(mode)) return Type::kBlockDevice;
  if (S_ISFIFO(mode)) return Type::kFifo;
  return Type::kOther;
}

constexpr uint64_t kNoFollow = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// The tree of a root filesystem directory, as if it were an image's one layer: every path's
// metadata (symlinks never followed), the audited files' contents, the small files shown to
// `visitor`. The newest mtime of its package database files goes to `db_mtime`.
Result<void> WalkDirectory(const std::string& root, oci::ImageTree& tree,
                           const oci::MemberVisitor& visitor, int64_t& db_mtime) {
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return Fail(ErrorCode::kIo, fmt::format("open {}: {}", root, strerror(errno)));
  std::vector<std::string> pending = {""};
  Result<void> result;
  while (!pending.empty() && result) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    int dir_fd = OpenAt2(root_fd, dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY, kNoFollow);
    if (dir_fd < 0) continue;  // replaced meanwhile, or unreadable: its node says what it was
    std::vector<std::string> names;
    if (DIR* d = ::fdopendir(::dup(dir_fd))) {
      while (const dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
      }
      ::closedir(d);
    }
    for (const auto& name : names) {
      std::string path = dir.empty() ? name : dir + "/" + name;
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      oci::TreeNode node;
      node.type = TypeOf(st.st_mode);
      node.mode = st.st_mode & 07777;
      node.uid = st.st_uid;
      node.gid = st.st_gid;
      node.origin = path;
      if (node.type == Type::kDirectory) {
        pending.push_back(path);
      } else if (node.type == Type::kSymlink) {
        std::string target(4096, '\0');
        ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
        node.link_target = n > 0 ? target.substr(0, static_cast<size_t>(n)) : "";
      } else if (node.type == Type::kFile) {
        node.size = static_cast<uint64_t>(st.st_size);
        bool audited = audit::IsAuditedFile(path);
        if (audited && image::IsPackageDatabasePath(path)) {
          db_mtime = std::max<int64_t>(db_mtime, st.st_mtim.tv_sec);
        }
        bool show = node.size <= visitor.max_size;
        if (audited || show) {
          int fd = OpenAt2(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, kNoFollow);
          struct stat opened {};
          if (fd >= 0 && ::fstat(fd, &opened) == 0 && S_ISREG(opened.st_mode)) {
            std::string content;
            auto read = ReadChunks(fd, root + "/" + path,
                                   [&content](std::string_view chunk) { content.append(chunk); });
            if (!read) result = Fail(read.error());
            if (show && read) visitor.visit({0, path, content});
            if (audited && read) tree.files[path] = std::move(content);
          }
          if (fd >= 0) ::close(fd);
        }
      }
      tree.nodes[path] = std::move(node);
    }
    ::close(dir_fd);
  }
  ::close(root_fd);
  return result;
}

Result<void> ReadDirectoryFacts(const std::string& root, audit::ImageFacts& facts,
                                Inventory& inventory) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::kNotFound, fmt::format("{}: not a directory", root));
  }
  int64_t mtime = 0;
  oci::MemberVisitor visitor = SecretVisitor(facts.secrets);
  HB_TRY_VOID(WalkDirectory(root, facts.tree, visitor, mtime));
  inventory.name = BaseName(std::filesystem::path(root).lexically_normal().string());
  if (inventory.name.empty() || inventory.name == ".") {
    inventory.name = BaseName(std::filesystem::absolute(root).lexically_normal().string());
  }
  if (mtime > 0) inventory.created = oci::Rfc3339(mtime);
  for (const auto& [path, node] : facts.tree.nodes) {
    if (node.type == Type::kFile) inventory.size += node.size;
  }
  facts.provenance.evidence = "a directory: nothing is stored with it";
  return {};
}

Result<void> ReadImageFacts(std::string_view image, const AuditOptions& options,
                            audit::ImageFacts& facts, Inventory& inventory) {
  HB_TRY(SelectedImage selected, SelectImage(image, options.inventory));
  oci::MemberVisitor visitor = SecretVisitor(facts.secrets);
  HB_TRY(facts.tree, oci::ReadImageTree(*selected.source, selected.image.manifest,
                                        audit::IsAuditedFile, &visitor));
  DescribeSelectedImage(selected, inventory);
  facts.config = selected.image.config;
  facts.has_config = true;
  facts.layers = selected.image.manifest.layers.size();
  std::vector<oci::Descriptor> subjects = {selected.image.descriptor};
  if (selected.root.digest != selected.image.descriptor.digest) subjects.push_back(selected.root);
  HB_TRY(facts.provenance, WithContext(ReadProvenance(*selected.source, subjects, options.key),
                                       "signatures and SBOMs"));
  return {};
}

// The vulnerability findings of the inventory's packages, or why there are none.
Result<audit::VulnerabilityFacts> MatchVulnerabilities(const Inventory& inventory,
                                                       const AuditOptions& options) {
  audit::VulnerabilityFacts out;
  if (inventory.package_database.empty() || inventory.packages.empty()) {
    out.note = "no package database: nothing to match";
    return out;
  }
  auto release = InventoryRelease(inventory, "");
  if (!release) {
    out.note = release.error().message;
    return out;
  }
  if (!PathExists(options.db_path)) {
    if (options.db_required) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("no vulnerability database at {}", options.db_path));
    }
    out.note = fmt::format("no vulnerability database at {} (`hardbase vuln update` makes one)",
                           options.db_path);
    return out;
  }
  auto db = LoadVulnDbFor(options.db_path, *release, inventory.packages);
  if (!db) {
    // No data for the release is said; a database that cannot be read is an error.
    if (db.error().code != ErrorCode::kNotFound || options.db_required) return Fail(db.error());
    out.note = db.error().message;
    return out;
  }
  HB_TRY(vuln::Report report, ScanInventory(inventory, *db, *release, {}));
  out.matched = true;
  out.findings = std::move(report.match.findings);
  out.note = fmt::format("{} (data of {}), Debian {}", db->metadata().source,
                         db->metadata().data_date.substr(0, 10), *release);
  return out;
}

bool IsSbomPredicate(std::string_view type) {
  return type == sign::kPredicateSpdx || type == sign::kPredicateCycloneDx;
}

}  // namespace

Result<audit::Provenance> ReadProvenance(oci::ImageSource& source,
                                         const std::vector<oci::Descriptor>& subjects,
                                         const sign::PublicKey* key) {
  audit::Provenance p;
  p.key_given = key != nullptr;
  if (key) p.key = key->Hint();
  int signatures = 0;
  bool verified = false;
  std::vector<std::string> found, problems;  // where signatures are; why they do not verify
  for (const auto& subject : subjects) {
    HB_TRY(auto referrers, source.Referrers(subject.digest));
    for (const auto& r : referrers) {
      if (r.artifact_type == sbom::SbomMediaType(sbom::SbomFormat::kSpdx) ||
          r.artifact_type == sbom::SbomMediaType(sbom::SbomFormat::kCycloneDx)) {
        p.sbom = true;
      }
    }
    constexpr std::string_view kSbomTag[] = {oci::kCosignSbomSuffix};
    HB_TRY(auto sbom_tags, oci::FindCosignArtifacts(source, subject.digest, kSbomTag));
    if (!sbom_tags.empty()) p.sbom = true;
    if (key) {
      HB_TRY(DigestReport report, CheckAttached(source, subject, *key));
      for (const auto& f : report.signatures) {
        ++signatures;
        verified = verified || f.valid;
        (f.valid ? found : problems).push_back(f.valid ? f.where : f.where + ": " + f.problem);
      }
      for (const auto& f : report.attestations) {
        ++p.attestations;
        if (f.valid && IsSbomPredicate(f.predicate_type)) p.sbom = p.sbom_verified = true;
      }
      continue;
    }
    // Without a key: what is there, unchecked.
    constexpr std::string_view kTags[] = {oci::kCosignSignatureSuffix,
                                          oci::kCosignAttestationSuffix};
    HB_TRY(auto tagged, oci::FindCosignArtifacts(source, subject.digest, kTags));
    for (const auto& artifact : tagged) {
      HB_TRY(std::string bytes, source.ReadBlob(artifact.descriptor));
      HB_TRY(oci::Manifest manifest, WithContext(oci::ParseManifest(bytes), "tag " + artifact.tag));
      bool signature = artifact.suffix == oci::kCosignSignatureSuffix;
      for (size_t i = 0; i < manifest.layers.size(); ++i) {
        if (signature) {
          ++signatures;
          found.push_back(fmt::format("tag {} layer {}", artifact.tag, i));
          continue;
        }
        ++p.attestations;
        const auto& annotations = manifest.layers[i].annotations;
        auto type = annotations.find(std::string(kPredicateTypeAnnotation));
        if (type != annotations.end() && IsSbomPredicate(type->second)) p.sbom = true;
      }
    }
    for (const auto& r : referrers) {
      if (r.artifact_type != sign::kBundleMediaType) continue;
      auto type = r.annotations.find(std::string(kBundlePredicateAnnotation));
      std::string predicate = type == r.annotations.end() ? "" : type->second;
      if (predicate.empty() || predicate == sign::kPredicateCosignSign) {
        ++signatures;
        found.push_back("bundle referrer " + r.digest);
      } else {
        ++p.attestations;
        if (IsSbomPredicate(predicate)) p.sbom = true;
      }
    }
  }
  if (key) {
    p.signature = verified         ? audit::Provenance::Signature::kVerified
                  : signatures > 0 ? audit::Provenance::Signature::kInvalid
                                   : audit::Provenance::Signature::kAbsent;
  } else {
    p.signature = signatures > 0 ? audit::Provenance::Signature::kPresent
                                 : audit::Provenance::Signature::kAbsent;
  }
  const auto& lines = p.signature == audit::Provenance::Signature::kInvalid ? problems : found;
  for (size_t i = 0; i < lines.size() && i < 4; ++i) {
    p.evidence += (i ? "; " : "") + lines[i];
  }
  if (lines.size() > 4) p.evidence += fmt::format("; and {} more", lines.size() - 4);
  if (p.evidence.empty()) {
    p.evidence = "no cosign signature tag and no sigstore bundle referrer";
  }
  return p;
}

Result<audit::ImageFacts> ReadAuditFacts(std::string_view image, const AuditOptions& options) {
  audit::ImageFacts facts;
  Inventory inventory;
  inventory.reference = image;
  facts.reference = image;
  if (std::string root = RootFilesystemDirectory(image); !root.empty()) {
    HB_TRY_VOID(WithContext(ReadDirectoryFacts(root, facts, inventory), root));
  } else {
    HB_TRY_VOID(WithContext(ReadImageFacts(image, options, facts, inventory), std::string(image)));
  }
  HB_TRY_VOID(AddPackageDatabase(facts.tree.files, inventory));
  HB_TRY(facts.vulnerabilities, WithContext(MatchVulnerabilities(inventory, options),
                                            "vulnerabilities of " + std::string(image)));
  if (!options.dockerfile.empty()) {
    // Bounded: Parse refuses more than 4 MiB anyway.
    HB_TRY(std::string text, ReadRegularFile(options.dockerfile, uint64_t{8} << 20));
    HB_TRY(facts.dockerfile, WithContext(dockerfile::Parse(text), options.dockerfile));
    facts.dockerfile_path = options.dockerfile;
  }
  facts.name = inventory.name;
  facts.digest = inventory.digest;
  facts.created = inventory.created;
  facts.architecture = inventory.architecture;
  facts.size = inventory.size;
  facts.package_database = inventory.package_database;
  facts.packages = std::move(inventory.packages);
  return facts;
}

Result<audit::Report> AuditImage(std::string_view image, const AuditOptions& options) {
  HB_TRY(audit::ImageFacts facts, ReadAuditFacts(image, options));
  return audit::Audit(facts);
}

}  // namespace hardbase::pipeline
