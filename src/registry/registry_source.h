// Images in a registry, read through the same ImageSource interface as layouts and archives, so
// that `sbom`, `verify`, `scan` and `copy` work on `docker://HOST/REPO:TAG` as on `oci:DIR`.
#pragma once

#include <memory>

#include "base/error.h"
#include "oci/image_source.h"
#include "registry/client.h"

namespace hardbase::registry {

// Opens `ref` (a kRegistry reference) on `registry` (shared: a copy between two repositories of
// one registry speaks to it with one set of tokens). Nothing is fetched until asked. Manifests
// are kept in memory once fetched; other blobs are downloaded into a private temporary directory
// when opened, checked against their descriptors as they are read.
Result<std::unique_ptr<oci::ImageSource>> OpenRegistryImage(const oci::ImageRef& ref,
                                                            std::shared_ptr<Registry> registry);

// Any image reference: registries through OpenRegistryImage (with a Registry made from
// `options`), the rest through oci::OpenImage.
Result<std::unique_ptr<oci::ImageSource>> OpenAnyImage(const oci::ImageRef& ref,
                                                       const RegistryOptions& options);

// The referrers of `digest` in `repository`: from the referrers API, else from the image index
// at the fallback tag "sha256-<hex>" (OCI 1.1), else none.
Result<std::vector<oci::Descriptor>> ListReferrers(Registry& registry, std::string_view repository,
                                                   std::string_view digest);

}  // namespace hardbase::registry
