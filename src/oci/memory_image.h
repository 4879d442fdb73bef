// Images held in memory: a store of blobs (manifests and indexes among them) and tags, read
// through ImageSource and written through ImageTarget like any other image. For tests of any
// module that reads or writes images without files or a registry, and for small images staged in
// memory before they go elsewhere.
//
// A store behaves as one registry repository does: tags name manifests, referrers are the stored
// manifests whose subject names a digest (as the referrers API finds them), a target's writes
// appear together at Commit and not at all without it. It is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/image.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "oci/image_target.h"

namespace hardbase::oci {

class MemoryStore {
 public:
  // Stores `bytes` under their digest; their descriptor (media type, digest, size).
  Descriptor Add(std::string media_type, std::string bytes);
  // Stores `bytes` under `descriptor` as they are, whether or not they match it: a store serving
  // corrupt data, for tests of the checks that catch it.
  void AddUnchecked(const Descriptor& descriptor, std::string bytes);
  // Points `tag` at the manifest or index `manifest` (replacing what it named).
  void SetTag(const std::string& tag, const Descriptor& manifest);
  // Adds every blob and tag of `other` (its tags replace same-named ones), in one step.
  void Merge(const MemoryStore& other);

  bool Has(std::string_view digest) const;
  // The blob's descriptor (as it was added) and bytes; nullopt when absent.
  std::optional<Blob> Get(std::string_view digest) const;
  // What `tag` names; nullopt when absent.
  std::optional<Descriptor> Tag(std::string_view tag) const;
  std::map<std::string, Descriptor> Tags() const;
  // Every blob's digest, in order.
  std::vector<std::string> Digests() const;
  // The stored manifests whose subject is `subject`, as the referrers API lists them: their
  // descriptors with artifactType (the config's media type when they have none) and annotations.
  std::vector<Descriptor> Referrers(std::string_view subject) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Blob, std::less<>> blobs_;
  std::map<std::string, Descriptor, std::less<>> tags_;
};

// The images of `store` as a source; `ref` (its tag or digest, as ImageSource::Root reads them)
// says which, and names the store in messages. Entries are the store's tags.
std::unique_ptr<ImageSource> OpenMemorySource(std::shared_ptr<const MemoryStore> store,
                                              ImageRef ref);

// A target writing to `store` at Commit; `ref` names it (its tag and digest, as for a registry:
// PutImage with no tag stores the image under the reference's digest, else "latest"). Blobs and
// manifests are checked against their descriptors when put (kIntegrity naming the digest).
std::unique_ptr<ImageTarget> OpenMemoryTarget(std::shared_ptr<MemoryStore> store, ImageRef ref);

}  // namespace hardbase::oci
