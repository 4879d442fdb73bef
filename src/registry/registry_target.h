// Images written to a registry through the same ImageTarget interface as layouts and archives, so
// that `push`, `copy`, `sign` and `attest` store into `docker://HOST/REPO:TAG` as into `oci:DIR`.
#pragma once

#include <memory>

#include "base/error.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "oci/image_target.h"
#include "registry/client.h"

namespace hardbase::registry {

// Opens `ref` (a kRegistry reference) on `registry` (shared: a copy between two repositories of
// one registry speaks to it with one set of tokens, and mounts blobs across them). Nothing is sent
// until asked. Blobs are checked for (HEAD), mounted from the source's repository when it is on
// the same registry, else uploaded (chunked and resumable above RegistryOptions::chunk_size);
// manifests are stored only when the registry does not hold them under that reference already.
// Referrers go to the registry's referrers API when it has one, else into the fallback tag
// sha256-<hex>. Each put is stored at once: Commit does nothing.
Result<std::unique_ptr<oci::ImageTarget>> OpenRegistryTarget(const oci::ImageRef& ref,
                                                             std::shared_ptr<Registry> registry);

// Any image reference: registries through OpenRegistryTarget (with a Registry made from
// `options`), the rest through oci::OpenImageTarget with `target_options`.
Result<std::unique_ptr<oci::ImageTarget>> OpenAnyTarget(
    const oci::ImageRef& ref, const RegistryOptions& options,
    const oci::ImageTargetOptions& target_options = {});

// Both ends of a copy from `from` to `to`, the source opened first. Registries are reached with
// `source_options` and `dest_options`; when both ends are repositories of one registry and the
// credentials are the same, they share one Registry (one set of tokens, and blobs mount across
// repositories). Nothing is sent to a registry yet.
struct SourceAndTarget {
  std::unique_ptr<oci::ImageSource> source;
  std::unique_ptr<oci::ImageTarget> target;
};
Result<SourceAndTarget> OpenSourceAndTarget(const oci::ImageRef& from, const oci::ImageRef& to,
                                            const RegistryOptions& source_options,
                                            const RegistryOptions& dest_options);

}  // namespace hardbase::registry
