// The spec's `files:` as the image gets them, read from the user's disk without letting a spec
// reach what it should not: sources stay in the spec's directory tree (unless allowed), symlinks
// are copied as links and never followed out of it, and only regular files are read, so a FIFO or
// device in the tree cannot hang or flood a build.
#pragma once

#include <vector>

#include "base/error.h"
#include "image/image_files.h"
#include "spec/image_spec.h"

namespace hardbase::image {

// The spec's `files:` read from disk, directories recursively, at their image paths. A source
// must lie in the spec's directory tree, also after resolving the symlinks on its way, unless
// `allow_outside`; symlinks inside it are copied as symlinks. kSpec errors name the spec line.
Result<std::vector<LocalFile>> LoadLocalFiles(const spec::ImageSpec& spec, bool allow_outside);

}  // namespace hardbase::image
