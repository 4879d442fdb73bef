#!/usr/bin/env bash
# Benchmark: the vulnerability database and `hardbase scan`, against Debian's own debsecan in the
# same run, on the same input.
#   - import: `hardbase vuln update --from` the osv.dev snapshot in ../shared/data (the whole
#     export, every release), median of 3 runs; goal under 10 s;
#   - scan: the "typical" Java image (`mmdebstrap --variant=apt --include=openjdk-17-jre-headless`,
#     a root filesystem directory) with the database on disk: `hardbase scan dir:ROOT --format
#     json` against `debsecan` on the same status file with a data file made from the same
#     snapshot's records (tests/support/debsecan.cc, written by the debsecan_data tool), median
#     of RUNS runs each; goals under 100 ms and faster than debsecan. Both sides' finding counts
#     are printed too; debsecan's count is higher as it reports each DSA/DLA under its own id
#     where hardbase folds it into its CVEs (tests/e2e/scan_oracle_test.cc).
#
#   bench/scan_bench.sh [RUNS]   (root, for mmdebstrap; builds hardbase and debsecan_data in
#                                 $BUILD_DIR, default build/; needs mmdebstrap, debsecan, python3,
#                                 bc: scripts/install-deps.sh --bench)
# The typical root filesystems are kept in $BUILD_DIR/bench-typical and made again after a day.
# bench/vuln_headline.sh sources this file for its functions.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
HB=$BUILD_DIR/src/cli/hardbase
DEBSECAN_DATA=$BUILD_DIR/tests/debsecan_data
SNAPSHOT=../shared/data/osv-debian-2025-02-12.zip
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources
TYPICAL_DIR=$BUILD_DIR/bench-typical

# Builds the targets "$@" in $BUILD_DIR (debsecan_data is test support, so with the tests on).
build_tools() {
  BUILD_DIR=$BUILD_DIR scripts/build.sh -DHARDBASE_TESTS=ON "$@" >/dev/null
}

# The typical root filesystem $1 (`mmdebstrap --variant=apt --include=$2`), made into
# $TYPICAL_DIR/$1 unless one made within a day is there; prints its path.
typical_rootfs() {
  local root=$TYPICAL_DIR/$1
  if [ -z "$(find "$root/var/lib/dpkg/status" -mmin -1440 2>/dev/null)" ]; then
    rm -rf "$root" "$root.new"
    mkdir -p "$TYPICAL_DIR"
    mmdebstrap --quiet --variant=apt --include="$2" "$SUITE" "$root.new" "$SOURCES" >&2
    mv "$root.new" "$root"
  fi
  echo "$root"
}

# Installed packages in the dpkg status file $1.
installed_packages() { grep -c '^Status: .* installed$' "$1"; }

# `debsecan` offline: the data file in $1 (made by debsecan_data), the status file $2; never the
# host's configuration or whitelist.
debsecan_offline() {
  debsecan --suite "$SUITE" --source "file://$1/" --status "$2" --format summary \
    --config "$1/no-config" --whitelist "$1/no-whitelist"
}

# Median wall time in milliseconds of running "$@" $1 times; stops the benchmark if a run fails.
median_ms() {
  local runs=$1 times=()
  shift
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    if ! "$@" >"$work/run.log" 2>&1; then
      echo "failed: $*" >&2
      tail -n 20 "$work/run.log" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] / 1000}'
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi  # sourced for the functions above

RUNS=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_tools hardbase debsecan_data
[ -f "$SNAPSHOT" ] || { echo "no $SNAPSHOT" >&2; exit 1; }

import() { rm -f "$work/vulndb"; "$HB" --cache-dir "$work/cache" vuln update --from "$SNAPSHOT" --db "$work/vulndb"; }
import_ms=$(median_ms 3 import)
mkdir -p "$work/debsecan"
"$DEBSECAN_DATA" "$SNAPSHOT" "$SUITE" "$work/debsecan"

root=$(typical_rootfs java17 openjdk-17-jre-headless)
status=$root/var/lib/dpkg/status
scan() { "$HB" --cache-dir "$work/cache" scan "dir:$root" --format json --db "$work/vulndb"; }
hb_ms=$(median_ms "$RUNS" scan)
ds_ms=$(median_ms "$RUNS" debsecan_offline "$work/debsecan" "$status")
hb_findings=$(scan 2>"$work/run.log" | /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)["findings"]))')
ds_findings=$(debsecan_offline "$work/debsecan" "$status" | wc -l)

verdict() { awk "BEGIN {print (($1) ? \"met\" : \"MISSED\")}"; }
echo "import of $(basename "$SNAPSHOT") ($(du -h "$SNAPSHOT" | cut -f1)), median of 3 runs:" \
  "$(awk -v t="$import_ms" 'BEGIN {printf "%.2f", t / 1000}') s (goal < 10 s: $(verdict "$import_ms < 10000"))"
echo "database: $(du -h "$work/vulndb" | cut -f1); debsecan data file for $SUITE:" \
  "$(du -h "$work/debsecan/$SUITE" | cut -f1) compressed"
echo
echo "scan of the typical java17 root filesystem ($(installed_packages "$status") packages), median of $RUNS runs"
printf '%-44s %9s ms  %5s findings\n' "hardbase scan dir:ROOT --format json" "$hb_ms" "$hb_findings"
printf '%-44s %9s ms  %5s findings\n' "debsecan --format summary (same records)" "$ds_ms" "$ds_findings"
printf 'debsecan / hardbase: %.1fx (goals: hardbase < 100 ms: %s; faster than debsecan: %s)\n' \
  "$(echo "$ds_ms / $hb_ms" | bc -l)" "$(verdict "$hb_ms < 100")" "$(verdict "$hb_ms < $ds_ms")"
