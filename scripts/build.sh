#!/usr/bin/env bash
# Configures and builds hardbase into build/ (or $BUILD_DIR). Arguments starting with -D go to
# cmake (they override the defaults here: RelWithDebInfo, warnings as errors); the others name the
# ninja targets to build (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake_args=() targets=()
for a in "$@"; do
  case "$a" in -D*) cmake_args+=("$a") ;; *) targets+=("$a") ;; esac
done
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARDBASE_WERROR=ON \
  "${cmake_args[@]}" >/dev/null
ninja -C "$BUILD_DIR" "${targets[@]}"
