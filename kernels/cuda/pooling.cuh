// Pooling on the GPU, twins of kernels/cpu/pooling.h: the same geometry
// (kernels::cpu::PoolGeometry), the same tie and NaN rules, planes = N * C
// contiguous H x W planes; device memory, T = float or double; work queued
// on `stream`. Both backward kernels gather (one thread per input element,
// visiting its windows in the CPU's order) instead of scattering with atomics,
// so they are deterministic and add in the same order as the CPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cpu/pooling.h"

namespace sceald::kernels::cuda {

using cpu::PoolGeometry;

// x [planes, H, W] -> out, argmax [planes, Ho, Wo] (overwritten); argmax is
// the flat h * W + w of the window's maximum (first on ties, last NaN wins).
template <typename T>
void max_pool2d_forward(const T* x, std::int64_t planes, const PoolGeometry& g, T* out, std::int64_t* argmax,
                        cudaStream_t stream);
// grad_x [planes, H, W] (overwritten) = sum of grad_out over the windows whose argmax is that element.
template <typename T>
void max_pool2d_backward(const T* grad_out, const std::int64_t* argmax, std::int64_t planes, const PoolGeometry& g,
                         T* grad_x, cudaStream_t stream);

// x [planes, H, W] -> out [planes, oh, ow] (overwritten): each bin's mean.
template <typename T>
void adaptive_avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                 std::int64_t ow, T* out, cudaStream_t stream);
// grad_x [planes, H, W] (overwritten) = sum over the bins holding the element of grad_out / bin size.
template <typename T>
void adaptive_avg_pool2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                  std::int64_t oh, std::int64_t ow, T* grad_x, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
