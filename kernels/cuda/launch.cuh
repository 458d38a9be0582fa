// Launch helpers shared by the .cu files (device code; include from .cu only).
//
// Element-wise kernels use grid-stride loops over int64 indices, so any size
// runs with a bounded grid. Reductions use fixed-order tree sums in shared
// memory (no atomics), so every result is the same from run to run.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.cuh"

namespace sceald::kernels::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (at least one, at most 2^20).
inline unsigned grid_for(std::int64_t n, int threads = kThreads) {
  const std::int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, std::int64_t{1} << 20));
}

__device__ inline std::int64_t global_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline std::int64_t global_stride() { return static_cast<std::int64_t>(blockDim.x) * gridDim.x; }

// The sum of `v` over the block's kThreads threads, in a fixed order; every
// thread gets the result. `shared` holds kThreads doubles. Call from all threads.
__device__ inline double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();  // shared may be reused right after
  return total;
}

}  // namespace sceald::kernels::cuda
