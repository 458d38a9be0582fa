#!/usr/bin/env bash
# Memchecks without a GPU, in build-memcheck/ (AddressSanitizer + UBSan, -O1):
#
#   scripts/memcheck.sh emulated-gpu   the GPU suite on the emulated device
#       (scripts/test-emulated-gpu.sh) with SCEALD_CUDA_NO_CACHE=1, so that
#       every device tensor is a heap block of exactly its size: a kernel,
#       cuBLAS or cuDNN access past a tensor's end is reported with its source
#       line. Threads run on the thread pool there (fibers are off under
#       AddressSanitizer), so the CPU-vs-GPU training run, which takes tens of
#       minutes that way, is left out.
#   scripts/memcheck.sh main           the main suite (sceald_tests) and the
#       command line's bad-input check (tests/cli/bad_input.sh).
#   scripts/memcheck.sh all            both.
#
# Not part of scripts/test.sh: the sanitised build and runs take tens of
# minutes on 2 cores. Arguments after the mode go to cmake's configure step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-emulated-gpu}"
shift || true
case "$mode" in
  emulated-gpu | main | all) ;;
  *) echo "memcheck.sh: unknown mode '$mode' (emulated-gpu, main or all)" >&2; exit 2 ;;
esac
"$root/scripts/install-deps.sh"
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$root/build-memcheck" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCEALD_CUDA=OFF \
  -DSCEALD_CUDA_EMULATION=ON -DSCEALD_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" "$@"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$root/build-memcheck"
if [[ "$mode" != main ]]; then
  cmake --build . -j "$(nproc)" --target sceald_gpu_tests sceald_emulated_device_tests
  SCEALD_CUDA_NO_CACHE=1 ./tests/sceald_emulated_device_tests
  SCEALD_CUDA_NO_CACHE=1 ./tests/sceald_gpu_tests --gtest_filter='-GpuTraining.FollowsTheCpuRunAndSavesCpuCheckpoints'
fi
if [[ "$mode" != emulated-gpu ]]; then
  cmake --build . -j "$(nproc)" --target sceald_tests sceald
  ./tests/sceald_tests
  bash "$root/tests/cli/bad_input.sh" ./sceald
fi
echo "memcheck ($mode): no out-of-bounds access, leak or undefined behaviour reported"
