// `hardbase inspect`'s reading of an image beyond its documents: what is attached to each of its
// manifests, whichever way it was attached.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/image_source.h"

namespace hardbase::pipeline {

// One artifact attached to a manifest.
struct AttachedArtifact {
  std::string tag;            // its cosign tag ("sha256-<hex>.sig"); "" for a referrer
  std::string artifact_type;  // a referrer's artifactType; "" for a cosign tag
  std::string digest;
};

// What `source` holds attached to `digest`: the artifacts at its cosign tags (.sig, .att, .sbom,
// in that order), then its OCI referrers as the source lists them.
Result<std::vector<AttachedArtifact>> AttachedArtifacts(oci::ImageSource& source,
                                                        const std::string& digest);

}  // namespace hardbase::pipeline
