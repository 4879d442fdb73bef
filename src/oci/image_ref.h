// Image references on the command line: which image `sbom`, `sign`, `verify` and `scan` work on,
// and where it is (an OCI layout directory, an oci-archive, a docker-archive or a registry).
//
// The syntax is skopeo's transports ("oci:DIR:TAG", "oci-archive:FILE", "docker-archive:FILE",
// "docker://HOST/REPO:TAG"), so one string names an image for hardbase and skopeo alike.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::oci {

struct ImageRef {
  enum class Transport { kOciLayout, kOciArchive, kDockerArchive, kRegistry };
  Transport transport = Transport::kOciLayout;
  std::string path;  // layout directory or archive file
  std::string tag;   // layout tag (org.opencontainers.image.ref.name) / registry tag; may be empty
  std::string digest;                // "sha256:<hex>" when pinned with @
  std::string registry, repository;  // kRegistry only: "127.0.0.1:5000", "library/app"
  std::string ToString() const;      // canonical form, round-trips through ParseImageRef
  bool operator==(const ImageRef&) const = default;
};

// "oci:DIR[:TAG]" / "oci:DIR[:TAG]@sha256:<hex>", "oci-archive:FILE[:TAG][@sha256:<hex>]",
// "docker-archive:FILE", "docker://HOST[:PORT]/REPO[:TAG][@sha256:<hex>]" and the same without
// "docker://". DIR and FILE end at their first ':' (as for skopeo); a layout tag is an OCI ref.name
// ("1.0", "app:1.0", "sha256-<hex>.sig"), a registry tag a Docker tag. A registry reference names
// its host explicitly (a first component with a '.' or ':', or "localhost"): there is no default
// registry. kUsage on anything else.
Result<ImageRef> ParseImageRef(std::string_view text);

// True for "sha256:" and 64 lowercase hex digits.
bool IsSha256Digest(std::string_view digest);

}  // namespace hardbase::oci
