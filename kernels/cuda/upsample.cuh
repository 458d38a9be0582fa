// Nearest-neighbour resampling on the GPU, twin of kernels/cpu/upsample.h
// (PyTorch's 'nearest' source index, float32 scale included). planes = N * C
// contiguous planes; device memory, T = float or double; queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// x [planes, H, W] -> out [planes, oh, ow] (overwritten): out(i, j) = x(src(i), src(j)).
template <typename T>
void upsample_nearest2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                std::int64_t ow, T* out, cudaStream_t stream);
// grad_x [planes, H, W] (overwritten) = the sum of grad_out over the outputs
// that copied each input, added in the CPU's order (gathered, no atomics).
template <typename T>
void upsample_nearest2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                 std::int64_t oh, std::int64_t ow, T* grad_x, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
