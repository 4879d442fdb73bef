// Adding artifacts (signatures, attestations, SBOMs) to an existing OCI image layout, beside the
// image they are about, without touching it.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "oci/image.h"

namespace hardbase::oci {

// Adds blobs and index.json entries to the OCI layout `dir` (kNotFound / kSpec when it is not
// one): missing blobs are written atomically and checked against their descriptors (present ones
// are kept); then index.json is rewritten atomically with `entries` appended. An entry whose
// ref.name equals an existing entry's replaces it in place (re-signing replaces the .sig tag); an
// entry equal to an existing one is not added twice; other entries keep their order. Concurrent
// calls on one layout (threads or processes) are serialised by an flock on "<dir>/index.json.lock"
// so that none loses another's entries. A caller that read the layout to decide what to add (the
// signatures already at a cosign tag) holds LockLayout across reading and adding, and passes it.
Result<void> AddToLayout(const std::string& dir, const std::vector<BlobSource>& blobs,
                         const std::vector<Descriptor>& entries, const FileLock* held = nullptr);

// The lock AddToLayout takes on `dir`.
Result<FileLock> LockLayout(const std::string& dir);

}  // namespace hardbase::oci
