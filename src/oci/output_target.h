// Whether WriteImage may replace what is at an output path, asked before the work that produces
// the image, so that a build refused at the end does not first spend minutes building.
#pragma once

#include <string>

#include "base/error.h"
#include "oci/image.h"

namespace hardbase::oci {

// What WriteImage checks before it replaces `path` (kUsage naming the path otherwise): for a
// layout, nothing there, an empty directory, or a directory holding an OCI image layout and
// nothing else (oci-layout, index.json, its lock, blobs/sha256/<hex>) -- one more file and it is
// not an image hardbase wrote, so deleting it is not hardbase's to do; for an archive, nothing
// there or a regular file (never a directory, a symlink, a device or a FIFO).
Result<void> CheckOutputTarget(OutputFormat format, const std::string& path);

}  // namespace hardbase::oci
