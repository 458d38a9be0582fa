// Batch normalisation on the GPU, twin of kernels/cpu/batch_norm.h: channel
// axis 1 of a contiguous [n, channels, inner] view; per-channel sums in
// double, in a fixed order. Device memory, T = float or double; outputs
// overwritten unless said otherwise; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace sceald::kernels::cuda {

// Device scratch that batch_norm_statistics and batch_norm_backward need:
// per-channel doubles and one partial sum per (image, channel) plane (the
// sums run over planes first, then over each channel's planes in order).
std::size_t batch_norm_scratch_bytes(std::int64_t n, std::int64_t channels);

// mean, biased_var [channels]: two passes over x, as on the CPU (the mean,
// then the squares about it). `scratch`: batch_norm_scratch_bytes bytes.
template <typename T>
void batch_norm_statistics(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, T* mean,
                           T* biased_var, double* scratch, cudaStream_t stream);
// running_mean, running_var updated in place with PyTorch's rule (unbiased
// variance, count = values per channel > 1).
template <typename T>
void batch_norm_update_running(const T* mean, const T* biased_var, std::int64_t channels, std::int64_t count,
                               double momentum, T* running_mean, T* running_var, cudaStream_t stream);
// In place: var[c] = 1 / sqrt(var[c] + eps), computed in double.
template <typename T>
void batch_norm_inverse_std(T* var, std::int64_t channels, double eps, cudaStream_t stream);
// y = (x - mean) inv_std weight + bias; weight, bias may be null (1, 0).
template <typename T>
void batch_norm_forward(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, const T* mean,
                        const T* inv_std, const T* weight, const T* bias, T* y, cudaStream_t stream);
// The gradients of kernels::cpu::batch_norm_backward (same formulas, same
// meaning of batch_stats); weight may be null; any grad_* may be null.
// `scratch`: batch_norm_scratch_bytes bytes of device memory.
template <typename T>
void batch_norm_backward(const T* g, const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner,
                         const T* mean, const T* inv_std, const T* weight, bool batch_stats, T* grad_x, T* grad_weight,
                         T* grad_bias, double* scratch, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
