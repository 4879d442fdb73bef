#!/usr/bin/env bash
# Benchmark: `hardbase catalog build` of the whole catalog (every runtime image and its -dev
# variant, one shared cache) against building the same runtime images one by one the usual way,
# `mmdebstrap --variant=apt --include=<the entry's packages>` (a Debian base plus the packages, as
# `FROM debian` + `apt-get install` gives) turned into an OCI image by `umoci raw add-layer`, in
# the same run. Prints:
#   - wall time cold (empty caches: every .deb downloaded, every layer built) and warm (the .debs
#     cached on both sides; hardbase's layers cached too), with the ratios, and the share of
#     package layers that hardbase reused across the catalog;
#   - per runtime image: compressed size, package count and unique (CVE, source package) pairs
#     of `hardbase scan` with the osv.dev snapshot in ../shared/data, hardbase's image beside the
#     typical one.
#
#   bench/catalog_bench.sh [ENTRY...]   (root, for mmdebstrap; after scripts/build.sh and
#                                        scripts/install-deps.sh --bench; default: every entry)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
HB=${HB:-build/src/cli/hardbase}
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources
SNAPSHOT=../shared/data/osv-debian-2025-02-12.zip
[ -x "$HB" ] || { echo "no $HB: run scripts/build.sh first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HARDBASE_CACHE_DIR=$work/hardbase-cache
# A copy, so that the locks `catalog build` writes stay out of the checkout.
cp -r catalog "$work/catalog"
"$HB" --quiet vuln update --from "$SNAPSHOT" --db "$work/vulndb"

only=()
if [ $# -gt 0 ]; then only=(--only "$(IFS=,; echo "$*")"); fi
runtimes=()
for d in "$work"/catalog/*/; do
  name=$(basename "$d")
  [ -f "$d/image.yaml" ] || continue
  case $name in *-dev) continue ;; esac
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  runtimes+=("$name")
done

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }

# hardbase: the whole catalog (or the named entries), cold then warm.
catalog_build() {
  rm -rf "$work/out"
  "$HB" --quiet catalog build "$work/catalog" "${only[@]}" --output-dir "$work/out" \
    --db "$work/vulndb" --json >"$work/$1.json" 2>"$work/$1.log" ||
    { tail -n 30 "$work/$1.log" >&2; exit 1; }
}
t=$(now); catalog_build cold; hb_cold=$(since "$t")
t=$(now); catalog_build warm; hb_warm=$(since "$t")

# The packages an entry's spec asks for, comma-separated (PyYAML, from python3-yaml).
spec_packages() {
  /usr/bin/python3 -c 'import sys, yaml
print(",".join(str(p) for p in yaml.safe_load(open(sys.argv[1]))["packages"]))' "$1"
}
# The typical image of entry $1 as OCI layout $work/typical-$1 (tag $1); the .debs pass through
# $work/apt-archives when $2 is "warm" (synced in and out by mmdebstrap's hooks).
# shellcheck disable=SC2016  # "$1" in a hook is the chroot, for mmdebstrap to expand
typical_image() {
  local hooks=()
  if [ "$2" = warm ]; then
    hooks=(--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
           --setup-hook="sync-in $work/apt-archives /var/cache/apt/archives/"
           --customize-hook="sync-out /var/cache/apt/archives $work/apt-archives")
  fi
  mmdebstrap --quiet --variant=apt --include="$(spec_packages "$work/catalog/$1/image.yaml")" \
    --skip=essential/unlink "${hooks[@]}" "$SUITE" "$work/typical-$1.tar" "$SOURCES" \
    >"$work/mm.log" 2>&1 || { tail -n 20 "$work/mm.log" >&2; exit 1; }
  rm -rf "$work/typical-$1"
  umoci init --layout "$work/typical-$1"
  umoci new --image "$work/typical-$1:$1"
  umoci raw add-layer --image "$work/typical-$1:$1" "$work/typical-$1.tar" >/dev/null
}
mkdir -p "$work/apt-archives"
t=$(now)
for x in "${runtimes[@]}"; do typical_image "$x" cold; done
typ_cold=$(since "$t")
# Fill the .deb cache, then time the warm runs.
for x in "${runtimes[@]}"; do typical_image "$x" warm; done
t=$(now)
for x in "${runtimes[@]}"; do typical_image "$x" warm; done
typ_warm=$(since "$t")

for x in "${runtimes[@]}"; do
  "$HB" scan "oci:$work/typical-$x:$x" --format json --db "$work/vulndb" \
    -o "$work/typical-$x.scan.json" 2>"$work/scan.log" || { cat "$work/scan.log" >&2; exit 1; }
  tar -xOf "$work/typical-$x.tar" ./var/lib/dpkg/status |
    awk '/^Package:/ {n++} END {print n + 0}' >"$work/typical-$x.packages"
done

/usr/bin/python3 - "$work" "$hb_cold" "$hb_warm" "$typ_cold" "$typ_warm" "${runtimes[@]}" <<'EOF'
import json, sys
work, hb_cold, hb_warm, typ_cold, typ_warm = sys.argv[1], *map(float, sys.argv[2:6])
runtimes = sys.argv[6:]
cold, warm = (json.load(open("%s/%s.json" % (work, r))) for r in ("cold", "warm"))
n = cold["totals"]["images"]
print("catalog build: %d images (%d runtime, typical side builds the runtime ones)" % (n, len(runtimes)))
print("%-44s %9s %9s %7s" % ("", "hardbase", "typical", "ratio"))
for what, a, b in (("cold (empty caches) s", hb_cold, typ_cold), ("warm (.debs cached) s", hb_warm, typ_warm)):
    print("%-44s %9.1f %9.1f %6.1fx" % (what, a, b, b / a))
for name, doc in (("cold", cold), ("warm", warm)):
    t = doc["totals"]
    print("hardbase %s: %d package layers built, %d reused (%.0f%% reused)"
          % (name, t["layersBuilt"], t["layersReused"], 100 * t["shareReused"]))
print()
print("runtime image sizes (compressed MiB), packages and unique (CVE, source) pairs, osv.dev snapshot")
print("%-17s %9s %5s %5s   %9s %5s %5s" % ("image", "hardbase", "pkgs", "CVEs", "typical", "pkgs", "CVEs"))
images = {i["name"]: i for i in cold["images"]}
for x in runtimes:
    i = images[x]
    typ = json.load(open("%s/typical-%s.scan.json" % (work, x)))
    index = json.load(open("%s/typical-%s/index.json" % (work, x)))
    blob = lambda d: "%s/typical-%s/blobs/%s" % (work, x, d.replace(":", "/"))
    m = json.load(open(blob(index["manifests"][0]["digest"])))
    typ_mib = (m["config"]["size"] + sum(l["size"] for l in m["layers"])) / 1048576
    typ_pkgs = int(open("%s/typical-%s.packages" % (work, x)).read())
    hb_mib = i["compressedBytes"] / 1048576 if i["status"] == "built" else float("nan")
    print("%-17s %9.1f %5s %5s   %9.1f %5d %5d" % (x, hb_mib, i["packages"], i["cves"],
          typ_mib, typ_pkgs, typ["summary"]["unique"]))
EOF
