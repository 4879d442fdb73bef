#include "pipeline/transfer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "oci/image_source.h"
#include "oci/layout_update.h"
#include "oci/manifest.h"
#include "oci/output_target.h"
#include "pipeline/signatures.h"
#include "registry/registry_source.h"

namespace hardbase::pipeline {
namespace {

using oci::Descriptor;
using oci::ImageRef;
using Transport = oci::ImageRef::Transport;

// Existence checks are small requests: a few connections answer them faster than many (each new
// connection costs more than a HEAD on a kept-alive one).
constexpr int kCheckThreads = 2;

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
    return Fail(ErrorCode::kSpec,
                (oci::IsIndexMediaType(d.media_type) ? "index " : "manifest ") + d.digest +
                    ": indexes nested deeper than " + std::to_string(kMaxIndexDepth) + " levels");
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

std::string RefName(const Descriptor& d) {
  auto it = d.annotations.find(std::string(oci::kAnnotationRefName));
  return it == d.annotations.end() ? "" : it->second;
}

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
    for (std::string suffix : {"sig", "att", "sbom"}) {
      std::string tag = CosignTag(subject, suffix);
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

// Runs `work(i)` for i in [0, count) on up to `parallel` threads; the first error wins.
Result<void> ForEachParallel(size_t count, int parallel,
                             const std::function<Result<void>(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Error> first_error;
  auto run = [&] {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error) return;
      }
      size_t i = next++;
      if (i >= count) return;
      if (auto done = work(i); !done) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error) first_error = std::move(done.error());
        return;
      }
    }
  };
  size_t threads = std::min<size_t>(count, static_cast<size_t>(std::max(1, parallel)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  if (first_error) return Fail(std::move(*first_error));
  return {};
}

// Reads a local file from `offset`, for uploads.
registry::ByteOpener FileOpener(std::string path) {
  return [path](uint64_t offset) -> Result<registry::ByteReader> {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return Fail(ErrorCode::kIo, "open " + path + ": " + std::strerror(errno));
    auto fd = std::shared_ptr<int>(new int(raw), [](int* p) {
      ::close(*p);
      delete p;
    });
    if (::lseek(raw, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Fail(ErrorCode::kIo, "seek " + path + ": " + std::strerror(errno));
    }
    return registry::ByteReader([fd, path](char* buf, size_t n) -> Result<size_t> {
      for (;;) {
        ssize_t got = ::read(*fd, buf, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return Fail(ErrorCode::kIo, "read " + path + ": " + std::strerror(errno));
        return static_cast<size_t>(got);
      }
    });
  };
}

registry::ByteOpener BytesOpener(std::shared_ptr<const std::string> bytes) {
  return [bytes](uint64_t offset) -> Result<registry::ByteReader> {
    auto pos = std::make_shared<size_t>(static_cast<size_t>(std::min<uint64_t>(offset, bytes->size())));
    return registry::ByteReader([bytes, pos](char* buf, size_t n) -> Result<size_t> {
      size_t take = std::min(n, bytes->size() - *pos);
      std::memcpy(buf, bytes->data() + *pos, take);
      *pos += take;
      return take;
    });
  };
}

// Reads the blob through the source (checked against its descriptor) from `offset`. Chunks of
// an upload ask for consecutive offsets: one reader serves them all; an earlier offset (a
// retried chunk) opens the blob again and skips to it.
registry::ByteOpener SourceOpener(oci::ImageSource& source, Descriptor blob) {
  struct Open {
    std::unique_ptr<oci::BlobReader> reader;
    uint64_t position = 0;
  };
  auto open = std::make_shared<Open>();
  return [&source, blob, open](uint64_t offset) -> Result<registry::ByteReader> {
    if (!open->reader || offset < open->position) {
      HB_TRY(open->reader, source.OpenBlob(blob));
      open->position = 0;
    }
    std::vector<char> skip(64 * 1024);
    while (open->position < offset) {
      HB_TRY(size_t got, open->reader->Read(skip.data(),
                                            std::min<uint64_t>(offset - open->position,
                                                               skip.size())));
      if (got == 0) break;
      open->position += got;
    }
    return registry::ByteReader([open](char* buf, size_t n) -> Result<size_t> {
      HB_TRY(size_t got, open->reader->Read(buf, n));
      open->position += got;
      return got;
    });
  };
}

// Stores a referrer's descriptor in the fallback tag index of `subject` when the registry does
// not index referrers itself.
Result<bool> RecordReferrers(registry::Registry& reg, const std::string& repo,
                             const std::string& subject, const std::vector<Descriptor>& referrers) {
  HB_TRY(auto from_api, reg.Referrers(repo, subject));
  if (from_api) return false;
  std::string tag = "sha256-" + std::string(oci::DigestHex(subject));
  std::vector<Descriptor> manifests;
  auto existing = reg.GetManifest(repo, tag);
  if (existing) {
    HB_TRY(oci::Index index, WithContext(oci::ParseIndex(existing->bytes),
                                         "referrers tag " + tag + " of " + reg.host() + "/" + repo));
    manifests = std::move(index.manifests);
  } else if (existing.error().code != ErrorCode::kNotFound) {
    return Fail(existing.error());
  }
  bool changed = false;
  for (const auto& r : referrers) {
    bool present = std::any_of(manifests.begin(), manifests.end(),
                               [&](const Descriptor& m) { return m.digest == r.digest; });
    if (present) continue;
    manifests.push_back(r);
    changed = true;
  }
  if (!changed) return false;
  HB_TRY_VOID(reg.PutManifest(repo, tag, std::string(oci::kMediaTypeIndex),
                              oci::IndexJson(manifests)));
  return true;
}

// Pushes blobs and documents to a registry repository. Blobs go first (in parallel), then the
// documents in order, so that a registry never holds a manifest whose blobs are missing.
class RegistryWriter {
 public:
  RegistryWriter(std::shared_ptr<registry::Registry> reg, std::string repo, int parallel)
      : reg_(std::move(reg)), repo_(std::move(repo)), parallel_(parallel) {}

  struct BlobToSend {
    Descriptor descriptor;
    registry::ByteOpener open;
    std::string mount_from;  // a repository of the same registry that has it, or ""
  };

  Result<void> SendBlobs(const std::vector<BlobToSend>& blobs, TransferReport& report) {
    std::vector<char> needed(blobs.size(), 0);
    std::atomic<int> present{0}, mounted{0};
    HB_TRY_VOID(ForEachParallel(blobs.size(), kCheckThreads, [&](size_t i) -> Result<void> {
      const BlobToSend& b = blobs[i];
      HB_TRY(bool has, reg_->HasBlob(repo_, b.descriptor.digest));
      if (has) {
        ++present;
        return {};
      }
      if (!b.mount_from.empty() && b.mount_from != repo_) {
        HB_TRY(bool linked, reg_->MountBlob(repo_, b.descriptor.digest, b.mount_from));
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
    Progress progress("push " + reg_->host() + "/" + repo_, total, Progress::Unit::kBytes);
    HB_TRY_VOID(ForEachParallel(todo.size(), parallel_, [&](size_t k) -> Result<void> {
      const BlobToSend& b = blobs[todo[k]];
      return reg_->PutBlob(repo_, b.descriptor, b.open, &progress);
    }));
    progress.Finish();
    report.bytes_sent += total;
    return {};
  }

  // Stores a document under `reference` unless it is already there (`present`: known to be
  // stored by digest).
  Result<bool> SendDocument(const oci::Blob& doc, const std::string& reference,
                            const std::set<std::string>& present = {}) {
    if (reference == doc.descriptor.digest && present.count(reference)) return false;
    HB_TRY(auto existing, reg_->HeadManifest(repo_, reference));
    if (existing && existing->digest == doc.descriptor.digest) return false;
    HB_TRY_VOID(reg_->PutManifest(repo_, reference, doc.descriptor.media_type, doc.bytes));
    return true;
  }

  registry::Registry& registry() { return *reg_; }
  const std::string& repo() const { return repo_; }

 private:
  std::shared_ptr<registry::Registry> reg_;
  std::string repo_;
  int parallel_;
};

// Artifacts at their tags, and referrers by digest plus the fallback index.
Result<void> SendAttached(RegistryWriter& writer, const std::vector<Attached>& attached,
                          const std::map<std::string, const oci::Blob*>& documents,
                          const std::set<std::string>& present, TransferReport& report) {
  std::map<std::string, std::vector<Descriptor>> by_subject;
  for (const auto& a : attached) {
    auto doc = documents.find(a.entry.digest);
    if (doc == documents.end()) {
      return Fail(ErrorCode::kInternal, "artifact " + a.entry.digest + " was not staged");
    }
    std::string tag = RefName(a.entry);
    HB_TRY(bool sent,
           writer.SendDocument(*doc->second, tag.empty() ? a.entry.digest : tag, present));
    if (sent) ++report.manifests;
    ++report.artifacts;
    if (!a.subject.empty()) by_subject[a.subject].push_back(a.entry);
  }
  for (const auto& [subject, referrers] : by_subject) {
    HB_TRY(bool changed, RecordReferrers(writer.registry(), writer.repo(), subject, referrers));
    if (changed) ++report.manifests;
  }
  return {};
}

Result<TransferReport> CopyToRegistry(oci::ImageSource& source, const Staged& staged,
                                      const ImageRef& from, const ImageRef& to,
                                      std::shared_ptr<registry::Registry> reg,
                                      const std::string& reference, int parallel) {
  TransferReport report;
  RegistryWriter writer(std::move(reg), to.repository, parallel);
  bool same_registry = from.transport == Transport::kRegistry && from.registry == to.registry;
  // Manifests the destination already holds have their blobs there too (a registry accepts a
  // manifest only when they are): a repeated push checks a few manifests, not every layer.
  std::vector<std::string> manifests;
  for (const auto& [digest, own] : staged.graph.blobs_of) manifests.push_back(digest);
  std::vector<char> held(manifests.size(), 0);
  HB_TRY_VOID(ForEachParallel(manifests.size(), kCheckThreads, [&](size_t i) -> Result<void> {
    HB_TRY(auto found, writer.registry().HeadManifest(to.repository, manifests[i]));
    held[i] = found.has_value();
    return {};
  }));
  std::set<std::string> present, wanted;
  for (size_t i = 0; i < manifests.size(); ++i) {
    if (held[i]) {
      present.insert(manifests[i]);
    } else {
      const auto& own = staged.graph.blobs_of.at(manifests[i]);
      wanted.insert(own.begin(), own.end());
    }
  }
  std::vector<RegistryWriter::BlobToSend> blobs;
  for (const auto& d : staged.graph.blobs) {
    if (!wanted.count(d.digest)) {
      ++report.blobs;
      ++report.blobs_present;
      continue;
    }
    RegistryWriter::BlobToSend b{d, {}, same_registry ? from.repository : ""};
    if (auto file = source.BlobFile(d)) {
      b.open = FileOpener(*file);
    } else {
      b.open = SourceOpener(source, d);
    }
    blobs.push_back(std::move(b));
  }
  HB_TRY_VOID(writer.SendBlobs(blobs, report));
  std::map<std::string, const oci::Blob*> documents;
  for (const auto& doc : staged.graph.documents) documents[doc.descriptor.digest] = &doc;
  std::set<std::string> artifact_digests;
  for (const auto& a : staged.attached) artifact_digests.insert(a.entry.digest);
  // The image's own documents, children first, the root last under its tag.
  for (const auto& doc : staged.graph.documents) {
    if (artifact_digests.count(doc.descriptor.digest)) continue;
    if (doc.descriptor.digest == staged.root.digest) continue;
    HB_TRY(bool sent, writer.SendDocument(doc, doc.descriptor.digest, present));
    if (sent) ++report.manifests;
  }
  HB_TRY(bool sent, writer.SendDocument(*documents.at(staged.root.digest), reference));
  if (sent) ++report.manifests;
  HB_TRY_VOID(SendAttached(writer, staged.attached, documents, present, report));
  report.root = staged.root;
  report.destination = to.ToString();
  return report;
}

// The blobs of a staged image as sources for a local writer: layout files as they are, other
// blobs streamed (and checked) into `tmp`.
Result<std::vector<oci::BlobSource>> LocalBlobs(oci::ImageSource& source, const Staged& staged,
                                                const std::string& tmp) {
  std::vector<oci::BlobSource> out;
  for (const auto& doc : staged.graph.documents) {
    out.push_back({doc.descriptor, doc.bytes, ""});
  }
  for (const auto& d : staged.graph.blobs) {
    if (auto file = source.BlobFile(d)) {
      out.push_back({d, "", *file});
      continue;
    }
    HB_TRY(auto reader, source.OpenBlob(d));
    std::string path = tmp + "/" + std::string(oci::DigestHex(d.digest));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Fail(ErrorCode::kIo, "create " + path + ": " + std::strerror(errno));
    std::vector<char> buf(256 * 1024);
    Result<void> copied;
    for (;;) {
      auto got = reader->Read(buf.data(), buf.size());
      if (!got) {
        copied = Fail(got.error());
        break;
      }
      if (*got == 0) break;
      if (::write(fd, buf.data(), *got) != static_cast<ssize_t>(*got)) {
        copied = Fail(ErrorCode::kIo, "write " + path + ": " + std::strerror(errno));
        break;
      }
    }
    ::close(fd);
    if (!copied) return Fail(copied.error());
    out.push_back({d, "", path});
  }
  return out;
}

Result<std::shared_ptr<registry::Registry>> OpenRegistry(const ImageRef& ref,
                                                         const registry::RegistryOptions& options) {
  HB_TRY(auto reg, registry::Registry::Open(ref.registry, options));
  return std::shared_ptr<registry::Registry>(std::move(reg));
}

}  // namespace

Result<TransferReport> CopyImage(const ImageRef& from, const ImageRef& to,
                                 const TransferOptions& options) {
  const std::string context = "copy " + from.ToString() + " to " + to.ToString();
  auto run = [&]() -> Result<TransferReport> {
    std::shared_ptr<registry::Registry> source_registry, dest_registry;
    if (from.transport == Transport::kRegistry) {
      HB_TRY(source_registry, OpenRegistry(from, options.source_registry));
    }
    if (to.transport == Transport::kRegistry) {
      if (source_registry && from.registry == to.registry &&
          options.source_registry.credentials == options.dest_registry.credentials) {
        dest_registry = source_registry;  // one set of tokens, and blobs mount across repos
      } else {
        HB_TRY(dest_registry, OpenRegistry(to, options.dest_registry));
      }
    }
    std::unique_ptr<oci::ImageSource> source;
    if (source_registry) {
      HB_TRY(source, registry::OpenRegistryImage(from, source_registry));
    } else {
      HB_TRY(source, oci::OpenImage(from));
    }
    HB_TRY(Descriptor root, source->Root());
    if (!to.digest.empty() && to.digest != root.digest) {
      return Fail(ErrorCode::kUsage, "the destination names digest " + to.digest +
                                         " but the image is " + root.digest);
    }
    HB_TRY(Staged staged, Stage(*source, root, options.artifacts));
    std::string tag = !to.tag.empty() ? to.tag : from.tag;

    if (dest_registry) {
      std::string reference = !tag.empty() ? tag : !to.digest.empty() ? to.digest : "latest";
      return CopyToRegistry(*source, staged, from, to, dest_registry, reference, options.parallel);
    }

    oci::OutputFormat format = to.transport == Transport::kOciLayout    ? oci::OutputFormat::kOciLayout
                               : to.transport == Transport::kOciArchive ? oci::OutputFormat::kOciArchive
                                                                        : oci::OutputFormat::kDockerArchive;
    bool add_to_layout = to.transport == Transport::kOciLayout && PathExists(to.path + "/oci-layout");
    // Before the blobs are copied: what is at the destination may not be hardbase's to replace.
    if (!add_to_layout) HB_TRY_VOID(oci::CheckOutputTarget(format, to.path));
    HB_TRY(TempDir tmp, TempDir::Create("hardbase-copy-"));
    HB_TRY(auto blobs, LocalBlobs(*source, staged, tmp.path()));
    std::vector<Descriptor> artifacts;
    for (const auto& a : staged.attached) artifacts.push_back(a.entry);
    TransferReport report;
    report.root = staged.root;
    report.destination = to.ToString();
    report.blobs = static_cast<int>(staged.graph.blobs.size());
    report.manifests = static_cast<int>(staged.graph.documents.size());
    report.artifacts = static_cast<int>(artifacts.size());
    if (add_to_layout) {
      Descriptor entry = staged.root;
      if (!tag.empty()) entry.annotations[std::string(oci::kAnnotationRefName)] = tag;
      std::vector<Descriptor> entries = {entry};
      entries.insert(entries.end(), artifacts.begin(), artifacts.end());
      HB_TRY_VOID(oci::AddToLayout(to.path, blobs, entries));
      return report;
    }
    oci::ImageOutput output{std::move(blobs), staged.root, tag, std::move(artifacts)};
    HB_TRY_VOID(oci::WriteImage(output, format, to.path));
    return report;
  };
  return WithContext(run(), context);
}

Result<void> StoreArtifacts(const ImageRef& image, const std::vector<oci::BlobSource>& blobs,
                            const std::vector<Descriptor>& entries,
                            const registry::RegistryOptions& options, const FileLock* held) {
  if (image.transport == Transport::kOciLayout) {
    return oci::AddToLayout(image.path, blobs, entries, held);
  }
  if (image.transport != Transport::kRegistry) {
    return Fail(ErrorCode::kUsage,
                image.ToString() + ": signatures and attestations are stored in an OCI layout "
                                   "directory (oci:DIR) or a registry; this image is read-only here");
  }
  HB_TRY(auto reg, OpenRegistry(image, options));
  RegistryWriter writer(reg, image.repository, 4);
  std::vector<RegistryWriter::BlobToSend> to_send;
  std::map<std::string, oci::Blob> documents;
  for (const auto& b : blobs) {
    if (IsDocument(b.descriptor)) {
      std::string bytes = b.bytes;
      if (!b.path.empty()) {
        HB_TRY(std::string read, ReadFile(b.path));
        bytes = std::move(read);
      }
      documents[b.descriptor.digest] = oci::Blob{b.descriptor, std::move(bytes)};
      continue;
    }
    registry::ByteOpener open = b.path.empty()
                                    ? BytesOpener(std::make_shared<const std::string>(b.bytes))
                                    : FileOpener(b.path);
    to_send.push_back({b.descriptor, std::move(open), ""});
  }
  TransferReport report;
  HB_TRY_VOID(writer.SendBlobs(to_send, report));
  std::map<std::string, const oci::Blob*> by_digest;
  std::vector<Attached> attached;
  for (const auto& entry : entries) {
    auto doc = documents.find(entry.digest);
    if (doc == documents.end()) {
      return Fail(ErrorCode::kInternal, "artifact " + entry.digest + " has no manifest blob");
    }
    by_digest[entry.digest] = &doc->second;
    std::string subject;
    if (RefName(entry).empty()) {
      HB_TRY(oci::Manifest m, oci::ParseManifest(doc->second.bytes));
      if (!m.subject) {
        return Fail(ErrorCode::kInternal, "artifact " + entry.digest + " has no tag and no subject");
      }
      subject = m.subject->digest;
    }
    attached.push_back({entry, subject});
  }
  return SendAttached(writer, attached, by_digest, {}, report);
}

}  // namespace hardbase::pipeline
