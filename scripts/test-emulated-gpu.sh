#!/usr/bin/env bash
# Runs the GPU test suite (tests/gpu) on the emulated device: the engine's
# CUDA backend built against the host emulation of tests/cuda_emulation
# (stand-in CUDA runtime, cuBLAS and cuDNN; the real kernels on CPU threads),
# in its own folder build-emulated/. Needs no GPU and no CUDA toolkit. It
# checks the host side of the backend (allocator, copies, op wiring, cuBLAS
# operand order, cuDNN descriptors and algorithm choice) and the kernels'
# logic; it is no measurement of a GPU and no substitute for tests/gpu on one.
# Extra arguments go to cmake's configure step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build-emulated" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCEALD_CUDA=OFF \
  -DSCEALD_CUDA_EMULATION=ON -DSCEALD_BUILD_BENCH=OFF "$@"
cmake --build "$root/build-emulated" -j "$(nproc)" --target sceald_gpu_tests sceald_emulated_device_tests
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$root/build-emulated"
ctest --output-on-failure -L emulated_gpu -j "$(nproc)" --timeout 600
