#include "oci/memory_image.h"

#include "base/sha256.h"
#include "oci/manifest.h"

namespace hardbase::oci {
namespace {

bool IsDocument(const Descriptor& d) {
  return IsManifestMediaType(d.media_type) || IsIndexMediaType(d.media_type);
}

Descriptor Plain(const Descriptor& d) { return {d.media_type, d.digest, d.size, {}, "", {}}; }

// kIntegrity unless `bytes` are what `d` describes.
Result<void> Check(const Descriptor& d, std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) != d.size) {
    return Fail(ErrorCode::kIntegrity, "blob " + d.digest + ": size " +
                                           std::to_string(bytes.size()) + ", expected " +
                                           std::to_string(d.size));
  }
  if ("sha256:" + Sha256Hex(bytes) != d.digest) {
    return Fail(ErrorCode::kIntegrity, "blob " + d.digest + ": sha256 mismatch");
  }
  return {};
}

class MemorySource final : public ImageSource {
 public:
  MemorySource(std::shared_ptr<const MemoryStore> store, ImageRef ref)
      : ImageSource(std::move(ref)), store_(std::move(store)) {}

  Result<Descriptor> Resolve(std::string_view tag_or_digest) override {
    if (!tag_or_digest.starts_with("sha256:")) return ResolveTag(tag_or_digest);
    auto blob = store_->Get(tag_or_digest);
    if (!blob) {
      return Fail(ErrorCode::kNotFound,
                  ref().ToString() + ": no image or blob " + std::string(tag_or_digest));
    }
    if (!IsDocument(blob->descriptor)) {
      return Fail(ErrorCode::kUsage,
                  ref().ToString() + ": " + std::string(tag_or_digest) + " is not an image");
    }
    return Plain(blob->descriptor);
  }

  Result<std::vector<Descriptor>> Entries() override {
    std::vector<Descriptor> out;
    for (auto [tag, d] : store_->Tags()) {
      d.annotations[std::string(kAnnotationRefName)] = tag;
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<std::unique_ptr<BlobReader>> OpenBlob(const Descriptor& blob) override {
    auto found = store_->Get(blob.digest);
    if (!found) {
      return Fail(ErrorCode::kNotFound,
                  "blob " + blob.digest + ": missing (not in " + ref().ToString() + ")");
    }
    return BlobReader::Bytes(std::move(found->bytes), blob.digest, blob);
  }

  Result<std::vector<Descriptor>> Referrers(std::string_view subject_digest) override {
    return store_->Referrers(subject_digest);
  }

 private:
  std::shared_ptr<const MemoryStore> store_;
};

class MemoryTarget final : public ImageTarget {
 public:
  MemoryTarget(std::shared_ptr<MemoryStore> store, ImageRef ref)
      : ImageTarget(std::move(ref)),
        store_(std::move(store)),
        pending_(std::make_unique<MemoryStore>()) {}

  Result<bool> HasBlob(const Descriptor& blob) override { return Holds(blob.digest); }
  Result<bool> HasManifest(const Descriptor& manifest) override { return Holds(manifest.digest); }

  Result<void> PutBlob(const BlobContent& blob, Progress* progress) override {
    const Descriptor& d = blob.descriptor;
    HB_TRY(ByteReader reader, blob.open(0));
    std::string bytes;
    char buf[64 * 1024];
    for (;;) {
      HB_TRY(size_t got, reader(buf, sizeof buf));
      if (got == 0) break;
      bytes.append(buf, got);
      if (static_cast<int64_t>(bytes.size()) > d.size) break;  // Check says so
    }
    HB_TRY_VOID(Check(d, bytes));
    if (progress) progress->Advance(bytes.size());
    pending_->AddUnchecked(Plain(d), std::move(bytes));
    return {};
  }

  Result<bool> PutManifest(const Blob& manifest, std::string_view tag) override {
    const Descriptor& d = manifest.descriptor;
    HB_TRY_VOID(Check(d, manifest.bytes));
    bool stored = !Holds(d.digest);
    pending_->AddUnchecked(Plain(d), manifest.bytes);
    if (!tag.empty()) {
      std::string name(tag);
      auto now = pending_->Tag(name);
      if (!now) now = store_->Tag(name);
      if (!now || now->digest != d.digest) {
        pending_->SetTag(name, Plain(d));
        stored = true;
      }
    }
    return stored;
  }

  Result<bool> PutImage(const Blob& root, std::string_view tag) override {
    std::string name = !tag.empty() ? std::string(tag) : ref().digest.empty() ? "latest" : "";
    return PutManifest(root, name);
  }

  Result<int> PutReferrers(std::string_view, const std::vector<Referrer>& referrers) override {
    int stored = 0;
    for (const auto& r : referrers) {
      HB_TRY(bool put, PutManifest(r.manifest, ""));
      stored += put ? 1 : 0;
    }
    return stored;
  }

  Result<void> Commit() override {
    store_->Merge(*pending_);
    pending_ = std::make_unique<MemoryStore>();
    return {};
  }

 private:
  bool Holds(std::string_view digest) const { return store_->Has(digest) || pending_->Has(digest); }

  std::shared_ptr<MemoryStore> store_;
  std::unique_ptr<MemoryStore> pending_;  // what Commit adds to store_
};

}  // namespace

Descriptor MemoryStore::Add(std::string media_type, std::string bytes) {
  Blob blob = MakeBlob(std::move(media_type), std::move(bytes));
  Descriptor d = blob.descriptor;
  std::lock_guard<std::mutex> lock(mu_);
  blobs_[d.digest] = std::move(blob);
  return d;
}

void MemoryStore::AddUnchecked(const Descriptor& descriptor, std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  blobs_[descriptor.digest] = Blob{descriptor, std::move(bytes)};
}

void MemoryStore::SetTag(const std::string& tag, const Descriptor& manifest) {
  std::lock_guard<std::mutex> lock(mu_);
  tags_[tag] = manifest;
}

void MemoryStore::Merge(const MemoryStore& other) {
  if (&other == this) return;
  std::scoped_lock lock(mu_, other.mu_);
  for (const auto& [digest, blob] : other.blobs_) blobs_[digest] = blob;
  for (const auto& [tag, d] : other.tags_) tags_[tag] = d;
}

bool MemoryStore::Has(std::string_view digest) const {
  std::lock_guard<std::mutex> lock(mu_);
  return blobs_.find(digest) != blobs_.end();
}

std::optional<Blob> MemoryStore::Get(std::string_view digest) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(digest);
  if (it == blobs_.end()) return std::nullopt;
  return it->second;
}

std::optional<Descriptor> MemoryStore::Tag(std::string_view tag) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tags_.find(tag);
  if (it == tags_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, Descriptor> MemoryStore::Tags() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {tags_.begin(), tags_.end()};
}

std::vector<std::string> MemoryStore::Digests() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [digest, blob] : blobs_) out.push_back(digest);
  return out;
}

std::vector<Descriptor> MemoryStore::Referrers(std::string_view subject) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Descriptor> out;
  for (const auto& [digest, blob] : blobs_) {
    if (!IsManifestMediaType(blob.descriptor.media_type)) continue;
    auto manifest = ParseManifest(blob.bytes);
    if (!manifest || !manifest->subject || manifest->subject->digest != subject) continue;
    Descriptor d = Plain(blob.descriptor);
    d.artifact_type =
        manifest->artifact_type.empty() ? manifest->config.media_type : manifest->artifact_type;
    d.annotations = manifest->annotations;
    out.push_back(std::move(d));
  }
  return out;
}

std::unique_ptr<ImageSource> OpenMemorySource(std::shared_ptr<const MemoryStore> store,
                                              ImageRef ref) {
  return std::make_unique<MemorySource>(std::move(store), std::move(ref));
}

std::unique_ptr<ImageTarget> OpenMemoryTarget(std::shared_ptr<MemoryStore> store, ImageRef ref) {
  return std::make_unique<MemoryTarget>(std::move(store), std::move(ref));
}

}  // namespace hardbase::oci
