#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build hardbase (the binary
# alone, no tests), lock the Java example against the host's apt repositories (verified InRelease
# -> Packages -> closure) into out/java17.lock.json (the checkout stays clean), build its hardened
# image into out/java17 (an OCI image layout) signed with a cosign-compatible key
# (made in out/ on first use; password from COSIGN_PASSWORD, empty when unset), verify it, write
# its SBOMs next to it, scan it for vulnerabilities, then push it with its signatures and SBOMs to a local registry (Debian's
# docker-registry on a loopback port, stopped at the end), pin it by digest and verify it there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --main
# What a packager builds (-O2, no debug information), as a unity build: the quickest to compile.
scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DHARDBASE_TESTS=OFF
hb=build/src/cli/hardbase
export COSIGN_PASSWORD="${COSIGN_PASSWORD-}"
mkdir -p out
[ -f out/signing.key ] || $hb keygen --output-key-prefix out/signing
$hb lock examples/java17/image.yaml -o out/java17.lock.json
$hb build examples/java17/image.yaml --lock out/java17.lock.json -o out/java17 --tag java17 \
  --sign-key out/signing.key
$hb verify oci:out/java17:java17 --key out/signing.pub --attestations
$hb sbom oci:out/java17:java17 --format spdx-json --key out/signing.pub -o out/java17.spdx.json
$hb sbom oci:out/java17:java17 --format cyclonedx-json -o out/java17.cdx.json
# Its vulnerabilities, matched against Debian's data as published today (`vuln update` with no
# --from), or, where the network does not reach it, against the excerpt of it that ships here:
# a table here, SARIF for code scanning next to the image.
if ! $hb vuln update; then
  echo "vulnerability data unreachable: using the excerpt in data/vuln (see its README for its date)"
  $hb vuln update --from data/vuln/osv-debian-excerpt-2025-02-12.zip
fi
$hb scan oci:out/java17:java17
$hb scan oci:out/java17:java17 --format sarif -o out/java17.sarif

# A registry of our own for the push: storage under out/, gone with the process.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >out/registry.yml <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $PWD/out/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve out/registry.yml >out/registry.log 2>&1 &
registry=$!
trap 'kill $registry 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
$hb push oci:out/java17:java17 "127.0.0.1:$port/hardened/java17:17" --plain-http
pinned=$($hb pin "127.0.0.1:$port/hardened/java17:17" --plain-http)
$hb verify "$pinned" --key out/signing.pub --attestations --plain-http
echo "image written to out/java17 ($hb inspect oci:out/java17:java17), SBOMs to out/java17.*.json,"
echo "scan report to out/java17.sarif;"
echo "pushed, pinned and verified as $pinned"
