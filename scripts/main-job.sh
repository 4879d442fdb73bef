#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is needed, build hardbase, lock the Java
# example against the host's apt repositories (verified InRelease -> Packages -> closure), build
# its hardened image into out/java17 (an OCI image layout) signed with a cosign-compatible key
# (made in out/ on first use; password from COSIGN_PASSWORD, empty when unset), verify it, and
# write its SBOMs next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
hb=build/src/cli/hardbase
export COSIGN_PASSWORD="${COSIGN_PASSWORD-}"
mkdir -p out
[ -f out/signing.key ] || $hb keygen --output-key-prefix out/signing
$hb lock examples/java17/image.yaml
$hb build examples/java17/image.yaml --locked -o out/java17 --tag java17 \
  --sign-key out/signing.key
$hb verify oci:out/java17:java17 --key out/signing.pub --attestations
$hb sbom oci:out/java17:java17 --format spdx-json -o out/java17.spdx.json
$hb sbom oci:out/java17:java17 --format cyclonedx-json -o out/java17.cdx.json
echo "image written to out/java17 (skopeo inspect oci:out/java17:java17), SBOMs to out/java17.*.json"
