#!/usr/bin/env bash
# Every concept has one home: fails, naming file:line, when a small helper that src/base or
# src/net provides is defined again elsewhere (a private Trim, a lower-casing loop with a name, an
# edit distance, a thread pool, a backoff or a Retry-After parser).
#
#   scripts/check-one-home.sh
#
# It reads the C++ files under src/, tests/, fuzz/ and bench/ that git tracks (and the untracked
# ones it does not ignore, so a new file counts before it is added). It looks for definitions and
# declarations, not calls: a helper's name after a return type ("std::string_view Trim("), at
# the start of a line (the return type on the line before), or a lambda given the helper's name
# ("auto lower = [").  A thread pool is a std::vector of std::thread or a std::async outside
# src/base/parallel.*, in code other than tests (tests start threads to make things happen at the
# same time, which is no parallel-for).
set -euo pipefail
cd "$(dirname "$0")/.."

# rule|home (an extended regex on the path)|names (an extended regex)
rules=(
  "trim|^src/base/strings\.|Trim|TrimLeft|TrimRight|TrimStart|TrimEnd|TrimSpaces?|TrimBlanks?|TrimWhite[Ss]pace|LTrim|RTrim|StripWhite[Ss]pace"
  "lower|^src/base/strings\.|Lower|ToLower|AsciiLower|Lowercase|LowerCase|ToLowerCase|ToLowercase|AsciiToLower|LowerAscii|EqualsIgnoreCase|EqualsNoCase|IEquals|CaseInsensitiveEquals"
  "words|^src/base/strings\.|Words|SplitSpaces?|SplitWords|SplitBlanks|SplitWhite[Ss]pace"
  "lines|^src/base/strings\.|Lines|SplitLines|ForEachLine"
  "edit-distance|^src/base/strings\.|EditDistance|Levenshtein[A-Za-z]*|DamerauLevenshtein|OsaDistance"
  "backoff|^src/net/|[A-Za-z0-9_]*Backoff[A-Za-z0-9_]*"
  "retry-after|^src/net/|[A-Za-z0-9_]*RetryAfter[A-Za-z0-9_]*"
)
# The same helpers as lambdas, by their snake_case names: rule|names.
lambda_rules=(
  "trim|trim|trim_left|trim_right|ltrim|rtrim|trim_spaces?|trim_blanks?|trim_whitespace"
  "lower|lower|to_lower|tolower|ascii_lower|lowercase|equals_ignore_case"
  "words|words|split_spaces?|split_words|split_blanks"
  "lines|lines|split_lines|for_each_line"
  "edit-distance|edit_distance|levenshtein"
  "backoff|backoff|next_backoff"
  "retry-after|retry_after|parse_retry_after"
)

# Allowed exceptions, each with its reason: file|rule|reason.
allowed=(
  "src/image/truststore.cc|lower|ToLower(std::u32string) is Java's Unicode String.toLowerCase over code points (the JKS alias), not ASCII"
  "src/dockerfile/dockerfile.h|words|Instruction::Words splits a Dockerfile instruction's arguments with BuildKit's quoting and the file's escape character, not at blanks"
  "src/dockerfile/dockerfile.cc|words|Instruction::Words: BuildKit's word splitting (see dockerfile.h)"
  "src/dockerfile/syntax.cc|words|the shell lexer's Words() reads BuildKit's shell words (quotes, escapes, variables), not blanks"
  "src/vuln/import.cc|thread-pool|ParallelParser inflates the OSV zip and parses records at once, with a bounded queue; ParallelFor is fork-join (see the comment there)"
)

files=(src tests fuzz bench)
pathspecs=()
for d in "${files[@]}"; do
  for ext in cc h cpp hpp; do pathspecs+=("$d/*.$ext"); done
done

# A definition's return type: words such as "static", "const", "std::string&",
# "std::optional<std::chrono::milliseconds>" (after a template head, if any), then blanks (or
# '*'/'&') before the name.
token='[A-Za-z_][A-Za-z0-9_:]*(<[^();={}]*>)?[*&]*'
prefix="^[[:space:]]*(template[[:space:]]*<[^();{}]*>[[:space:]]*)?(${token}[[:space:]]+)*${token}([[:space:]]+[*&]*|[*&]+)"
qualifier='([A-Za-z_][A-Za-z0-9_]*::)*'
# Statements that start like a return type but call the helper.
not_a_type='^[^:]+:[0-9]+:[[:space:]]*(return|co_return|co_yield|throw|case|else|new|delete|goto|using)[[:space:]]'

found=$(mktemp)
trap 'rm -f "$found"' EXIT

for rule in "${rules[@]}"; do
  IFS='|' read -r name home names <<<"$rule"
  pattern="(${prefix}${qualifier}(${names})[[:space:]]*\()|(^${qualifier}(${names})[[:space:]]*\()"
  git grep --untracked -n -E -e "$pattern" -- "${pathspecs[@]}" |
    grep -v -E "$not_a_type" | grep -v -E "^[^:]*${home#^}" |
    sed "s/^\([^:]*:[0-9]*\):/\1: $name: /" >>"$found" || true
done
for rule in "${lambda_rules[@]}"; do
  IFS='|' read -r name names <<<"$rule"
  for r in "${rules[@]}"; do
    IFS='|' read -r rname rhome rnames <<<"$r"
    if [ "$rname" = "$name" ]; then home=$rhome helpers=$rnames; fi
  done
  pattern="(auto|const auto)[[:space:]]+(${names})[[:space:]]*=[[:space:]]*\["
  # A lambda that calls the shared helper (a conversion, say) is no copy of it.
  git grep --untracked -n -i -E -e "$pattern" -- "${pathspecs[@]}" |
    grep -v -E "^[^:]*${home#^}" |
    grep -v -E "=[[:space:]]*\[.*[^A-Za-z0-9_](${helpers})[[:space:]]*\(" |
    sed "s/^\([^:]*:[0-9]*\):/\1: $name: /" >>"$found" || true
done
# Thread pools, outside tests.
git grep --untracked -n -E -e 'std::vector<[[:space:]]*std::j?thread[[:space:]]*>' -e 'std::async\b' \
  -- "${pathspecs[@]}" ':!*_test.cc' ':!tests/*' ':!src/base/parallel.*' |
  sed "s/^\([^:]*:[0-9]*\):/\1: thread-pool: /" >>"$found" || true

# Drop the allowed exceptions; one that no longer matches anything is said (it can go).
status=0
violations=$(sort -t: -k1,1 -k2,2n -u "$found")
for entry in "${allowed[@]}"; do
  IFS='|' read -r file name reason <<<"$entry"
  if [ -z "$reason" ]; then
    echo "check-one-home: the exception for $file ($name) gives no reason" >&2
    status=1
  fi
  if ! grep -q -F "$file:" <<<"$violations" ||
     ! grep -F "$file:" <<<"$violations" | grep -q -F ": $name: "; then
    echo "check-one-home: note: the exception for $file ($name) matches nothing now" >&2
  fi
  violations=$(grep -v -E "^${file//./\\.}:[0-9]+: ${name}: " <<<"$violations" || true)
done

if [ -n "$violations" ]; then
  echo "$violations"
  count=$(wc -l <<<"$violations")
  cat >&2 <<EOF
check-one-home: $count definition(s) outside their one home. Use the shared helper instead:
  trim, lower, words, lines, edit-distance: src/base/strings.h; thread-pool: ParallelFor in
  src/base/parallel.h; backoff, retry-after: src/net/. A genuinely different helper goes into the
  exceptions in scripts/check-one-home.sh, with its reason.
EOF
  status=1
fi
exit "$status"
