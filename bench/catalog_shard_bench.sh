#!/usr/bin/env bash
# Benchmark: `hardbase catalog build` of catalog entries by one runner against two runners that
# share a registry layer cache (`--shard I/2 --cache-repo`), and a runner whose cache is empty
# building from that registry cache (warm from the registry) against one building every layer
# (cold), in the same run. A "runner" is a hardbase process with a cache directory of its own and
# one worker (`--jobs 1`), as a CI job on a machine of its own; the two run at the same time. The
# registry is Debian's docker-registry on loopback, started here and stopped at the end. Every
# runner's cache starts with the entries' .deb files (fetched once, before timing), so the times
# are the builds, not the downloads. Prints medians, the ratios, and the layers each side built.
#
#   bench/catalog_shard_bench.sh [RUNS] [ENTRY...]   (after scripts/build.sh; needs
#       docker-registry: scripts/install-deps.sh --bench; default entries below)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
RUNS=${1:-3}
shift || true
ENTRIES=("$@")
[ ${#ENTRIES[@]} -gt 0 ] || ENTRIES=(static cc cc-dev python3 python3-dev nginx redis java17)
HB=${HB:-build/src/cli/hardbase}
[ -x "$HB" ] || { echo "no $HB: run scripts/build.sh first" >&2; exit 1; }
work=$(mktemp -d)
source bench/registry.sh
cleanup() {
  stop_registry
  rm -rf "$work"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000

echo "== locking ${ENTRIES[*]} and fetching their packages once"
mkdir -p "$work/catalog"
for e in "${ENTRIES[@]}"; do
  [ -f "catalog/$e/image.yaml" ] || { echo "no catalog entry $e" >&2; exit 1; }
  cp -r "catalog/$e" "$work/catalog/$e"
  HARDBASE_CACHE_DIR=$work/seed "$HB" --quiet lock "$work/catalog/$e/image.yaml" >/dev/null
  HARDBASE_CACHE_DIR=$work/seed "$HB" --quiet fetch "$work/catalog/$e/image.yaml" >/dev/null
done


# A runner's cache: the seed's .debs (hard links), no layer.
fresh_cache() {
  rm -rf "$work/$1"
  mkdir -p "$work/$1/blobs"
  cp -al "$work/seed/blobs/sha256" "$work/$1/blobs/sha256"
}
# `catalog build` by runner $1 (its cache and output named after it), JSON in $work/$1.json.
runner() {
  local name=$1
  shift
  HARDBASE_CACHE_DIR=$work/$name "$HB" --quiet catalog build "$work/catalog" --locked --jobs 1 \
    --output-dir "$work/out-$name" --json "$@" >"$work/$name.json" 2>"$work/$name.log" ||
    { echo "runner $name failed:" >&2; tail -n 20 "$work/$name.log" >&2; exit 1; }
}
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }
built() { jq -r '.totals.layersBuilt' "$work/$1.json"; }

: >"$work/one.t" && : >"$work/two.t" && : >"$work/warm.t"
for run in $(seq "$RUNS"); do
  echo "== run $run of $RUNS"
  fresh_cache one
  t0=$(now)
  runner one
  since "$t0" >>"$work/one.t"

  start_registry
  fresh_cache r1
  fresh_cache r2
  t0=$(now)
  runner r1 --shard 1/2 --cache-repo "127.0.0.1:$port/ci/layers" --plain-http &
  p1=$!
  runner r2 --shard 2/2 --cache-repo "127.0.0.1:$port/ci/layers" --plain-http &
  p2=$!
  wait "$p1"
  wait "$p2"
  since "$t0" >>"$work/two.t"

  rm -rf "$work/empty"
  t0=$(now)
  runner empty --cache-repo "127.0.0.1:$port/ci/layers" --plain-http
  since "$t0" >>"$work/warm.t"

  # The same images whichever way they were built.
  for e in "${ENTRIES[@]}"; do
    d1=$(jq -r --arg e "$e" '.images[] | select(.name == $e) | .digest' "$work/one.json")
    d2=$(jq -r --arg e "$e" '.images[] | select(.name == $e) | .digest' "$work/r1.json" "$work/r2.json")
    d3=$(jq -r --arg e "$e" '.images[] | select(.name == $e) | .digest' "$work/empty.json")
    if [ "$d1" != "$d2" ] || [ "$d1" != "$d3" ]; then
      echo "digests differ for $e: $d1 / $d2 / $d3" >&2
      exit 1
    fi
  done
done

one=$(median <"$work/one.t")
two=$(median <"$work/two.t")
warm=$(median <"$work/warm.t")
echo
echo "catalog build of ${#ENTRIES[@]} entries (${ENTRIES[*]}), median of $RUNS runs, --jobs 1 per runner"
printf '%-46s %8s %8s\n' "" "seconds" "ratio"
printf '%-46s %8.2f %8s\n' "1 runner, cold (builds every layer)" "$one" "1.00x"
printf '%-46s %8.2f %7.2fx\n' "2 runners, one registry cache (--shard I/2)" "$two" "$(echo "$one / $two" | bc -l)"
printf '%-46s %8.2f %7.2fx\n' "1 runner, empty cache, warm from the registry" "$warm" "$(echo "$one / $warm" | bc -l)"
echo "layers built: 1 runner $(built one); 2 runners $(built r1) + $(built r2); warm from the registry $(built empty) ($(jq -r '.totals.layersFetched' "$work/empty.json") fetched)"
