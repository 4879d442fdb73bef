#!/usr/bin/env bash
# Whether the C++ files are as clang-format (.clang-format) writes them; prints those that are
# not and fails. By default it checks the files a branch changes: those that differ (committed or
# not) from the merge-base with the main branch; where there is no main branch, all of them.
#
#   scripts/check-format.sh [--all] [--fix]
#     --all  every file, whatever changed
#     --fix  format the files in place instead of checking them
#
# The files: the C++ sources and headers git tracks under src/, tests/, fuzz/ and bench/, but for
# vendored or generated ones (and fuzz corpora). clang-format is Debian 12's clang-format (14);
# $CLANG_FORMAT names another.
set -euo pipefail
cd "$(dirname "$0")/.."

all=0 fix=0
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    --fix) fix=1 ;;
    *) echo "usage: scripts/check-format.sh [--all] [--fix]" >&2; exit 2 ;;
  esac
done

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
  for c in clang-format clang-format-14; do
    if command -v "$c" >/dev/null; then clang_format=$c; break; fi
  done
fi
if [ -z "$clang_format" ]; then
  echo "check-format: no clang-format (scripts/install-deps.sh --test installs it)" >&2
  exit 2
fi

pathspecs=()
for d in src tests fuzz bench; do
  for ext in cc h cpp hpp; do pathspecs+=("$d/*.$ext"); done
done
excluded=(':!fuzz/corpus/*' ':!*/vendor/*' ':!*/third_party/*' ':!*.pb.cc' ':!*.pb.h'
          ':!*_generated.*')

base=""
if [ "$all" -eq 0 ]; then
  for main in origin/main main origin/master master; do
    if git rev-parse -q --verify "$main^{commit}" >/dev/null; then
      base=$(git merge-base HEAD "$main" || true)
      break
    fi
  done
fi

files=()
if [ -n "$base" ]; then
  # Changed since the merge-base, in commits or in the working tree; deleted files are gone.
  while IFS= read -r f; do files+=("$f"); done < <(
    git diff --name-only --diff-filter=d "$base" -- "${pathspecs[@]}" "${excluded[@]}")
else
  while IFS= read -r f; do files+=("$f"); done < <(
    git ls-files -- "${pathspecs[@]}" "${excluded[@]}")
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format: no C++ file to check"
  exit 0
fi

if [ "$fix" -eq 1 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$clang_format" -i --style=file
  echo "check-format: formatted ${#files[@]} file(s)"
  exit 0
fi

unformatted=()
for f in "${files[@]}"; do
  "$clang_format" --dry-run -Werror --style=file "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
  printf '%s\n' "${unformatted[@]}"
  echo "check-format: ${#unformatted[@]} of ${#files[@]} file(s) not formatted;" \
    "scripts/check-format.sh --fix formats them" >&2
  exit 1
fi
echo "check-format: ${#files[@]} file(s) formatted"
