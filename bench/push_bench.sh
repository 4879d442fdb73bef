#!/usr/bin/env bash
# Benchmark: `hardbase push` of the java17 example image to a local registry (Debian's
# docker-registry on loopback, started here and stopped at the end) against `skopeo copy` of the
# same OCI layout to the same registry, in the same run. Each run pushes to a fresh repository of
# a fresh registry, so every blob is uploaded; then a second push of the same image, when every
# blob is already there, is timed too. Prints medians and the ratio skopeo/hardbase, next to the
# goals (no slower than skopeo; a repeated push under 0.2 s).
#
#   bench/push_bench.sh [RUNS]   (after scripts/build.sh; needs docker-registry and skopeo:
#                                 scripts/install-deps.sh --bench)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
RUNS=${1:-5}
HB=${HB:-build/src/cli/hardbase}
[ -x "$HB" ] || { echo "no $HB: run scripts/build.sh first" >&2; exit 1; }
work=$(mktemp -d)
source bench/registry.sh
cleanup() {
  stop_registry
  rm -rf "$work"
}
trap cleanup EXIT
export HARDBASE_CACHE_DIR=${HARDBASE_CACHE_DIR:-$work/hardbase-cache}

echo "== building the java17 example"
"$HB" --quiet build examples/java17/image.yaml --lock examples/java17/image.lock.json \
  -o "$work/java17" >/dev/null


# Wall time in seconds of "$@".
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$work/run.log" 2>&1 || { echo "failed: $*" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }

hb_first=() hb_again=() sk_first=() sk_again=()
for i in $(seq "$RUNS"); do
  start_registry
  hb_first+=("$(timed "$HB" --quiet push "oci:$work/java17:latest" "127.0.0.1:$port/hb$i:1" --plain-http)")
  hb_again+=("$(timed "$HB" --quiet push "oci:$work/java17:latest" "127.0.0.1:$port/hb$i:1" --plain-http)")
  sk_first+=("$(timed skopeo copy --quiet --dest-tls-verify=false "oci:$work/java17:latest" "docker://127.0.0.1:$port/sk$i:1")")
  sk_again+=("$(timed skopeo copy --quiet --dest-tls-verify=false "oci:$work/java17:latest" "docker://127.0.0.1:$port/sk$i:1")")
done
# The same bytes arrived: both pushes name the same manifest digest.
hb_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$port/hb$RUNS:1")
sk_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$port/sk$RUNS:1")
[ "$hb_digest" = "$sk_digest" ] || { echo "digests differ: $hb_digest vs $sk_digest" >&2; exit 1; }

size=$(du -sb "$work/java17/blobs" | cut -f1)
hf=$(printf '%s\n' "${hb_first[@]}" | median); ha=$(printf '%s\n' "${hb_again[@]}" | median)
sf=$(printf '%s\n' "${sk_first[@]}" | median); sa=$(printf '%s\n' "${sk_again[@]}" | median)
echo
echo "java17 image, $(echo "$size / 1048576" | bc) MiB of blobs, median of $RUNS runs, digest $hb_digest"
printf '%-34s %10s %10s %8s\n' "" "hardbase" "skopeo" "ratio"
printf '%-34s %9ss %9ss %7.2fx\n' "push, every blob uploaded" "$hf" "$sf" "$(echo "$sf / $hf" | bc -l)"
printf '%-34s %9ss %9ss %7.2fx\n' "push again, every blob present" "$ha" "$sa" "$(echo "$sa / $ha" | bc -l)"
echo "goals: first push no slower than skopeo (ratio >= 1); push again under 0.2 s"
