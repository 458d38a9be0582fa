#!/usr/bin/env bash
# Configures and builds into build/ (CUDA on when the toolkit and cuDNN are
# found; pass -DSCEALD_CUDA=OFF to force a CPU-only build). Extra arguments
# go to cmake's configure step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$root/build" -j "$(nproc)"
