#!/usr/bin/env bash
# Builds (incrementally: quick when nothing changed), then runs `sceald` with
# the given arguments, e.g. `./scripts/run.sh train --with-baseline`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" > "$root/build.log" 2>&1 || { tail -n 40 "$root/build.log" >&2; exit 1; }
exec "$root/build/sceald" "$@"
