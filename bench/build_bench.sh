#!/usr/bin/env bash
# Benchmark: `hardbase build` of every example against the "typical" image of the same runtime,
# made in the same run by `mmdebstrap --variant=apt --include=PKG` (a Debian base system plus
# PKG, as `FROM debian` + `apt-get install PKG` gives) and turned into an OCI image by
# `umoci raw add-layer`. Prints, next to the goals:
#   - each image's compressed size (config + layers, from its manifest) and package count
#     (hardbase: /var/lib/dpkg/status.d entries listed from its layers with tar; typical: the
#     Package: stanzas of its /var/lib/dpkg/status);
#   - for java17, the median time of a build with the .debs cached but no layer cache
#     (`--no-layer-cache`) against mmdebstrap + umoci with mmdebstrap's .debs cached too (synced
#     in and out of a directory by its hooks; it still downloads the indexes each run), and of a
#     rebuild with nothing changed (layer cache on).
#
#   bench/build_bench.sh [RUNS]   (root, for mmdebstrap; needs a build in build/ or $HB, run
#                                  scripts/build.sh first; HB_SKIP=1 measures only the typical side)
# Needs the Debian packages mmdebstrap, umoci, zstd (tar lists zstd layers with it), python3, bc.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
RUNS=${1:-3}
HB=${HB:-build/src/cli/hardbase}
HB_SKIP=${HB_SKIP:-0}
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources
EXAMPLES=(static cc java17 python3 nodejs)
# What the typical image of each example installs on top of the apt variant.
declare -A TYPICAL=([static]=ca-certificates [cc]="libstdc++6,libssl3"
                    [java17]=openjdk-17-jre-headless [python3]=python3 [nodejs]=nodejs)
if [ "$HB_SKIP" != 1 ] && [ ! -x "$HB" ]; then
  echo "no $HB: run scripts/build.sh first, or HB_SKIP=1 for the typical side only" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HARDBASE_CACHE_DIR=$work/hardbase-cache
mkdir -p "$work/apt-archives"

# Median wall time in seconds of running "$@" RUNS times; stops the benchmark if a run fails.
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    if ! "$@" >"$work/run.log" 2>&1; then
      echo "failed: $*" >&2
      tail -n 20 "$work/run.log" >&2
      exit 1
    fi
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

# `image_info size|layers DIR TAG`: the compressed size in MiB (config + layers) of image TAG in
# OCI layout DIR, or its layer blobs one a line. An index in the index stands for its first image.
image_info() {
  /usr/bin/python3 - "$@" <<'EOF'
import json, sys
what, layout, tag = sys.argv[1:]
def blob(digest): return layout + "/blobs/" + digest.replace(":", "/")
def image(desc):
    doc = json.load(open(blob(desc["digest"])))
    return image(doc["manifests"][0]) if "manifests" in doc else doc
index = json.load(open(layout + "/index.json"))
m = image(next(d for d in index["manifests"]
               if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag))
if what == "size":
    print("%.1f" % ((m["config"]["size"] + sum(l["size"] for l in m["layers"])) / 1048576))
else:
    for l in m["layers"]: print(blob(l["digest"]))
EOF
}

# Packages of a hardbase image: its /var/lib/dpkg/status.d/<pkg> entries (tar detects gzip/zstd).
hardbase_packages() {
  image_info layers "$1" "$2" | while read -r layer; do tar -tf "$layer"; done |
    awk '{sub(/^\.\//, "")} /^var\/lib\/dpkg\/status\.d\/[^\/]+$/ && !/\.md5sums$/' | sort -u |
    wc -l
}

# The typical rootfs tar of example $1, with mmdebstrap's .debs kept in $work/apt-archives.
# shellcheck disable=SC2016  # "$1" in a hook is the chroot, for mmdebstrap to expand
typical_rootfs() {
  mmdebstrap --quiet --variant=apt --include="${TYPICAL[$1]}" --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in $work/apt-archives /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $work/apt-archives" \
    "$SUITE" "$work/typical-$1.tar" "$SOURCES"
}
# The typical rootfs tar of example $1 as an OCI image in $work/typical-$1, tagged $1.
typical_oci() {
  rm -rf "$work/typical-$1"
  umoci init --layout "$work/typical-$1"
  umoci new --image "$work/typical-$1:$1"
  umoci raw add-layer --image "$work/typical-$1:$1" "$work/typical-$1.tar"
}
typical_packages() {
  tar -xOf "$work/typical-$1.tar" ./var/lib/dpkg/status | awk '/^Package:/ {n++} END {print n + 0}'
}

# hardbase build of example $1 into $work/$1 (tagged $1) from a lock made now, as mmdebstrap
# resolves now; extra arguments go to `build`.
hb_lock() { "$HB" --quiet lock "examples/$1/image.yaml" -o "$work/$1.lock.json"; }
hb_build() {
  local name=$1 out=$2
  shift 2
  "$HB" --quiet build "examples/$name/image.yaml" --lock "$work/$name.lock.json" -o "$out" \
    --tag "$name" "$@"
}

# Sizes and package counts. These runs also fill both .deb caches.
rows=()
for x in "${EXAMPLES[@]}"; do
  typical_rootfs "$x" >"$work/run.log" 2>&1 || { tail -n 20 "$work/run.log" >&2; exit 1; }
  typical_oci "$x" >/dev/null
  size=$(image_info size "$work/typical-$x" "$x")
  packages=$(typical_packages "$x")
  typ_row="$size $packages"
  if [ "$HB_SKIP" = 1 ]; then
    rows+=("$x - - $typ_row")
  else
    hb_lock "$x"
    hb_build "$x" "$work/$x" >/dev/null
    variants=("$x")
    if [ "$x" = java17 ]; then
      hb_build "$x" "$work/$x-zstd" --compression zstd >/dev/null
      variants+=("$x-zstd")
    fi
    for v in "${variants[@]}"; do
      size=$(image_info size "$work/$v" "$x")
      packages=$(hardbase_packages "$work/$v" "$x")
      rows+=("$v $size $packages $typ_row")
    done
  fi
  # The java17 rootfs tar stays for the timed runs; the others only take space.
  if [ "$x" != java17 ]; then rm -f "$work/typical-$x.tar"; fi
done

echo "image size (compressed config + layers) and packages; typical = mmdebstrap --variant=apt"
printf '%-13s %12s %5s %12s %5s %7s  %s\n' example "hardbase MiB" pkgs "typical MiB" pkgs ratio goal
for row in "${rows[@]}"; do
  read -r v hb_mib hb_pkgs typ_mib typ_pkgs <<<"$row"
  ratio=- goal=
  if [ "$hb_mib" != - ]; then
    ratio=$(awk -v a="$hb_mib" -v b="$typ_mib" 'BEGIN {printf "%.3f", a / b}')
  fi
  case $v in
    static) goal="hardbase <= 2 MiB" ;;
    java17) goal="hardbase <= 50% of typical" ;;
  esac
  if [ -n "$goal" ] && [ "$ratio" != - ]; then
    met=$(awk -v v="$v" -v m="$hb_mib" -v r="$ratio" \
      'BEGIN {print ((v == "static" ? m <= 2 : r <= 0.5) ? "met" : "MISSED")}')
    goal="$goal: $met"
  fi
  printf '%-13s %12s %5s %12s %5s %7s  %s\n' "$v" "$hb_mib" "$hb_pkgs" "$typ_mib" "$typ_pkgs" \
    "$ratio" "$goal"
done

# Speed, java17. Both sides have their .debs cached by the runs above.
mm=$(median typical_rootfs java17)
um=$(median typical_oci java17)
typical_total=$(echo "$mm + $um" | bc -l)
echo
echo "java17 build time, median of $RUNS runs"
printf '%-58s %8s s\n' "mmdebstrap (cached .debs, downloads indexes)" "$mm"
printf '%-58s %8s s\n' "umoci raw add-layer" "$um"
printf '%-58s %8.3f s\n' "typical: mmdebstrap + umoci" "$typical_total"
if [ "$HB_SKIP" != 1 ]; then
  warm() { rm -rf "$work/java17-warm"; hb_build java17 "$work/java17-warm" --no-layer-cache; }
  rebuild() { hb_build java17 "$work/java17"; }
  hb_warm=$(median warm)
  hb_rebuild=$(median rebuild)
  speedup=$(echo "$typical_total / $hb_warm" | bc -l)
  printf '%-58s %8s s   %5.1fx faster (goal >= 10x: %s)\n' \
    "hardbase build --no-layer-cache (cached .debs)" "$hb_warm" "$speedup" \
    "$(awk -v s="$speedup" 'BEGIN {print (s >= 10 ? "met" : "MISSED")}')"
  printf '%-58s %8s s   (goal < 1 s: %s)\n' "hardbase build, nothing changed (layer cache)" \
    "$hb_rebuild" "$(awk -v t="$hb_rebuild" 'BEGIN {print (t < 1 ? "met" : "MISSED")}')"
fi
