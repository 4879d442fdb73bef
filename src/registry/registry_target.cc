#include "registry/registry_target.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "oci/manifest.h"
#include "registry/registry_source.h"

namespace hardbase::registry {
namespace {

using oci::Descriptor;

class RegistryTarget final : public oci::ImageTarget {
 public:
  RegistryTarget(oci::ImageRef ref, std::shared_ptr<Registry> registry)
      : ImageTarget(std::move(ref)), registry_(std::move(registry)) {}

  Result<bool> HasBlob(const Descriptor& blob) override {
    return registry_->HasBlob(repo(), blob.digest);
  }

  Result<bool> HasManifest(const Descriptor& manifest) override {
    HB_TRY(auto found, registry_->HeadManifest(repo(), manifest.digest));
    if (found) Remember(manifest.digest);
    return found.has_value();
  }

  Result<bool> MountBlob(const Descriptor& blob, const oci::ImageRef& from) override {
    if (from.transport != oci::ImageRef::Transport::kRegistry || from.registry != ref().registry ||
        from.repository == repo()) {
      return false;
    }
    return registry_->MountBlob(repo(), blob.digest, from.repository);
  }

  Result<void> PutBlob(const oci::BlobContent& blob, Progress* progress) override {
    return registry_->PutBlob(repo(), blob.descriptor, blob.open, progress);
  }

  Result<bool> PutManifest(const oci::Blob& manifest, std::string_view tag) override {
    return Send(manifest, tag.empty() ? manifest.descriptor.digest : std::string(tag));
  }

  Result<bool> PutImage(const oci::Blob& root, std::string_view tag) override {
    std::string reference = !tag.empty()            ? std::string(tag)
                            : !ref().digest.empty() ? ref().digest
                                                    : "latest";
    return Send(root, reference);
  }

  Result<int> PutReferrers(std::string_view subject,
                           const std::vector<oci::Referrer>& referrers) override {
    int stored = 0;
    std::vector<Descriptor> entries;
    for (const auto& r : referrers) {
      HB_TRY(bool sent, Send(r.manifest, r.manifest.descriptor.digest));
      stored += sent ? 1 : 0;
      entries.push_back(r.entry);
    }
    HB_TRY(bool changed, RecordReferrers(subject, entries));
    return stored + (changed ? 1 : 0);
  }

  Result<void> Commit() override { return {}; }

  std::string TransferLabel() const override { return "push " + registry_->host() + "/" + repo(); }

 private:
  const std::string& repo() const { return ref().repository; }

  void Remember(const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.insert(digest);
  }
  bool Held(const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.count(digest) > 0;
  }

  // Stores a document under `reference` (a tag or its digest) unless it is there already.
  Result<bool> Send(const oci::Blob& doc, const std::string& reference) {
    const std::string& digest = doc.descriptor.digest;
    if (reference == digest && Held(digest)) return false;
    HB_TRY(auto existing, registry_->HeadManifest(repo(), reference));
    if (existing && existing->digest == digest) {
      Remember(digest);
      return false;
    }
    HB_TRY_VOID(registry_->PutManifest(repo(), reference, doc.descriptor.media_type, doc.bytes));
    Remember(digest);
    return true;
  }

  // Lists `referrers` of `subject` in the fallback tag index when the registry does not index
  // referrers itself; whether that index changed.
  Result<bool> RecordReferrers(std::string_view subject, const std::vector<Descriptor>& referrers) {
    HB_TRY(auto from_api, registry_->Referrers(repo(), subject));
    if (from_api) return false;
    std::string tag = "sha256-" + std::string(oci::DigestHex(subject));
    std::vector<Descriptor> manifests;
    auto existing = registry_->GetManifest(repo(), tag);
    if (existing) {
      HB_TRY(oci::Index index,
             WithContext(oci::ParseIndex(existing->bytes),
                         "referrers tag " + tag + " of " + registry_->host() + "/" + repo()));
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
    HB_TRY_VOID(registry_->PutManifest(repo(), tag, std::string(oci::kMediaTypeIndex),
                                       oci::IndexJson(manifests)));
    return true;
  }

  std::shared_ptr<Registry> registry_;
  std::mutex mu_;               // guards held_
  std::set<std::string> held_;  // manifests known to be stored by digest
};

Result<std::shared_ptr<Registry>> OpenRegistry(const oci::ImageRef& ref,
                                               const RegistryOptions& options) {
  HB_TRY(auto registry, Registry::Open(ref.registry, options));
  return std::shared_ptr<Registry>(std::move(registry));
}

}  // namespace

Result<std::unique_ptr<oci::ImageTarget>> OpenRegistryTarget(const oci::ImageRef& ref,
                                                             std::shared_ptr<Registry> registry) {
  if (ref.transport != oci::ImageRef::Transport::kRegistry) {
    return Fail(ErrorCode::kInternal, ref.ToString() + " is not a registry reference");
  }
  return std::unique_ptr<oci::ImageTarget>(new RegistryTarget(ref, std::move(registry)));
}

Result<std::unique_ptr<oci::ImageTarget>> OpenAnyTarget(
    const oci::ImageRef& ref, const RegistryOptions& options,
    const oci::ImageTargetOptions& target_options) {
  if (ref.transport != oci::ImageRef::Transport::kRegistry) {
    return oci::OpenImageTarget(ref, target_options);
  }
  HB_TRY(auto registry, OpenRegistry(ref, options));
  return OpenRegistryTarget(ref, std::move(registry));
}

Result<SourceAndTarget> OpenSourceAndTarget(const oci::ImageRef& from, const oci::ImageRef& to,
                                            const RegistryOptions& source_options,
                                            const RegistryOptions& dest_options) {
  using Transport = oci::ImageRef::Transport;
  SourceAndTarget out;
  std::shared_ptr<Registry> source_registry;
  if (from.transport == Transport::kRegistry) {
    HB_TRY(source_registry, OpenRegistry(from, source_options));
    HB_TRY(out.source, OpenRegistryImage(from, source_registry));
  } else {
    HB_TRY(out.source, oci::OpenImage(from));
  }
  if (to.transport != Transport::kRegistry) {
    HB_TRY(out.target, oci::OpenImageTarget(to));
    return out;
  }
  std::shared_ptr<Registry> dest_registry;
  if (source_registry && from.registry == to.registry &&
      source_options.credentials == dest_options.credentials) {
    dest_registry = source_registry;  // one set of tokens, and blobs mount across repositories
  } else {
    HB_TRY(dest_registry, OpenRegistry(to, dest_options));
  }
  HB_TRY(out.target, OpenRegistryTarget(to, std::move(dest_registry)));
  return out;
}

}  // namespace hardbase::registry
