// `hardbase migrate Dockerfile`: the Dockerfile moved onto the catalog's hardened images
// (dockerfile/migrate.h says how), each pinned by the digest the registry gives for it; when the
// final stage installed Debian packages, a spec of the runtime image plus those packages is
// written, built and pushed, and the final stage pinned to that image.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "dockerfile/migrate.h"
#include "net/http.h"
#include "pipeline/build_pipeline.h"
#include "registry/client.h"

namespace hardbase::pipeline {

struct MigrateOptions {
  std::string dockerfile;  // path
  // Where the catalog's images are: "HOST[:PORT][/PREFIX]"; image NAME is REGISTRY/NAME:TAG.
  std::string registry;
  std::string tag = "latest";
  std::string platform;     // whose config (user, entrypoint) counts; "" = the host's
  std::string catalog_dir;  // the catalog's specs, for a runtime with packages added
  std::string output_dir;   // Dockerfile, MIGRATION.md, migration.json (and image.yaml)
  std::string name;         // the added-packages image's name; "" = "<runtime>-app"
  std::vector<dockerfile::BaseImageOverride> overrides;
  registry::RegistryOptions registry_options;
  BuildOptions build;  // for the added-packages image (spec_path, output, tag are set here)
};

struct MigrateResult {
  dockerfile::Migration migration;
  std::string spec;                  // the added-packages spec's text, "" when none
  std::vector<std::string> written;  // files written, in output_dir
};

// Refusals are in the result (nothing is written then); errors are reading, the registry, the
// build. Files are written atomically.
Result<MigrateResult> MigrateDockerfile(const MigrateOptions& options, net::HttpClient& http,
                                        cache::BlobStore& store);

// The catalog spec `catalog_text` (a catalog entry's image.yaml) named `name`, with `packages`
// added to its package list; kSpec when it has no top-level `packages:` list.
Result<std::string> SpecWithPackages(std::string_view catalog_text, std::string_view name,
                                     const std::vector<std::string>& packages);

}  // namespace hardbase::pipeline
