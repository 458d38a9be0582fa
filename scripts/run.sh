#!/usr/bin/env bash
# Builds if needed, then runs `sceald` with the given arguments.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/build/sceald" ]; then
  "$root/scripts/build.sh" >&2
fi
if [ ! -x "$root/build/sceald" ]; then
  echo "run.sh: the sceald command line is not built yet (it lands with the SCE-ALD issue)" >&2
  exit 2
fi
exec "$root/build/sceald" "$@"
