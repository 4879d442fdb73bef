#include "pipeline/inspect.h"

#include "oci/cosign_layout.h"

namespace hardbase::pipeline {

Result<std::vector<AttachedArtifact>> AttachedArtifacts(oci::ImageSource& source,
                                                        const std::string& digest) {
  std::vector<AttachedArtifact> out;
  HB_TRY(auto tagged, oci::FindCosignArtifacts(source, digest));
  for (const auto& a : tagged) out.push_back({a.tag, "", a.descriptor.digest});
  HB_TRY(auto referrers, source.Referrers(digest));
  for (const auto& r : referrers) out.push_back({"", r.artifact_type, r.digest});
  return out;
}

}  // namespace hardbase::pipeline
