#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite with ctest:
# first the GPU suite on the emulated device (scripts/test-emulated-gpu.sh,
# its own build folder; SCEALD_SKIP_EMULATED_GPU=1 leaves it out), then all
# suites of build/. GPU tests (label `gpu`) skip with a visible message where
# no GPU is present.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" "$@"
# Busy-waiting OpenMP threads crawl when ctest runs tests side by side on few cores.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
if [ "${SCEALD_SKIP_EMULATED_GPU:-0}" != 1 ]; then
  "$root/scripts/test-emulated-gpu.sh"
else
  echo "test.sh: SCEALD_SKIP_EMULATED_GPU=1: the GPU suite on the emulated device is left out"
fi
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
