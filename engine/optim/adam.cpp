#include "engine/optim/adam.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/cuda/ops.h"
#include "engine/cuda/param_grad.h"
#include "engine/error.h"

namespace sceald::optim {

Adam::Adam(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay)
    : Adam(std::move(params), lr, betas, eps, weight_decay, false, "Adam") {}

AdamW::AdamW(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay)
    : Adam(std::move(params), lr, betas, eps, weight_decay, true, "AdamW") {}

Adam::Adam(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay,
           bool decoupled, const char* name)
    : Optimizer(std::move(params), lr, name), betas(betas), eps(eps), weight_decay(weight_decay),
      decoupled_(decoupled) {
  SCEALD_CHECK(eps >= 0.0, name, ": invalid epsilon ", eps);
  SCEALD_CHECK(betas.first >= 0.0 && betas.first < 1.0, name, ": invalid beta1 ", betas.first, " (needs [0, 1))");
  SCEALD_CHECK(betas.second >= 0.0 && betas.second < 1.0, name, ": invalid beta2 ", betas.second,
               " (needs [0, 1))");
  SCEALD_CHECK(weight_decay >= 0.0, name, ": invalid weight_decay ", weight_decay);
}

namespace {

struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  std::int64_t step;
};

// One parameter's update at step s.step (see adam.h), in PyTorch's order of operations.
template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, std::int64_t n, const AdamScalars& s) {
  const double t = static_cast<double>(s.step);
  const T step_size = static_cast<T>(s.lr / (1.0 - std::pow(s.beta1, t)));
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(s.beta2, t)));
  const T b1 = static_cast<T>(s.beta1), b2 = static_cast<T>(s.beta2);
  const T one_minus_b1 = static_cast<T>(1.0 - s.beta1), one_minus_b2 = static_cast<T>(1.0 - s.beta2);
  const T eps = static_cast<T>(s.eps), wd = static_cast<T>(s.weight_decay);
  const T decay = static_cast<T>(1.0 - s.lr * s.weight_decay);
  // Element-wise and memory-bound: threads add bandwidth.
#pragma omp parallel for simd schedule(static) if (n > (std::int64_t{1} << 18))
  for (std::int64_t j = 0; j < n; ++j) {
    T grad = g[j];
    if (s.decoupled)
      p[j] = p[j] * decay;
    else if (s.weight_decay != 0.0)
      grad = grad + wd * p[j];
    m[j] = m[j] * b1 + one_minus_b1 * grad;
    v[j] = v[j] * b2 + one_minus_b2 * grad * grad;
    const T denom = std::sqrt(v[j]) / bias_correction2_sqrt + eps;
    p[j] = p[j] - step_size * (m[j] / denom);
  }
}

}  // namespace

void Adam::step() {
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params().size(); ++i) {
    Tensor p = params()[i];
    const bool cuda = p.device().is_cuda();
    Tensor g = cuda ? cuda::checked_param_grad(name(), i, p) : checked_grad(i);
    if (!g.defined()) continue;
    auto& slots = state(i);
    if (!slots.count("step")) {
      slots["step"] = Tensor::zeros({}, DType::Int64);  // the step count stays on the host
      slots["exp_avg"] = Tensor::zeros(p.shape(), p.dtype(), p.device());
      slots["exp_avg_sq"] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    }
    std::int64_t& step = slots["step"].data<std::int64_t>()[0];
    ++step;
    const AdamScalars scalars{lr(), betas.first, betas.second, eps, weight_decay, decoupled_, step};
    Tensor m = slots["exp_avg"], v = slots["exp_avg_sq"];
    if (cuda) {  // one fused kernel per parameter
      cuda_ops::adam_update(p, g, m, v,
                            {scalars.lr, scalars.beta1, scalars.beta2, scalars.eps, scalars.weight_decay,
                             scalars.decoupled, scalars.step});
      continue;
    }
    dispatch_floating(p.dtype(), name().c_str(), [&](auto tag) {
      using T = decltype(tag);
      adam_update<T>(p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), p.numel(), scalars);
    });
  }
}

}  // namespace sceald::optim
