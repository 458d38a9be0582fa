// Softmax, log-softmax and the fused cross-entropies on the GPU, twins of
// kernels/cpu/softmax.h (same formulas, the same double accumulation).
// Contiguous device arrays, T = float or double; outputs overwritten; work
// queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// x, y [outer, axis, inner]: y = softmax(x) (log-softmax when log_output)
// along the middle axis, each line shifted by its maximum.
template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t outer, std::int64_t axis, std::int64_t inner, bool log_output,
                     cudaStream_t stream);
// softmax:     gx = y (g - sum_k g_k y_k)
// log-softmax: gx = g - exp(y) sum_k g_k
template <typename T>
void softmax_backward(const T* y, const T* g, T* gx, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                      bool log_output, cudaStream_t stream);

// logits, log_probs [n, c]; labels [n] (device, each already checked to lie
// in [0, c)). Writes log_probs = log-softmax(logits) and loss[0] = the mean
// over rows of -log_probs[i, labels[i]] (summed in double, one device scalar).
template <typename T>
void cross_entropy_forward(const T* logits, const std::int64_t* labels, T* log_probs, T* loss, std::int64_t n,
                           std::int64_t c, cudaStream_t stream);
// grad [n, c] = (grad_loss[0] / n) (softmax - onehot(labels)); grad_loss is
// the device scalar dL/dloss.
template <typename T>
void cross_entropy_backward(const T* log_probs, const std::int64_t* labels, const T* grad_loss, T* grad, std::int64_t n,
                            std::int64_t c, cudaStream_t stream);

// The same with target distributions t [n, c]: loss[0] = mean_i -sum_k t log_probs;
// grad = (grad_loss[0] / n) (softmax sum_k t_k - t), row by row.
template <typename T>
void soft_cross_entropy_forward(const T* logits, const T* target, T* log_probs, T* loss, std::int64_t n, std::int64_t c,
                                cudaStream_t stream);
template <typename T>
void soft_cross_entropy_backward(const T* log_probs, const T* target, const T* grad_loss, T* grad, std::int64_t n,
                                 std::int64_t c, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
