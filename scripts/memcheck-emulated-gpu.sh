#!/usr/bin/env bash
# A memcheck of the CUDA kernels without a GPU: the GPU suite on the emulated
# device (scripts/test-emulated-gpu.sh), built with AddressSanitizer and
# UBSan into build-memcheck/, with SCEALD_CUDA_NO_CACHE=1 so that every device
# tensor is a heap block of exactly its size: a kernel, cuBLAS or cuDNN
# access past a tensor's end is reported with its source line. Threads run on
# the thread pool there (fibers are off under AddressSanitizer), so the
# CPU-vs-GPU training run, which takes tens of minutes that way, is left out.
# Not part of scripts/test.sh (the sanitised build takes some minutes more).
# Extra arguments go to cmake's configure step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$root/build-memcheck" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCEALD_CUDA=OFF \
  -DSCEALD_CUDA_EMULATION=ON -DSCEALD_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" "$@"
cmake --build "$root/build-memcheck" -j "$(nproc)" --target sceald_gpu_tests sceald_emulated_device_tests
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" SCEALD_CUDA_NO_CACHE=1
cd "$root/build-memcheck/tests"
./sceald_emulated_device_tests
./sceald_gpu_tests --gtest_filter='-GpuTraining.FollowsTheCpuRunAndSavesCpuCheckpoints'
echo "memcheck: no out-of-bounds access, leak or undefined behaviour reported"
