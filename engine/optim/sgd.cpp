#include "engine/optim/sgd.h"

#include "engine/autograd/grad_mode.h"
#include "engine/cuda/ops.h"
#include "engine/cuda/param_grad.h"
#include "engine/error.h"

namespace sceald::optim {

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double dampening, double weight_decay,
         bool nesterov)
    : Optimizer(std::move(params), lr, "SGD"), momentum(momentum), dampening(dampening),
      weight_decay(weight_decay), nesterov(nesterov) {
  SCEALD_CHECK(momentum >= 0.0, "SGD: invalid momentum ", momentum);
  SCEALD_CHECK(weight_decay >= 0.0, "SGD: invalid weight_decay ", weight_decay);
  SCEALD_CHECK(!nesterov || (momentum > 0.0 && dampening == 0.0),
               "SGD: Nesterov momentum needs a positive momentum and zero dampening, got momentum ", momentum,
               " and dampening ", dampening);
}

namespace {

// One parameter's update (see sgd.h); `buf` is null without momentum.
template <typename T>
void sgd_update(T* p, const T* g, T* buf, bool first_step, std::int64_t n, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov) {
  const T lr_t = static_cast<T>(lr), mom = static_cast<T>(momentum), keep = static_cast<T>(1.0 - dampening);
  const T wd = static_cast<T>(weight_decay);
  // Element-wise and memory-bound: threads add bandwidth (VGG16's fc6 alone is 103M values).
#pragma omp parallel for simd schedule(static) if (n > (std::int64_t{1} << 18))
  for (std::int64_t j = 0; j < n; ++j) {
    T d = g[j];
    if (weight_decay != 0.0) d = d + wd * p[j];
    if (buf) {
      buf[j] = first_step ? d : buf[j] * mom + keep * d;
      d = nesterov ? d + mom * buf[j] : buf[j];
    }
    p[j] = p[j] - lr_t * d;
  }
}

}  // namespace

void SGD::step() {
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params().size(); ++i) {
    Tensor p = params()[i];
    const bool cuda = p.device().is_cuda();
    Tensor g = cuda ? cuda::checked_param_grad(name(), i, p) : checked_grad(i);
    if (!g.defined()) continue;
    Tensor buf;
    bool first_step = false;
    if (momentum != 0.0) {
      auto& slots = state(i);
      first_step = !slots.count("momentum_buffer");
      if (first_step) slots["momentum_buffer"] = Tensor::empty(p.shape(), p.dtype(), p.device());
      buf = slots["momentum_buffer"];
    }
    if (cuda) {  // one fused kernel per parameter
      cuda_ops::sgd_update(p, g, buf, first_step, lr(), momentum, dampening, weight_decay, nesterov);
      continue;
    }
    dispatch_floating(p.dtype(), "SGD", [&](auto tag) {
      using T = decltype(tag);
      sgd_update<T>(p.data<T>(), g.data<T>(), buf.defined() ? buf.data<T>() : nullptr, first_step, p.numel(), lr(),
                    momentum, dampening, weight_decay, nesterov);
    });
  }
}

}  // namespace sceald::optim
