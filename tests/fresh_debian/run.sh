#!/usr/bin/env bash
# The README's main job (scripts/main-job.sh) on a freshly bootstrapped Debian 12 machine.
#
# What it does, each run:
#  1. bootstraps Debian 12 (bookworm) with mmdebstrap --variant=minbase from the host's own apt
#     sources (the harshest "fresh machine": the project's scripts must install everything else
#     themselves); the bootstrapped root is cached as a tarball (see "The cache" below);
#  2. unpacks a fresh copy of it and clones this repository into it (/root/hardbase) with
#     `git clone --no-local`: nothing of a previous build (no build/, no out/) is ever reused;
#  3. enters it with a real root switch (a private mount and PID namespace, /proc, /sys read-only,
#     a minimal /dev, /dev/pts, tmpfs /run and /tmp, the host's resolv.conf and hosts, then
#     pivot_root and the old root unmounted), and runs there, as root, in a clean environment
#     with no terminal and no input: `cd /root/hardbase && scripts/main-job.sh`;
#  4. checks that it exits 0, printed its last lines and wrote out/java17/index.json, that the
#     clone is still clean (`git status --porcelain` prints nothing), and that `cmake --install
#     build` puts a `hardbase` on PATH (/usr/local/bin/hardbase) whose --version is the project's;
#  5. removes the unpacked root (its mounts die with their namespace) on success and on failure.
#
# Usage (as root, no terminal needed):  tests/fresh_debian/run.sh
# The job's full log is kept (its path is printed); on failure its last 60 lines are printed.
#
# What it tests: the repository's committed state (HEAD of the checkout this script lives in),
# as CI sees it. Uncommitted changes are NOT included. To try them before committing, set
#   HARDBASE_FRESH_WORKTREE=1
# which copies the working tree's tracked files and its untracked, not ignored ones over the
# clone (and removes tracked files deleted from the working tree), then commits that in the clone
# (only there, never in the checkout) so the "clone stays clean" check means the same thing.
#
# Other settings (environment):
#   HARDBASE_FRESH_CACHE   where bootstrapped roots are cached (default /var/cache/hardbase-tests)
#   HARDBASE_FRESH_TMPDIR  where the root is unpacked; it needs a few GB (default /var/tmp)
#   HARDBASE_FRESH_LOGDIR  where the log is kept (default /var/tmp)
#   HARDBASE_FRESH_KEEP=1  keep the unpacked root afterwards, for debugging (path printed)
#
# The cache: the bootstrap alone takes about a minute and gives the same root every time for the
# same apt sources, so it is kept as a tarball under $HARDBASE_FRESH_CACHE, named by a hash of
# the host's apt sources (paths and contents), the mmdebstrap arguments and mmdebstrap's version,
# and made again when older than a week (so the root's packages stay close to the mirror's; the
# job's own `apt-get update` then brings the lists up to date, as on a real machine). Only the
# bootstrap is cached: the project's build never is.
#
# Needs: root, mmdebstrap (scripts/install-deps.sh --test installs it), unshare, pivot_root,
# mount (util-linux / mount), git, tar, flock.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# The checkout may belong to another user than root (a CI runner's): git must still read it.
hgit() { git -c safe.directory="$repo" -c safe.directory="$repo/.git" "$@"; }

say() { echo "fresh-debian: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-debian: must run as root (it bootstraps a Debian root and mounts file systems in it)" >&2
  exit 2
fi
missing=()
for tool in mmdebstrap unshare pivot_root mount umount setsid tar git flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fresh-debian: missing tools: ${missing[*]}" >&2
  echo "fresh-debian: (mmdebstrap: apt-get install mmdebstrap, or scripts/install-deps.sh --test;" \
    "unshare, pivot_root, setsid: util-linux; mount, umount: mount)" >&2
  exit 2
fi
# A checkout without its .git (an exported tree) is tested as it is, less what a build leaves.
is_git=1
hgit -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || is_git=0

cache=${HARDBASE_FRESH_CACHE:-/var/cache/hardbase-tests}
tmpbase=${HARDBASE_FRESH_TMPDIR:-/var/tmp}
logdir=${HARDBASE_FRESH_LOGDIR:-/var/tmp}
mkdir -p "$cache" "$tmpbase" "$logdir"
log=$(mktemp "$logdir/hardbase-fresh-debian.XXXXXX.log")

# ---- timings, failure, clean-up ----
timings=()
phase_start=0
phase_name=""
phase_last=""
begin() { phase_name=$1; phase_last=$1; phase_start=$SECONDS; say "== $1"; }
end() { timings+=("$(printf '%-28s %5ss' "$phase_name" $((SECONDS - phase_start)))"); phase_name=""; }
print_timings() {
  [ -n "$phase_name" ] && end
  say "timings:"
  for t in "${timings[@]}"; do echo "  $t"; done
}

reported=0
fail() {
  reported=1
  echo "fresh-debian: FAILED: $*" >&2
  echo "fresh-debian: last 60 lines of the log ($log):" >&2
  tail -n 60 "$log" | sed 's/^/  | /' >&2
  echo "fresh-debian: FAILED in phase \"$phase_last\" (full log: $log)" >&2
  exit 1
}

workdir=""
job=""
cleanup() {
  local rc=$?
  set +e
  # Anything else that stopped the script (set -e) gets the same report.
  [ "$rc" -ne 0 ] && [ "$reported" = 0 ] && (fail "exit status $rc")
  # An interrupted main job: unshare ignores SIGTERM and SIGINT while it waits, so SIGKILL; its
  # namespace's processes all die with it (--kill-child).
  if [ -n "$job" ]; then
    kill -KILL "$job" 2>/dev/null
    wait "$job" 2>/dev/null
  fi
  [ -n "$phase_name" ] || [ ${#timings[@]} -gt 0 ] && print_timings
  if [ -n "$workdir" ] && [ -d "$workdir" ]; then
    # The mounts live in the private mount namespace of each entry and go with it; this only
    # catches any that a failed or interrupted entry left behind, deepest first.
    awk -v p="$workdir/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r |
      while read -r m; do umount -l "$m"; done
    if [ "${HARDBASE_FRESH_KEEP:-}" = 1 ]; then
      say "kept the root in $workdir/root (HARDBASE_FRESH_KEEP=1)"
    else
      # --one-file-system: never reach through a mount that somehow survived into the host.
      rm -rf --one-file-system "$workdir"
    fi
  fi
  say "log: $log"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "fresh-debian: interrupted" >&2; exit 130' INT
trap 'echo "fresh-debian: interrupted" >&2; exit 143' TERM

# ---- 1. the bootstrapped root, from the cache or made now ----
begin "bootstrap"
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  # Only files that name something: mmdebstrap takes each as a source list.
  [ -f "$f" ] && grep -qvE '^[[:space:]]*(#.*)?$' "$f" && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || fail "the host has no apt sources (/etc/apt/sources.list{,.d/})"
# minbase: the essential packages and apt, nothing else; everything more is the project's scripts'
# job. The one addition, only where the host's sources are https: ca-certificates, without which
# apt cannot reach them at all, and which a machine installed from such a mirror always has. (With
# http sources apt needs nothing more, and install-deps.sh installs ca-certificates itself.)
mmdebstrap_args=(--variant=minbase)
if grep -qiE '(^|[[:space:]])https://' "${sources[@]}"; then
  mmdebstrap_args+=(--include=ca-certificates)
fi
mmdebstrap_args+=(bookworm)
key=$({
  mmdebstrap --version
  printf '%s\n' "${mmdebstrap_args[@]}"
  for f in "${sources[@]}"; do echo "== $f"; cat "$f"; done
} | sha256sum | cut -c1-16)
tarball="$cache/debian12-minbase-$key.tar"
exec 9>"$cache/.lock"
flock 9 # one bootstrap at a time; concurrent runs then share it
# Roots of other keys (other sources) that are a week old are not wanted any more.
find "$cache" -maxdepth 1 -name 'debian12-minbase-*.tar' -mmin +$((7 * 24 * 60)) -delete
if [ -f "$tarball" ]; then
  say "cache hit: $tarball ($(date -r "$tarball" '+%F %T'))"
  phase_name="bootstrap (cache hit)"
else
  say "bootstrapping Debian 12 minbase into $tarball (log: $log)"
  partial="$cache/.partial-$$.tar"
  if ! mmdebstrap "${mmdebstrap_args[@]}" "$partial" "${sources[@]}" >>"$log" 2>&1; then
    rm -f "$partial"
    fail "mmdebstrap ${mmdebstrap_args[*]} failed"
  fi
  mv "$partial" "$tarball"
  phase_name="bootstrap (cache miss, made)"
fi
# Shared from here until it is unpacked: another run may not remake it under us.
flock -s 9
end

# ---- 2. a fresh copy of it, and a clean clone of the repository ----
begin "unpack and clone"
workdir=$(mktemp -d "$tmpbase/hardbase-fresh-debian.XXXXXX")
root="$workdir/root"
mkdir "$root"
tar -xpf "$tarball" -C "$root" --numeric-owner --xattrs --xattrs-include='*'
exec 9>&-
# What the machine's own network set-up would have given it.
rm -f "$root/etc/resolv.conf" "$root/etc/hosts"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
[ -f /etc/hosts ] && cp -L /etc/hosts "$root/etc/hosts"
clone="$root/root/hardbase"
commit_clone() {
  git -C "$clone" add -A
  if ! git -C "$clone" diff --cached --quiet; then
    git -C "$clone" -c user.name="fresh-debian test" -c user.email=fresh-debian@localhost \
      -c commit.gpgsign=false commit -q --no-verify -m "$1" >>"$log" 2>&1
  fi
}
if [ "$is_git" = 0 ]; then
  say "$repo is not a git checkout: testing a copy of its tree, without build outputs"
  mkdir -p "$clone"
  tar -C "$repo" --exclude='./build*' --exclude=./out --exclude=node_modules --exclude=.cache \
    --exclude=./tests/npm/.runtime -cf - . | tar -xpf - --no-same-owner -C "$clone"
  git -C "$clone" init -q >>"$log" 2>&1
  commit_clone "tree of $repo"
elif ! hgit clone -q --no-local "$repo" "$clone" >>"$log" 2>&1; then
  fail "git clone --no-local $repo failed"
elif [ "${HARDBASE_FRESH_WORKTREE:-}" = 1 ]; then
  say "HARDBASE_FRESH_WORKTREE=1: testing the working tree of $repo, not its HEAD"
  # Tracked files as they are now, and untracked files that are not ignored; ignored ones
  # (build/, out/ ...) stay out, as in a clone.
  (
    cd "$repo"
    hgit ls-files -z --deleted | (cd "$clone" && xargs -0 -r rm -f --)
    hgit ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -xpf - --no-same-owner -C "$clone"
  )
  commit_clone "working tree of $repo"
fi
say "testing $(git -C "$clone" log -1 --format='%h %s')"
end

# Runs the bash command $1 as root inside the root: a private mount and PID namespace (every
# process of the entry dies with it), the root bind-mounted onto itself, kernel file systems and
# a minimal /dev mounted in it, then pivot_root into it and the old root unmounted, so that
# nothing of the host is reachable any more (unlike chroot, user namespaces work inside). The
# command runs in a new session (no controlling terminal), with no input and a clean
# environment. Its stdout goes to stdout, its stderr to stderr.
# shellcheck disable=SC2016 # expanded by the inner bash
enter='
set -euo pipefail
root=$1 cmd=$2
mount --bind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys" 2>/dev/null ||
  { mount --rbind /sys "$root/sys" && mount -o remount,bind,ro "$root/sys"; }
mount -t tmpfs -o nosuid,mode=0755,size=1m dev "$root/dev"
for d in null zero full random urandom tty; do
  : >"$root/dev/$d"
  mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=0755 run "$root/run"
mkdir -m 1777 "$root/run/lock"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp "$root/tmp"
mkdir "$root/run/old-root"
cd "$root"
pivot_root . run/old-root
cd /
umount -l /run/old-root
rmdir /run/old-root
umask 022
rc=0
setsid -w env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  TERM=dumb /bin/bash -c "$cmd" </dev/null || rc=$?
exit $rc
'
enter_root=(unshare --mount --propagation private --pid --fork --kill-child --
  /bin/bash -c "$enter" enter "$root")
in_root() { "${enter_root[@]}" "$1" </dev/null; }

# ---- 3. the main job ----
begin "main job"
say "running scripts/main-job.sh in the fresh root (log: $log)"
echo "==== fresh-debian: cd /root/hardbase && scripts/main-job.sh" >>"$log"
rc=0
# In the background, so that a signal to this script (a CI timeout) ends it at once: $! is
# unshare itself.
"${enter_root[@]}" 'cd /root/hardbase && scripts/main-job.sh' </dev/null >>"$log" 2>&1 &
job=$!
wait "$job" || rc=$?
job=""
end
[ "$rc" -eq 0 ] || fail "scripts/main-job.sh exited with $rc"
grep -q '^pushed, pinned and verified as ' "$log" ||
  fail "scripts/main-job.sh exited 0 but did not print its last line ('pushed, pinned and verified as ...')"
[ -f "$clone/out/java17/index.json" ] || fail "scripts/main-job.sh did not write out/java17/index.json"
say "main job passed; its last lines:"
tail -n 3 "$log" | sed 's/^/  | /'

# ---- 4. the clone stays clean ----
begin "clone stays clean"
echo "==== fresh-debian: git status --porcelain" >>"$log"
if in_root 'command -v git' >/dev/null 2>>"$log"; then
  status=$(in_root 'git -C /root/hardbase status --porcelain --untracked-files=all' 2>>"$log") ||
    fail "git status in the root failed"
else
  say "no git in the root: checking the clone with the host's git"
  status=$(git -C "$clone" status --porcelain --untracked-files=all 2>>"$log") ||
    fail "git status on $clone failed"
fi
end
if [ -n "$status" ]; then
  printf '%s\n' "$status" >>"$log"
  fail "the main job left the clone unclean (git status --porcelain):
$status"
fi

# ---- 5. cmake --install puts hardbase on PATH ----
begin "install"
version=$(sed -nE 's/^project\(hardbase VERSION ([^ )]+).*/\1/p' "$clone/CMakeLists.txt" || true)
[ -n "$version" ] || fail "no version in CMakeLists.txt's project()"
echo "==== fresh-debian: cmake --install build" >>"$log"
rc=0
in_root 'cd /root/hardbase && cmake --install build' >>"$log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "cmake --install build exited with $rc"
echo "==== fresh-debian: command -v hardbase; hardbase --version" >>"$log"
path=$(in_root 'command -v hardbase' 2>>"$log" || true)
echo "$path" >>"$log"
[ "$path" = /usr/local/bin/hardbase ] ||
  fail "after cmake --install build, \`command -v hardbase\` is '$path', not /usr/local/bin/hardbase"
rc=0
got=$(in_root 'hardbase --version' 2>>"$log") || rc=$?
echo "$got" >>"$log"
[ "$rc" -eq 0 ] || fail "hardbase --version exited with $rc"
[ "$got" = "hardbase $version" ] || fail "hardbase --version printed '$got', not 'hardbase $version'"
end
say "installed: $path, $got"

say "PASSED: the main job works on a fresh Debian 12 (minbase) root"
