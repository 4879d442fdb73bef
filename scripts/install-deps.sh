#!/usr/bin/env bash
# Installs every Debian package hardbase needs to build, test and benchmark.
# Idempotent; works as root or through sudo on a fresh Debian 12 machine.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

build_deps=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcurl4-openssl-dev libssl-dev libarchive-dev zlib1g-dev libdeflate-dev libzstd-dev liblzma-dev
  librnp-dev libsodium-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libfmt-dev libexpected-dev
)
test_deps=(
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  gpg gpg-agent dpkg-dev apt python3-apt xz-utils bc
  umoci skopeo crun bubblewrap zstd libssl-dev openjdk-17-jre-headless passwd busybox-static openssl
  docker-registry apache2-utils curl debsecan
)
# The main job pushes the image to a local registry.
main_deps=(docker-registry curl python3)
# The benchmarks build the "typical" images they compare against with mmdebstrap, and push to a
# local registry next to skopeo.
bench_deps=(umoci mmdebstrap bc zstd python3 docker-registry skopeo curl debsecan)

want=("${build_deps[@]}")
case "${1:-}" in
  --main) want+=("${main_deps[@]}") ;;
  --test) want+=("${test_deps[@]}") ;;
  --bench) want+=("${bench_deps[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# apt-get update always runs first, so a fresh machine's package lists are current.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The interop tests check hardbase's SBOMs, keys and signatures with independent JavaScript
# verifiers (tests/npm/package.json, versions pinned by its lock). They need Node.js 20.18 or
# newer, which this kind of machine has; Debian's own nodejs package is older.
if [ "${1:-}" = "--test" ]; then
  if ! command -v npm >/dev/null; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  (cd "$(dirname "$0")/../tests/npm" && npm ci --no-audit --no-fund --loglevel=error)
fi
