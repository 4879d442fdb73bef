// `hardbase audit IMAGE`: reading what audit/audit.h judges, from any image reference (layouts,
// archives, registries, a root filesystem directory): the whole file tree and every layer's small
// text files (for secrets, also those a later layer deleted), the config, the packages and their
// vulnerabilities (the database on disk, as `scan` loads it), the signatures, attestations and
// SBOMs stored with the image (verified with a key when one is given), and a Dockerfile.
#pragma once

#include <string>
#include <string_view>

#include "audit/audit.h"
#include "base/error.h"
#include "oci/image_source.h"
#include "pipeline/inventory.h"
#include "sign/keys.h"

namespace hardbase::pipeline {

struct AuditOptions {
  InventoryOptions inventory;  // platform and registry
  // The vulnerability database. When it is absent or has no data for the image's release, the
  // audit says so (nothing matched) unless `db_required` (--db given), which makes it an error.
  std::string db_path;
  bool db_required = false;
  const sign::PublicKey* key = nullptr;  // verify signatures and attestations with it
  std::string dockerfile;                // path of the Dockerfile the image was built from, or ""
};

// The facts of the image `image` names (see audit::ImageFacts).
Result<audit::ImageFacts> ReadAuditFacts(std::string_view image, const AuditOptions& options);

// The signatures, attestations and SBOMs stored in `source` for `subjects` (an image's platform
// manifest, and the index above it): with `key`, each checked (pipeline/signatures.h
// CheckAttached); without, only found.
Result<audit::Provenance> ReadProvenance(oci::ImageSource& source,
                                         const std::vector<oci::Descriptor>& subjects,
                                         const sign::PublicKey* key);

// ReadAuditFacts, then audit::Audit.
Result<audit::Report> AuditImage(std::string_view image, const AuditOptions& options);

}  // namespace hardbase::pipeline
