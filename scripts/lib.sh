# Helpers shared by scripts/test-all and scripts/bench (sourced, not run).
# Sets REPO (repository root) and provides:
#   target_dir      cargo's target dir (CARGO_TARGET_DIR, else cargo metadata, else <repo>/target)
#   shared_dir      the project's shared/ dir (POCKETBUN_SHARED, else <repo>/../shared,
#                   else <origin>/../shared for a local clone such as `git clone . /tmp/x`)
#   elapsed SINCE   seconds since a `date +%s%N` stamp, e.g. "12.3"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${HOME:=$(cd ~ && pwd)}"

target_dir() {
  local t="${CARGO_TARGET_DIR:-}"
  if [ -z "$t" ]; then
    # honours a build.target-dir from .cargo/config.toml; fails while the workspace is broken
    t="$(cd "$REPO" && cargo metadata --no-deps --format-version 1 2>/dev/null \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null)" || t=""
    [ -n "$t" ] || t="target"
  fi
  case "$t" in /*) ;; *) t="$REPO/$t" ;; esac
  printf '%s\n' "$t"
}

shared_dir() {
  if [ -n "${POCKETBUN_SHARED:-}" ]; then
    (cd "$POCKETBUN_SHARED" 2>/dev/null && pwd) || printf '%s\n' "$POCKETBUN_SHARED"
    return
  fi
  local d="$REPO/../shared" origin
  if [ ! -d "$d" ]; then
    origin="$(git -C "$REPO" config --get remote.origin.url 2>/dev/null || true)"
    origin="${origin#file://}"
    case "$origin" in
      /*) if [ -d "$origin/../shared" ]; then
            echo "note: $d missing, using $origin/../shared (beside this clone's origin)" >&2
            d="$origin/../shared"
          fi ;;
    esac
  fi
  (cd "$d" 2>/dev/null && pwd) || printf '%s\n' "$(cd "$REPO/.." && pwd)/shared"
}

elapsed() {
  local now; now=$(date +%s%N)
  awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}
