#include "registry/registry_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/manifest.h"

namespace hardbase::registry {
namespace {

// Blobs up to this size are read into memory; larger ones go through a temporary file.
constexpr int64_t kInMemoryBlob = int64_t{4} << 20;

class RegistrySource final : public oci::ImageSource {
 public:
  RegistrySource(oci::ImageRef ref, std::shared_ptr<Registry> registry)
      : ImageSource(std::move(ref)), registry_(std::move(registry)) {}

  Result<oci::Descriptor> Resolve(std::string_view tag_or_digest) override {
    const std::string& repo = ref().repository;
    HB_TRY(auto found, registry_->HeadManifest(repo, tag_or_digest));
    if (!found) {
      return Fail(ErrorCode::kNotFound, registry_->host() + "/" + repo +
                                            (oci::IsSha256Digest(tag_or_digest) ? "@" : ":") +
                                            std::string(tag_or_digest) + ": manifest unknown");
    }
    if (!oci::IsSha256Digest(tag_or_digest)) {
      found->annotations[std::string(oci::kAnnotationRefName)] = std::string(tag_or_digest);
    }
    return *found;
  }

  Result<oci::Descriptor> ResolveTag(std::string_view tag) override { return Resolve(tag); }

  Result<std::vector<oci::Descriptor>> Entries() override {
    std::vector<oci::Descriptor> out;
    std::string tag = ref().tag.empty() ? "latest" : ref().tag;
    auto found = Resolve(tag);
    if (found) {
      out.push_back(*found);
    } else if (found.error().code != ErrorCode::kNotFound) {
      return Fail(found.error());
    }
    return out;
  }

  Result<std::unique_ptr<oci::BlobReader>> OpenBlob(const oci::Descriptor& blob) override {
    const std::string& repo = ref().repository;
    if (oci::IsManifestMediaType(blob.media_type) || oci::IsIndexMediaType(blob.media_type)) {
      HB_TRY(ManifestBytes manifest, registry_->GetManifest(repo, blob.digest));
      return oci::BlobReader::Bytes(std::move(manifest.bytes), blob.digest, blob);
    }
    if (blob.size < 0) {
      return Fail(ErrorCode::kSpec, "blob " + blob.digest + ": negative size in its descriptor");
    }
    if (blob.size <= kInMemoryBlob) {
      std::string bytes;
      HB_TRY_VOID(registry_->GetBlob(repo, blob, [&](std::string_view data) -> Result<void> {
        bytes.append(data);
        return {};
      }));
      return oci::BlobReader::Bytes(std::move(bytes), blob.digest, blob);
    }
    HB_TRY(std::string path, Download(blob));
    return oci::BlobReader::File(path, blob.digest, blob);
  }

  Result<std::vector<oci::Descriptor>> Referrers(std::string_view subject_digest) override {
    return ListReferrers(*registry_, ref().repository, subject_digest);
  }

 private:
  // The blob in this source's temporary directory (downloaded once; downloads of different
  // blobs run in parallel, and two of the same blob just both finish).
  Result<std::string> Download(const oci::Descriptor& blob) {
    std::string part;
    std::string path;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!tmp_) {
        HB_TRY(TempDir dir, TempDir::Create("hardbase-pull-"));
        tmp_ = std::move(dir);
      }
      path = tmp_->path() + "/" + std::string(oci::DigestHex(blob.digest));
      part = path + ".part" + std::to_string(++downloads_);
    }
    if (PathExists(path)) return path;
    int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrorCode::kIo, "create " + part + ": " + std::strerror(errno));
    auto got = registry_->GetBlob(ref().repository, blob,
                                  [&](std::string_view data) { return WriteAll(fd, part, data); });
    ::close(fd);
    if (!got) return Fail(got.error());
    if (::rename(part.c_str(), path.c_str()) != 0) {
      return Fail(ErrorCode::kIo, "rename " + part + ": " + std::strerror(errno));
    }
    return path;
  }

  std::shared_ptr<Registry> registry_;
  std::mutex mu_;  // guards tmp_ and downloads_
  std::optional<TempDir> tmp_;
  int downloads_ = 0;
};

}  // namespace

Result<std::vector<oci::Descriptor>> ListReferrers(Registry& registry, std::string_view repository,
                                                   std::string_view digest) {
  HB_TRY(auto from_api, registry.Referrers(repository, digest));
  if (from_api) return *from_api;
  std::string tag = "sha256-" + std::string(oci::DigestHex(digest));
  auto index = registry.GetManifest(repository, tag);
  if (!index) {
    if (index.error().code == ErrorCode::kNotFound) return std::vector<oci::Descriptor>();
    return Fail(index.error());
  }
  HB_TRY(oci::Index parsed, WithContext(oci::ParseIndex(index->bytes),
                                        "referrers tag " + tag + " of " + registry.host() + "/" +
                                            std::string(repository)));
  if (parsed.manifests.size() > kMaxReferrers) {
    return Fail(ErrorCode::kSpec, "referrers tag " + tag + " of " + registry.host() + "/" +
                                      std::string(repository) + ": more than " +
                                      std::to_string(kMaxReferrers) + " entries");
  }
  return parsed.manifests;
}

Result<std::unique_ptr<oci::ImageSource>> OpenRegistryImage(const oci::ImageRef& ref,
                                                            std::shared_ptr<Registry> registry) {
  if (ref.transport != oci::ImageRef::Transport::kRegistry) {
    return Fail(ErrorCode::kInternal, ref.ToString() + " is not a registry reference");
  }
  return std::unique_ptr<oci::ImageSource>(new RegistrySource(ref, std::move(registry)));
}

Result<std::unique_ptr<oci::ImageSource>> OpenAnyImage(const oci::ImageRef& ref,
                                                       const RegistryOptions& options) {
  if (ref.transport != oci::ImageRef::Transport::kRegistry) return oci::OpenImage(ref);
  HB_TRY(auto registry, Registry::Open(ref.registry, options));
  return OpenRegistryImage(ref, std::shared_ptr<Registry>(std::move(registry)));
}

}  // namespace hardbase::registry
