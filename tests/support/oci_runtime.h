// Unpacking and running OCI images with real tools that share no code with hardbase: umoci
// unpacks (skopeo first turns zstd layers into gzip, which umoci 0.4 cannot read), crun runs the
// bundle as the OCI runtime spec says, and bubblewrap runs a rootfs quickly. End-to-end tests use
// them to check an image the way a container engine sees it. Needs root and the Debian packages
// umoci, skopeo, crun, bubblewrap and util-linux (unshare).
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "support/process.h"

namespace hardbase::testing {

// An OCI runtime bundle made from an image.
struct UnpackedImage {
  std::string bundle;     // holds config.json and rootfs/
  std::string rootfs;     // bundle + "/rootfs"
  nlohmann::json config;  // bundle's config.json: umoci's translation of the image config
};

// `umoci unpack --image LAYOUT_DIR:TAG BUNDLE_DIR`; BUNDLE_DIR must not exist yet. An image with
// zstd layers is first copied to a gzip image in a temporary layout by `skopeo copy`.
Result<UnpackedImage> UnpackWithUmoci(const std::string& layout_dir, const std::string& tag,
                                      const std::string& bundle_dir);

// Runs the bundle to completion with `crun run`, as the user in its config.json, with stdin
// closed and output captured. Non-empty `argv` replaces process.args; `env` entries replace or
// extend process.env. The bundle's config.json is left as it is: the adjusted copy (no terminal,
// rlimits lowered to the host's hard limits) lives in a temporary directory with crun's state.
// crun runs in a private mount namespace without the cgroup2 mount of a hybrid cgroup host, which
// it refuses, and without cgroups.
ProcessResult RunWithCrun(const std::string& bundle, const std::vector<std::string>& argv = {},
                          const std::map<std::string, std::string>& env = {});

// Runs argv in `rootfs` with bubblewrap: all namespaces unshared, fresh /proc and /dev, cwd "/",
// exactly the environment `env`. The uid and gid are those of a user namespace mapped to the
// caller, so inside it the caller's files (all of them, as root) look owned by `uid`: use crun to
// test file permissions.
ProcessResult RunWithBwrap(const std::string& rootfs, const std::vector<std::string>& argv,
                           uid_t uid, gid_t gid,
                           const std::map<std::string, std::string>& env = {});

}  // namespace hardbase::testing
