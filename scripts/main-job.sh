#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build hardbase, lock the Java
# example against the host's apt repositories (verified InRelease -> Packages -> closure), and
# build its hardened image into out/java17 (an OCI image layout), printing its digest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/src/cli/hardbase lock examples/java17/image.yaml
build/src/cli/hardbase build examples/java17/image.yaml --locked -o out/java17 --tag java17
echo "image written to out/java17 (skopeo inspect oci:out/java17:java17)"
