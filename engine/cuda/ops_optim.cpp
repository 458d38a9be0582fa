// CUDA entry points: the fused optimiser updates.
#ifdef SCEALD_WITH_CUDA

#include <cmath>

#include "engine/cuda/op_support.h"
#include "engine/cuda/ops.h"
#include "kernels/cuda/optim.cuh"

namespace sceald::cuda_ops {

namespace kc = kernels::cuda;

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first_step, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov) {
  run_op("SGD step", p.dtype(), {&p, &g, &buf}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::sgd_update<T>(ptr<T>(p), ptr<const T>(g), ptr<T>(buf), first_step, p.numel(), lr, momentum, dampening,
                      weight_decay, nesterov, stream);
  });
}

void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamScalars& s) {
  // The per-step constants, as engine/optim/adam.cpp computes them.
  const double t = static_cast<double>(s.step);
  kc::AdamStep step{};
  step.step_size = s.lr / (1.0 - std::pow(s.beta1, t));
  step.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(s.beta2, t));
  step.beta1 = s.beta1;
  step.beta2 = s.beta2;
  step.eps = s.eps;
  step.weight_decay = s.weight_decay;
  step.decay = 1.0 - s.lr * s.weight_decay;
  step.decoupled = s.decoupled;
  run_op("Adam step", p.dtype(), {&p, &g, &m, &v}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::adam_update<T>(ptr<T>(p), ptr<const T>(g), ptr<T>(m), ptr<T>(v), p.numel(), step, stream);
  });
}

}  // namespace sceald::cuda_ops

#endif  // SCEALD_WITH_CUDA
