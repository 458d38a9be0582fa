#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite with ctest.
# GPU tests (label `gpu`) skip with a visible message where no GPU is present.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" "$@"
# Busy-waiting OpenMP threads crawl when ctest runs tests side by side on few cores.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
