#!/usr/bin/env bash
# Every test on a fresh Debian 12 machine: install, build, run the unit and end-to-end tests, then
# build again with clang under AddressSanitizer + UndefinedBehaviorSanitizer, run them all again
# there, and run each libFuzzer target of that build briefly on its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's minutes, printed at the end (and on failure): where CI's time goes.
phases=() phase_start=$SECONDS
phase() {
  phases+=("$(printf '%5ss  %s' $((SECONDS - phase_start)) "$1")")
  phase_start=$SECONDS
}
trap 'printf "== time per phase\n"; printf "%s\n" "${phases[@]}"' EXIT
scripts/install-deps.sh --test
# The Node.js the interop tests need, where install-deps had to fetch one (Debian 12's is too old).
[ -x tests/npm/.runtime/bin/node ] && export PATH="$PWD/tests/npm/.runtime/bin:$PATH"

echo "== one home for every helper, docs/ARCHITECTURE.md beside the folders, the C++ as clang-format writes it"
scripts/check-one-home.sh
scripts/check-architecture.sh
scripts/check-format.sh --all
phase "install and checks"

echo "== build the Release configuration (what a packager builds: -O2)"
# Both builds here are unity builds (several sources of a target compiled as one), which take a
# third of the time on two cores (CMakeLists.txt).
BUILD_DIR=build scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DHARDBASE_TESTS=ON
phase "Release build"

echo "== the README's main job on a freshly bootstrapped Debian 12 root, beside the Release tests"
# In a root of its own (mmdebstrap from the host's apt sources, entered with pivot_root), from a
# clean clone of this checkout's HEAD: it installs, builds the RelWithDebInfo configuration and
# runs as a newcomer would; then `cmake --install` and `hardbase --version` from PATH. It mostly
# compiles while the tests mostly wait on downloads, registries and containers, so the two share
# the machine; its log is shown when it ends.
fresh_log=$(mktemp)
tests/fresh_debian/run.sh >"$fresh_log" 2>&1 &
fresh_pid=$!

echo "== test the Release configuration"
release_rc=0
ctest --test-dir build --output-on-failure -j2 --timeout 900 || release_rc=$?
fresh_rc=0
wait "$fresh_pid" || fresh_rc=$?
phase "Release tests (and the fresh Debian 12 root beside them)"
echo "== the fresh Debian 12 root's log"
cat "$fresh_log"
rm -f "$fresh_log"
if [ "$release_rc" -ne 0 ] || [ "$fresh_rc" -ne 0 ]; then
  echo "failed: Release tests exit $release_rc, fresh Debian 12 root exit $fresh_rc" >&2
  exit 1
fi

echo "== build with clang: ASan + UBSan, and the libFuzzer targets"
# One build serves both: the tests run under the sanitizers, and the fuzz targets link the same
# instrumented libraries. Line tables are all the sanitizers' reports need. The end-to-end tests
# are not compiled again: the Release build's run against this build's hardbase below.
BUILD_DIR=build-asan CC=clang CXX=clang++ scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-gline-tables-only" -DHARDBASE_SANITIZE=ON -DHARDBASE_FUZZ=ON \
  -DCMAKE_UNITY_BUILD=ON -DHARDBASE_TESTS=ON -DHARDBASE_E2E_TESTS=OFF
phase "ASan + UBSan build"

echo "== test with ASan + UBSan"
# Every unit test, then the end-to-end tests made of hostile inputs (archives, images, outputs,
# packages, registries, signatures, specs) against the instrumented hardbase: what the sanitizers
# are for. The other end-to-end tests drive the same code with well-formed inputs and ran above.
# Left out, as seen again by the same code under the sanitizers: the long comparisons with
# oracles (dpkg, apt, fnmatch) and the import of the whole OSV snapshot (four minutes here).
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 -E 'AgreesWith|Oracle|FullSnapshot'
HARDBASE_BIN="$PWD/build-asan/src/cli/hardbase" HARDBASE_BIN_SANITIZED=1 \
  build/tests/e2e_test --gtest_filter='Hostile*'
unset ASAN_OPTIONS UBSAN_OPTIONS
phase "ASan + UBSan tests"

echo "== fuzz targets, 3 s each"
for f in build-asan/fuzz/*_fuzz; do
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "fuzz/corpus/${name%_fuzz}" ] && cp -r "fuzz/corpus/${name%_fuzz}/." "$corpus/"
  "$f" -max_total_time=3 -rss_limit_mb=2048 "$corpus" 2>&1 | tail -n 1
  rm -rf "$corpus"
done
phase "fuzz targets"
echo "all tests passed"
