#!/usr/bin/env bash
# Every test on a fresh Debian 12 machine: install, build, run the unit and end-to-end tests, then
# build again with clang under AddressSanitizer + UndefinedBehaviorSanitizer, run them all again
# there, and run each libFuzzer target of that build briefly on its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# The Node.js the interop tests need, where install-deps had to fetch one (Debian 12's is too old).
[ -x tests/npm/.runtime/bin/node ] && export PATH="$PWD/tests/npm/.runtime/bin:$PATH"

echo "== one home for every helper, docs/ARCHITECTURE.md beside the folders, the C++ as clang-format writes it"
scripts/check-one-home.sh
scripts/check-architecture.sh
scripts/check-format.sh --all

echo "== build the Release configuration (what a packager builds)"
BUILD_DIR=build scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DHARDBASE_TESTS=ON

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
echo "== the fresh Debian 12 root's log"
cat "$fresh_log"
rm -f "$fresh_log"
if [ "$release_rc" -ne 0 ] || [ "$fresh_rc" -ne 0 ]; then
  echo "failed: Release tests exit $release_rc, fresh Debian 12 root exit $fresh_rc" >&2
  exit 1
fi

echo "== build with clang: ASan + UBSan, and the libFuzzer targets"
# One build serves both: the tests run under the sanitizers, and the fuzz targets link the same
# instrumented libraries.
# Line tables are all the sanitizers' reports need.
BUILD_DIR=build-asan CC=clang CXX=clang++ scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-gline-tables-only" -DHARDBASE_SANITIZE=ON -DHARDBASE_FUZZ=ON \
  -DHARDBASE_TESTS=ON

echo "== test with ASan + UBSan"
# To keep CI within its budget, the sanitizers skip what they would only see again: the long
# comparisons with oracles (dpkg, apt, fnmatch), the image builds of the big runtimes and of
# multi-arch images, the runs of built images in a container (this README's runnable blocks and
# the catalog's images and the migrated applications among them) and the reproducibility rebuilds (the same build code runs in the other build
# tests), the registry tests that mostly wait out retry backoffs or repeat a multi-arch build,
# and the imports of the whole OSV snapshot.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 \
  -E 'AgreesWith|Oracle|BuildE2ETest\.(Java17|Python3|Nodejs|MultiArch|AKilled|PackagesGive|SameLockSameDigest|CcRuns|StaticRuns|DebugVariant)|ProvenanceE2ETest\.SbomOfAnImageMadeByOtherTools|RegistryE2ETest\.(PushCarries|BadInput)|FullSnapshot|ScanE2ETest\.EveryKind|ReadmeE2ETest\.MarkedBlocks|WholeSnapshot|CatalogLanguagesTest|CatalogServices[AB]E2ETest|DevVariantE2ETest|MigrateAppsTest'

echo "== fuzz targets, 3 s each"
for f in build-asan/fuzz/*_fuzz; do
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "fuzz/corpus/${name%_fuzz}" ] && cp -r "fuzz/corpus/${name%_fuzz}/." "$corpus/"
  "$f" -max_total_time=3 -rss_limit_mb=2048 "$corpus" 2>&1 | tail -n 1
  rm -rf "$corpus"
done
echo "all tests passed"
