#!/usr/bin/env bash
# Headline: what `hardbase scan` finds in the "typical" images (`mmdebstrap --variant=apt` plus
# openjdk-17-jre-headless, python3 or nodejs, as `FROM debian` + `apt-get install` gives) and in
# hardbase's java17, python3 and nodejs examples (locked now and built), all with the same
# database (the osv.dev snapshot in ../shared/data), side by side: packages, findings per
# severity, fixable and unfixed, unique (CVE, source) pairs, and the kernel-header findings that
# are counted apart (VEX-suppressed ones are left out: there are none here).
#
#   bench/vuln_headline.sh   (root, for mmdebstrap; builds hardbase in $BUILD_DIR, default build/;
#                             needs mmdebstrap, python3: scripts/install-deps.sh --bench)
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=bench/scan_bench.sh
source "$(dirname "$0")/scan_bench.sh"  # functions, and cd to the repository
EXAMPLES=(java17 python3 nodejs)
declare -A TYPICAL=([java17]=openjdk-17-jre-headless [python3]=python3 [nodejs]=nodejs)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HARDBASE_CACHE_DIR=$work/hardbase-cache
build_tools hardbase
"$HB" vuln update --from "$SNAPSHOT" --db "$work/vulndb" >/dev/null

# Scans image $2 into $work/$1.json; the warnings about the snapshot's age are shown only when a
# scan fails.
scan() {
  "$HB" scan "$2" --format json --db "$work/vulndb" -o "$work/$1.json" \
    2>"$work/scan.log" || { cat "$work/scan.log" >&2; exit 1; }
}
images=()
for x in "${EXAMPLES[@]}"; do
  scan "typical-$x" "dir:$(typical_rootfs "$x" "${TYPICAL[$x]}")"
  "$HB" --quiet lock "examples/$x/image.yaml" -o "$work/$x.lock.json"
  "$HB" --quiet build "examples/$x/image.yaml" --lock "$work/$x.lock.json" -o "$work/$x" \
    --tag "$x" >/dev/null
  scan "hardbase-$x" "oci:$work/$x:$x"
  images+=("typical-$x" "hardbase-$x")
done

echo "findings of \`hardbase scan\` (per binary package; kernel headers apart), database:" \
  "$(basename "$SNAPSHOT")"
/usr/bin/python3 - "$work" "${images[@]}" <<'EOF'
import json, sys
work, images = sys.argv[1], sys.argv[2:]
severities = ["critical", "high", "medium", "low", "negligible", "unknown"]
columns = ["image", "packages"] + severities + ["fixable", "unfixed", "total", "cve+src", "kernel"]
def line(row):
    print("%-16s " % row[0] + " ".join("%*s" % (len(c), v) for c, v in zip(columns[1:], row[1:])))
line(columns)
for name in images:
    doc = json.load(open("%s/%s.json" % (work, name)))
    counted = [f for f in doc["findings"] if not f["suppressed"] and not f["kernel_headers"]]
    row = [name, doc["image"]["packages"]]
    row += [sum(f["severity"] == s for f in counted) for s in severities]
    row += [sum(f["status"] == "fixable" for f in counted),
            sum(f["status"] == "unfixed" for f in counted), len(counted),
            len({(f["id"], f["source"]) for f in counted}),
            sum(f["kernel_headers"] and not f["suppressed"] for f in doc["findings"])]
    line(row)
EOF
