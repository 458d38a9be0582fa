// Activation kernels on the GPU, twins of kernels/cpu/activation.h: ReLU,
// sigmoid, PReLU and dropout, forward and backward. Contiguous device
// arrays, T = float or double; outputs are overwritten; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace sceald::kernels::cuda {

// y = max(x, 0).
template <typename T>
void relu_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream);
// y: the forward output; gx = y > 0 ? g : 0.
template <typename T>
void relu_backward(const T* y, const T* g, T* gx, std::int64_t n, cudaStream_t stream);
// y = 1 / (1 + exp(-x)), computed without overflow.
template <typename T>
void sigmoid_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream);
// y: the forward output; gx = g y (1 - y).
template <typename T>
void sigmoid_backward(const T* y, const T* g, T* gx, std::int64_t n, cudaStream_t stream);

// x, y [outer, channels, inner]; weight [channels]: y = x > 0 ? x : weight[c] x.
template <typename T>
void prelu_forward(const T* x, const T* weight, T* y, std::int64_t outer, std::int64_t channels, std::int64_t inner,
                   cudaStream_t stream);
// Scratch bytes prelu_backward's weight gradient needs: one double per
// (outer, channel) plane when outer > 1, else 0.
std::size_t prelu_grad_weight_scratch_bytes(std::int64_t outer, std::int64_t channels);
// gx = g (x > 0 ? 1 : weight[c]); grad_weight[c] = sum over x <= 0 of g x
// (double accumulation, fixed order: each (outer, channel) plane, then the
// planes in order). Either output may be null; `scratch` holds
// prelu_grad_weight_scratch_bytes bytes of device memory when grad_weight is
// wanted.
template <typename T>
void prelu_backward(const T* x, const T* weight, const T* g, T* gx, T* grad_weight, std::int64_t outer,
                    std::int64_t channels, std::int64_t inner, double* scratch, cudaStream_t stream);

// The same mask as kernels::cpu::dropout_forward for the same (seed, start):
// mask[i] = u_i >= p ? 1 / (1 - p) : 0 with u_i from Philox word i; y = x mask.
template <typename T>
void dropout_forward(const T* x, T* y, T* mask, std::int64_t n, std::uint64_t seed, std::uint64_t start, double p,
                     cudaStream_t stream);

}  // namespace sceald::kernels::cuda
