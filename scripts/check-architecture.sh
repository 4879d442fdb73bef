#!/usr/bin/env bash
# Whether docs/ARCHITECTURE.md's module table matches the folders under src/: every module has a
# row, and every row names a module that exists. Prints what differs and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

doc=docs/ARCHITECTURE.md
documented=$(grep -oE '^\| `src/[a-z_]+`' "$doc" | sed -E 's/^\| `src\/([a-z_]+)`/\1/' | sort)
present=$(find src -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
missing=$(comm -13 <(echo "$documented") <(echo "$present"))
stale=$(comm -23 <(echo "$documented") <(echo "$present"))
status=0
for m in $missing; do echo "check-architecture: src/$m has no row in $doc" >&2; status=1; done
for m in $stale; do echo "check-architecture: $doc describes src/$m, which does not exist" >&2; status=1; done
exit "$status"
