#!/usr/bin/env bash
# Benchmark: `hardbase lock` of the Java example (cold and warm cache) against apt's own
# resolution of the same package on a warm apt cache, `apt-get install --simulate
# --no-install-recommends` from an empty dpkg status, in the same run. Prints medians and ratios.
#
#   bench/lock_bench.sh [RUNS]      (needs a build in build/; run scripts/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
HB=build/src/cli/hardbase
SPEC=examples/java17/image.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/empty-status"

# Median wall time in seconds of running "$@" RUNS times.
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}

apt_sim() {
  apt-get install --simulate --no-install-recommends -o Dir::State::status="$work/empty-status" \
    openjdk-17-jre-headless
}
hb_lock() { HARDBASE_CACHE_DIR="$work/cache" "$HB" --quiet lock "$SPEC" -o "$work/java17.lock.json" "$@"; }
cold_lock() { rm -rf "$work/cache"; hb_lock; }

apt_sim >/dev/null 2>&1  # warm apt's binary cache for this status file
apt=$(median apt_sim)
cold=$(median cold_lock)
hb_lock >/dev/null 2>&1
warm=$(median hb_lock)
offline=$(median hb_lock --offline)

apt_count=$(apt_sim 2>/dev/null | grep -c '^Inst ')
hb_count=$(/usr/bin/python3 -c 'import json,sys; print(sum(len(a["packages"]) for a in json.load(open(sys.argv[1]))["archs"]))' "$work/java17.lock.json")

echo "lock of $SPEC, median of $RUNS runs (hardbase: $hb_count packages; apt: $apt_count packages)"
printf '%-52s %8s s\n' "apt-get install --simulate (warm apt cache)" "$apt"
printf '%-52s %8s s   %5.2fx apt\n' "hardbase lock, cold cache (downloads indexes)" "$cold" "$(echo "$cold / $apt" | bc -l)"
printf '%-52s %8s s   %5.2fx apt\n' "hardbase lock, warm cache (fetches InRelease)" "$warm" "$(echo "$warm / $apt" | bc -l)"
printf '%-52s %8s s   %5.2fx apt\n' "hardbase lock --offline, warm cache" "$offline" "$(echo "$offline / $apt" | bc -l)"
