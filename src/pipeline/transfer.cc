#include "pipeline/transfer.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/log.h"
#include "base/parallel.h"
#include "oci/cosign_layout.h"
#include "oci/image_source.h"
#include "oci/image_target.h"
#include "oci/manifest.h"
#include "registry/registry_target.h"

namespace hardbase::pipeline {
namespace {

using oci::Descriptor;
using oci::ImageRef;

// Existence checks are small requests: a few connections answer them faster than many (each new
// connection costs more than a HEAD on a kept-alive one).
constexpr unsigned kCheckThreads = 2;

bool IsDocument(const Descriptor& d) {
  return oci::IsManifestMediaType(d.media_type) || oci::IsIndexMediaType(d.media_type);
}

// Everything an image (and what travels with it) is made of.
struct Graph {
  std::vector<oci::Blob> documents;  // manifests and indexes, each after the ones it names
  std::vector<Descriptor> blobs;     // configs and layers
  std::map<std::string, std::vector<std::string>> blobs_of;  // manifest -> its config and layers
  std::set<std::string> seen;
};

// Indexes nested deeper than this are refused, as oci::ResolvePlatforms refuses them: real images
// nest two or three levels, and a registry serving an endless chain must not exhaust the stack.
constexpr int kMaxIndexDepth = 8;

Result<void> Walk(oci::ImageSource& source, const Descriptor& d, Graph& graph, int depth = 0) {
  if (!graph.seen.insert(d.digest).second) return {};
  if (!IsDocument(d)) {
    graph.blobs.push_back(d);
    return {};
  }
  if (depth > kMaxIndexDepth) {
    return Fail(ErrorCode::kSpec, (oci::IsIndexMediaType(d.media_type) ? "index " : "manifest ") +
                                      d.digest + ": indexes nested deeper than " +
                                      std::to_string(kMaxIndexDepth) + " levels");
  }
  HB_TRY(std::string bytes, source.ReadBlob(d));
  if (oci::IsIndexMediaType(d.media_type)) {
    HB_TRY(oci::Index index, WithContext(oci::ParseIndex(bytes), "index " + d.digest));
    for (const auto& child : index.manifests) {
      HB_TRY_VOID(Walk(source, child, graph, depth + 1));
    }
  } else {
    HB_TRY(oci::Manifest manifest, WithContext(oci::ParseManifest(bytes), "manifest " + d.digest));
    auto& own = graph.blobs_of[d.digest];
    own.push_back(manifest.config.digest);
    HB_TRY_VOID(Walk(source, manifest.config, graph));
    for (const auto& layer : manifest.layers) {
      own.push_back(layer.digest);
      HB_TRY_VOID(Walk(source, layer, graph));
    }
  }
  Descriptor plain{d.media_type, d.digest, d.size, std::nullopt, "", {}};
  graph.documents.push_back({std::move(plain), std::move(bytes)});
  return {};
}

// An artifact that travels with the image: at a cosign tag (entry carries ref.name) or a
// referrer of `subject`.
struct Attached {
  Descriptor entry;
  std::string subject;  // referrers only
};

// The image `root` names, and the signatures, attestations and SBOMs of it and of its platform
// manifests.
struct Staged {
  Graph graph;
  Descriptor root;
  std::vector<Attached> attached;
};

Result<Staged> Stage(oci::ImageSource& source, const Descriptor& root, bool artifacts) {
  Staged staged;
  staged.root = Descriptor{root.media_type, root.digest, root.size, std::nullopt, "", {}};
  HB_TRY_VOID(Walk(source, root, staged.graph));
  if (!artifacts) return staged;
  std::vector<std::string> subjects;
  for (const auto& doc : staged.graph.documents) subjects.push_back(doc.descriptor.digest);
  for (const auto& subject : subjects) {
    for (std::string_view suffix : oci::kCosignSuffixes) {
      std::string tag = oci::CosignTag(subject, suffix);
      auto found = source.Resolve(tag);
      if (!found) {
        if (found.error().code == ErrorCode::kNotFound) continue;
        return Fail(found.error());
      }
      HB_TRY_VOID(Walk(source, *found, staged.graph));
      Descriptor entry{found->media_type, found->digest, found->size, std::nullopt, "", {}};
      entry.annotations[std::string(oci::kAnnotationRefName)] = tag;
      staged.attached.push_back({std::move(entry), ""});
    }
    HB_TRY(auto referrers, source.Referrers(subject));
    for (const auto& r : referrers) {
      HB_TRY_VOID(Walk(source, r, staged.graph));
      Descriptor entry = r;
      entry.annotations.erase(std::string(oci::kAnnotationRefName));
      staged.attached.push_back({std::move(entry), subject});
    }
  }
  return staged;
}

// The blobs to send to `target`: those it holds are not sent again (asked kCheckThreads at a
// time), those the image `mount_from` (when given) can lend are mounted, the rest are put
// `parallel` at a time. Counted in `report`.
Result<void> SendBlobs(oci::ImageTarget& target, const std::vector<oci::BlobContent>& blobs,
                       const ImageRef* mount_from, int parallel, TransferReport& report) {
  std::vector<char> needed(blobs.size(), 0);
  std::atomic<int> present{0}, mounted{0};
  HB_TRY_VOID(ParallelFor(blobs.size(), kCheckThreads, [&](size_t i) -> Result<void> {
    const Descriptor& d = blobs[i].descriptor;
    HB_TRY(bool has, target.HasBlob(d));
    if (has) {
      ++present;
      return {};
    }
    if (mount_from) {
      HB_TRY(bool linked, target.MountBlob(d, *mount_from));
      if (linked) {
        ++mounted;
        return {};
      }
    }
    needed[i] = 1;
    return {};
  }));
  report.blobs += static_cast<int>(blobs.size());
  report.blobs_present += present;
  report.blobs_mounted += mounted;
  uint64_t total = 0;
  std::vector<size_t> todo;
  for (size_t i = 0; i < blobs.size(); ++i) {
    if (!needed[i]) continue;
    todo.push_back(i);
    total += static_cast<uint64_t>(blobs[i].descriptor.size);
  }
  if (todo.empty()) return {};
  std::optional<Progress> progress;
  if (std::string label = target.TransferLabel(); !label.empty()) {
    progress.emplace(label, total, Progress::Unit::kBytes);
  }
  unsigned threads = static_cast<unsigned>(std::max(1, parallel));
  HB_TRY_VOID(ParallelFor(todo.size(), threads, [&](size_t k) -> Result<void> {
    return target.PutBlob(blobs[todo[k]], progress ? &*progress : nullptr);
  }));
  if (progress) progress->Finish();
  report.bytes_sent += total;
  return {};
}

// What travels with the image: the artifacts at cosign's tags, then the referrers of each
// subject (listed in the fallback tag by a registry without the referrers API).
Result<void> PutAttached(oci::ImageTarget& target, const std::vector<Attached>& attached,
                         const std::map<std::string, const oci::Blob*>& documents,
                         TransferReport& report) {
  std::map<std::string, std::vector<oci::Referrer>> by_subject;
  for (const auto& a : attached) {
    auto doc = documents.find(a.entry.digest);
    if (doc == documents.end()) {
      return Fail(ErrorCode::kInternal, "artifact " + a.entry.digest + " was not staged");
    }
    ++report.artifacts;
    if (!a.subject.empty()) {
      by_subject[a.subject].push_back({*doc->second, a.entry});
      continue;
    }
    HB_TRY(bool sent, target.PutManifest(*doc->second, oci::RefName(a.entry)));
    if (sent) ++report.manifests;
  }
  for (const auto& [subject, referrers] : by_subject) {
    HB_TRY(int stored, target.PutReferrers(subject, referrers));
    report.manifests += stored;
  }
  return {};
}

// How many blobs an artifact store sends at once.
constexpr int kArtifactParallel = 4;

}  // namespace

Result<TransferReport> CopyImage(oci::ImageSource& source, oci::ImageTarget& target,
                                 const TransferOptions& options) {
  const ImageRef& to = target.ref();
  HB_TRY(Descriptor root, source.Root());
  if (!to.digest.empty() && to.digest != root.digest) {
    return Fail(ErrorCode::kUsage,
                "the destination names digest " + to.digest + " but the image is " + root.digest);
  }
  HB_TRY(Staged staged, Stage(source, root, options.artifacts));
  std::string tag = !to.tag.empty() ? to.tag : source.ref().tag;
  TransferReport report;
  report.root = staged.root;
  report.destination = to.ToString();

  // Manifests the destination already holds have their blobs there too (a registry accepts a
  // manifest only when they are): a repeated push checks a few manifests, not every layer.
  std::vector<const oci::Blob*> manifests;
  for (const auto& doc : staged.graph.documents) {
    if (staged.graph.blobs_of.count(doc.descriptor.digest)) manifests.push_back(&doc);
  }
  std::vector<char> held(manifests.size(), 0);
  HB_TRY_VOID(ParallelFor(manifests.size(), kCheckThreads, [&](size_t i) -> Result<void> {
    HB_TRY(bool has, target.HasManifest(manifests[i]->descriptor));
    held[i] = has;
    return {};
  }));
  std::set<std::string> present, wanted;
  for (size_t i = 0; i < manifests.size(); ++i) {
    const std::string& digest = manifests[i]->descriptor.digest;
    if (held[i]) {
      present.insert(digest);
    } else {
      const auto& own = staged.graph.blobs_of.at(digest);
      wanted.insert(own.begin(), own.end());
    }
  }
  std::vector<oci::BlobContent> blobs;
  for (const auto& d : staged.graph.blobs) {
    if (!wanted.count(d.digest)) {
      ++report.blobs;
      ++report.blobs_present;
      continue;
    }
    blobs.push_back(oci::ContentOf(source, d));
  }
  HB_TRY_VOID(SendBlobs(target, blobs, &source.ref(), options.parallel, report));

  std::map<std::string, const oci::Blob*> documents;
  for (const auto& doc : staged.graph.documents) documents[doc.descriptor.digest] = &doc;
  std::set<std::string> artifact_digests;
  for (const auto& a : staged.attached) artifact_digests.insert(a.entry.digest);
  // The image's own documents, children first, the root last under its tag.
  for (const auto& doc : staged.graph.documents) {
    const std::string& digest = doc.descriptor.digest;
    if (artifact_digests.count(digest) || digest == staged.root.digest || present.count(digest)) {
      continue;
    }
    HB_TRY(bool sent, target.PutManifest(doc, ""));
    if (sent) ++report.manifests;
  }
  HB_TRY(bool sent, target.PutImage(*documents.at(staged.root.digest), tag));
  if (sent) ++report.manifests;
  HB_TRY_VOID(PutAttached(target, staged.attached, documents, report));
  HB_TRY_VOID(target.Commit());
  return report;
}

Result<TransferReport> CopyImage(const ImageRef& from, const ImageRef& to,
                                 const TransferOptions& options) {
  auto run = [&]() -> Result<TransferReport> {
    HB_TRY(auto ends,
           registry::OpenSourceAndTarget(from, to, options.source_registry, options.dest_registry));
    return CopyImage(*ends.source, *ends.target, options);
  };
  return WithContext(run(), "copy " + from.ToString() + " to " + to.ToString());
}

Result<void> StoreArtifacts(oci::ImageTarget& target, const std::vector<oci::BlobSource>& blobs,
                            const std::vector<Descriptor>& entries) {
  std::vector<oci::BlobContent> contents;
  std::map<std::string, oci::Blob> documents;
  for (const auto& b : blobs) {
    if (!IsDocument(b.descriptor)) {
      contents.push_back(oci::ContentOf(b));
      continue;
    }
    std::string bytes = b.bytes;
    if (!b.path.empty()) {
      HB_TRY(std::string read, ReadFile(b.path));
      bytes = std::move(read);
    }
    documents[b.descriptor.digest] = oci::Blob{b.descriptor, std::move(bytes)};
  }
  TransferReport report;
  HB_TRY_VOID(SendBlobs(target, contents, nullptr, kArtifactParallel, report));
  std::map<std::string, const oci::Blob*> by_digest;
  std::vector<Attached> attached;
  for (const auto& entry : entries) {
    auto doc = documents.find(entry.digest);
    if (doc == documents.end()) {
      return Fail(ErrorCode::kInternal, "artifact " + entry.digest + " has no manifest blob");
    }
    by_digest[entry.digest] = &doc->second;
    std::string subject;
    if (oci::RefName(entry).empty()) {
      HB_TRY(oci::Manifest m, oci::ParseManifest(doc->second.bytes));
      if (!m.subject) {
        return Fail(ErrorCode::kInternal,
                    "artifact " + entry.digest + " has no tag and no subject");
      }
      subject = m.subject->digest;
    }
    attached.push_back({entry, subject});
  }
  HB_TRY_VOID(PutAttached(target, attached, by_digest, report));
  return target.Commit();
}

}  // namespace hardbase::pipeline
