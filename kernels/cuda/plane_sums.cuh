// Per-channel sums of a term over a [n, channels, inner] layout, in two
// passes (device code; include from .cu only): one block per (image,
// channel) plane sums its inner values, which are contiguous (coalesced
// reads, no index division per element), then each channel adds its planes
// in image order. One block per plane keeps the GPU busy where one block per
// channel would not (VGG16's conv1: 64 channels for 132 SMs).
//
// `term(j)` is the double added for flat element j. The kernels have
// internal linkage: each .cu that includes this keeps its own
// instantiations (kernel templates are not shared across translation units
// without relocatable device code). The launches stay in the .cu files, where
// the host emulation (cmake/CudaEmulation.cmake) rewrites them: plane_sums_kernel
// on grid_for(n * channels, 1) blocks, then, when n > 1,
// channel_partials_kernel on grid_for(channels).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/launch.cuh"

namespace sceald::kernels::cuda {

namespace {

// Plane (b, c): the sum of term over its inner elements, written to
// partial[c * n + b], or, with n == 1, as the value out[c].
template <typename T, typename Term>
__global__ void plane_sums_kernel(Term term, T* out, double* partial, std::int64_t n, std::int64_t channels,
                                  std::int64_t inner) {
  __shared__ double shared[kThreads];
  for (std::int64_t plane = blockIdx.x; plane < n * channels; plane += gridDim.x) {
    double acc = 0.0;
    for (std::int64_t i = threadIdx.x; i < inner; i += kThreads) acc += term(plane * inner + i);
    const double total = block_sum(acc, shared);
    if (threadIdx.x == 0) {
      const std::int64_t b = plane / channels, c = plane % channels;
      if (n == 1)
        out[c] = static_cast<T>(total);
      else
        partial[c * n + b] = total;
    }
  }
}

// Second pass: out[c] = the sum of partial[c, 0..n) in image order.
template <typename T>
__global__ void channel_partials_kernel(const double* partial, T* out, std::int64_t n, std::int64_t channels) {
  for (std::int64_t c = global_index(); c < channels; c += global_stride()) {
    double acc = 0.0;
    for (std::int64_t b = 0; b < n; ++b) acc += partial[c * n + b];
    out[c] = static_cast<T>(acc);
  }
}

// Scratch bytes the first pass needs: one double per plane when n > 1.
inline std::size_t plane_sums_scratch_bytes(std::int64_t n, std::int64_t channels) {
  return n > 1 ? static_cast<std::size_t>(n * channels) * sizeof(double) : 0;
}

}  // namespace

}  // namespace sceald::kernels::cuda
