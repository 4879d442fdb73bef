#!/usr/bin/env bash
# Every test on a fresh Debian 12 machine: install, build, run the unit and end-to-end tests, then
# build again with clang under AddressSanitizer + UndefinedBehaviorSanitizer, run them all again
# there, and run each libFuzzer target of that build briefly on its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

echo "== build and test (RelWithDebInfo)"
BUILD_DIR=build scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600

echo "== build with clang: ASan + UBSan, and the libFuzzer targets"
# One build serves both: the tests run under the sanitizers, and the fuzz targets link the same
# instrumented libraries.
BUILD_DIR=build-asan CC=clang CXX=clang++ scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
  -DHARDBASE_SANITIZE=ON -DHARDBASE_FUZZ=ON

echo "== test with ASan + UBSan"
# The dpkg and apt oracles are the same under the sanitizers; skip their long runs there, and
# the image builds of the big runtimes and of multi-arch images (the sanitizers see the same code
# on the small examples), and the registry test that mostly waits out retry backoffs.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 900 \
  -E 'AgreesWithDpkgAndApt|Oracle|BuildE2ETest\.(Java17|Python3|Nodejs|MultiArch|AKilled|PackagesGive)|RegistryE2ETest\.(PushCarries|BadInput)'

echo "== fuzz targets, 6 s each"
for f in build-asan/fuzz/*_fuzz; do
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "fuzz/corpus/${name%_fuzz}" ] && cp -r "fuzz/corpus/${name%_fuzz}/." "$corpus/"
  "$f" -max_total_time=6 -rss_limit_mb=2048 "$corpus" 2>&1 | tail -n 1
  rm -rf "$corpus"
done
echo "all tests passed"
