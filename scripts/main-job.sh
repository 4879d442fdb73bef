#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build, and lock the Java
# example against the host's apt repositories (verified InRelease -> Packages -> closure).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/src/cli/hardbase lock examples/java17/image.yaml
build/src/cli/hardbase lock --check --quiet examples/java17/image.yaml
echo "lock written to examples/java17/image.lock.json"
