// Fused optimiser updates on the GPU: one pass over each parameter, twins of
// the loops in engine/optim/sgd.cpp and adam.cpp (same order of operations;
// the host computes the per-step scalars exactly as the CPU does). All
// arrays contiguous device memory of n elements, updated in place; T = float
// or double; work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// d = g + weight_decay p; buf = first_step ? d : momentum buf + (1 - dampening) d
// (buf null: no momentum); d = nesterov ? d + momentum buf : buf; p -= lr d.
template <typename T>
void sgd_update(T* p, const T* g, T* buf, bool first_step, std::int64_t n, double lr, double momentum, double dampening,
                double weight_decay, bool nesterov, cudaStream_t stream);

// The per-step constants of Adam and AdamW, computed on the host in double
// and rounded to T as the CPU loop does.
struct AdamStep {
  double step_size;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  double beta1, beta2, eps, weight_decay;
  double decay;    // 1 - lr weight_decay (AdamW)
  bool decoupled;  // AdamW
};

// AdamW: p *= decay; Adam: g += weight_decay p. Then
// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
// p -= step_size m / (sqrt(v) / bias_correction2_sqrt + eps).
template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, std::int64_t n, const AdamStep& s, cudaStream_t stream);

}  // namespace sceald::kernels::cuda
