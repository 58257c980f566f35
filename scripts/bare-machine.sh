#!/usr/bin/env bash
# The README's promise on a machine that has Node and npm only, made real on this one (run as root;
# .ci/run does, after its own run):
#   - a fresh `git clone` of REPO (default: this repository's committed HEAD) in a temp dir, owned
#     by an unprivileged user (BARE_USER, default nobody);
#   - a private mount namespace in which chromium, libfaketime and the PostgreSQL server binaries
#     are not there: /usr is an overlay whose upper layer has a whiteout for each of them, so they
#     are absent (ENOENT) as on a machine that never installed them (checked before the run);
#   - as that user, with a clean environment (no AIRLOCK_TEST_DATABASE_URL, no
#     AIRLOCK_CHROMIUM_PATH): `npm ci && npm test`, which must be green; the skipped tests are then
#     listed with the suites' own "SKIPPED" lines (scripts/check-skips.mjs --allow);
#   - `npm pack` of that clone installs, runs and imports (scripts/check-pack.mjs).
# npm's user config (e.g. nodedir for native builds) and a copy of its cache go with the user, so
# `npm ci` fetches only what the cache lacks.
#
#   scripts/bare-machine.sh [REPO]
set -euo pipefail

repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
user="${BARE_USER:-nobody}"
[ "$(id -u)" = 0 ] || { echo "bare-machine: run as root (it mounts and changes users)" >&2; exit 2; }
id "$user" >/dev/null

if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "bare-machine: note: $repo has uncommitted changes; this tests commit $(git -C "$repo" rev-parse --short HEAD)"
fi

bare="$(mktemp -d /tmp/airlock-bare.XXXXXX)"
trap 'rm -rf "$bare"' EXIT
git clone --quiet --no-local "$repo" "$bare/airlock" # --no-local: a real clone, no hard links to $repo
echo "bare-machine: fresh clone of $(git -C "$bare/airlock" rev-parse --short HEAD) in $bare/airlock, user $user"
mkdir -p "$bare/home/.npm" "$bare/tmp" "$bare/usr/upper" "$bare/usr/work"
userconfig="$(npm config get userconfig)"
if [ -f "$userconfig" ]; then cp "$userconfig" "$bare/home/.npmrc"; fi
cache="$(npm config get cache)"
if [ -d "$cache/_cacache" ]; then cp -a "$cache/_cacache" "$bare/home/.npm/"; fi
chown -R "$user:$(id -gn "$user")" "$bare/airlock" "$bare/home" "$bare/tmp"
chmod 0755 "$bare"

# What a machine with Node and npm only does not have, as overlay whiteouts (0/0 character devices).
hidden=(/usr/bin/chromium /usr/bin/chromium-browser /usr/lib/chromium /usr/bin/faketime
  /usr/lib/x86_64-linux-gnu/faketime /usr/lib/aarch64-linux-gnu/faketime /usr/lib/faketime
  /usr/local/lib/faketime /usr/lib/postgresql)
for tool in initdb pg_ctl postgres; do
  if found="$(command -v "$tool")"; then hidden+=("$(realpath -s "$found")"); fi
done
for path in "${hidden[@]}"; do
  if [[ "$path" == /usr/* && -e "$path" ]]; then
    mkdir -p "$bare/usr/upper/$(dirname "${path#/usr/}")"
    mknod "$bare/usr/upper/${path#/usr/}" c 0 0
  fi
done

# In the namespace, as root: lay the overlay and prove the tools are gone; then become the user
# with a clean environment.
export BARE="$bare" BARE_USER="$user" BARE_PATH="$PATH"
unshare --mount --propagation private -- bash -euo pipefail -c '
  mount -t overlay airlock-bare -o "lowerdir=/usr,upperdir=$BARE/usr/upper,workdir=$BARE/usr/work" /usr
  for tool in chromium faketime initdb pg_ctl; do
    if command -v "$tool" >/dev/null; then echo "bare-machine: $tool is still there" >&2; exit 1; fi
  done
  if [ -e /usr/lib/postgresql ] || compgen -G "/usr/lib/*/faketime" >/dev/null || [ -e /usr/lib/faketime ]; then
    echo "bare-machine: PostgreSQL or libfaketime is still there" >&2
    exit 1
  fi
  echo "bare-machine: absent here: chromium, libfaketime, PostgreSQL server binaries"
  exec setpriv --reuid="$BARE_USER" --regid="$(id -g "$BARE_USER")" --clear-groups \
    env -i PATH="$BARE_PATH" HOME="$BARE/home" TMPDIR="$BARE/tmp" LANG=C.UTF-8 \
    bash -euo pipefail -c "
      cd \"$BARE/airlock\"
      echo \"bare-machine: as \$(id -un) (uid \$(id -u)), AIRLOCK_ variables: \$(env | grep -c ^AIRLOCK_ || true)\"
      npm ci --no-audit --no-fund
      mkdir -p test-artifacts
      npm test -- --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json 2>&1 |
        tee test-artifacts/vitest.log
      node scripts/check-skips.mjs test-artifacts/vitest.json --log test-artifacts/vitest.log --allow --label bare
      node scripts/check-pack.mjs
    "
'
