// Sums on the GPU (twins of kernels/cpu/reduce.h), accumulated in double for
// float and double alike, in a fixed order: the same input always gives the
// same bits. T = float or double; device memory; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace sceald::kernels::cuda {

// Scratch bytes sum_middle_axis needs for this shape (0 for most shapes; a
// few long reductions are split in two passes through a double buffer).
std::size_t sum_middle_axis_scratch_bytes(std::int64_t outer, std::int64_t reduce, std::int64_t inner);

// x contiguous [outer, reduce, inner] -> out [outer, inner] (overwritten):
// the sum over the middle axis. `scratch` holds sum_middle_axis_scratch_bytes
// bytes of device memory (may be null when that is 0).
template <typename T>
void sum_middle_axis(const T* x, T* out, std::int64_t outer, std::int64_t reduce, std::int64_t inner, double* scratch,
                     cudaStream_t stream);

// Scratch bytes sum_per_channel needs: one double per (image, channel) when
// n > 1 (the per-plane sums of the first pass), else 0.
std::size_t sum_per_channel_scratch_bytes(std::int64_t n, std::int64_t channels, std::int64_t inner);

// x contiguous [n, channels, inner] -> out [channels] (overwritten): the sum
// over n and inner of each channel (e.g. a convolution's bias gradient), in
// two passes: each (image, channel) plane, then the planes in image order.
// `scratch` holds sum_per_channel_scratch_bytes bytes of device memory.
template <typename T>
void sum_per_channel(const T* x, T* out, std::int64_t n, std::int64_t channels, std::int64_t inner, double* scratch,
                     cudaStream_t stream);

}  // namespace sceald::kernels::cuda
