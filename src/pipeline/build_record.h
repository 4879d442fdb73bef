// What an image layout records about the build that wrote it, so that `catalog build
// --changed-only` can leave alone an image already built from exactly the inputs it would be
// built from now, and rebuild only those whose lock (or spec, or files) changed.
//
// The record is an annotation on the image's entry in the layout's index.json, never in the
// image's manifests or config: the image's digest stays what the inputs alone make it, and a
// pushed or copied image carries nothing of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "pipeline/build_pipeline.h"

namespace hardbase::pipeline {

// The index.json annotation holding BuildInputsDigest.
inline constexpr std::string_view kAnnotationBuildInputs = "dev.hardbase.build.inputs";

// "sha256:<hex>" over everything a build reads that its output depends on: hardbase's version,
// the spec's bytes, the lock (as written), the spec's `files:` (content, mode, owner), the
// timestamp, compression, format and tag, the signing key's public part and the reference
// signatures name, and for a dev variant the apt sources and keyrings it ships. The same on any
// machine for the same inputs: paths of the spec and lock count only in a signed build, whose
// provenance names them.
Result<std::string> BuildInputsDigest(const BuildOptions& options, const PreparedBuild& prepared);

// The digest of the image at `options.output` when it is an OCI layout (the only output `catalog
// build` writes) whose entry tagged `options.tag` records `inputs` and whose blob is there;
// nullopt otherwise: nothing there, another tag, other inputs, no record (a layout written by an
// older hardbase), or anything that cannot be read, which a rebuild replaces.
std::optional<std::string> BuiltFromInputs(const BuildOptions& options, std::string_view inputs);

}  // namespace hardbase::pipeline
