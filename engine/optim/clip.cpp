#include "engine/optim/clip.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"

namespace sceald::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  SCEALD_CHECK(max_norm >= 0.0, "clip_grad_norm: invalid max_norm ", max_norm);
  SCEALD_CHECK(std::isinf(norm_type) || norm_type >= 1.0, "clip_grad_norm: invalid norm_type ", norm_type,
               " (needs p >= 1 or infinity)");
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor& g = const_cast<Tensor&>(p).grad();
    SCEALD_CHECK(g.device().is_cpu(), "clip_grad_norm: the gradient ", g.str(),
                 " is not on the CPU; the CUDA version does not exist yet");
    SCEALD_CHECK(is_floating(g.dtype()), "clip_grad_norm: the gradient ", g.str(), " is not floating");
    if (!g.is_contiguous()) g = g.contiguous();
    grads.push_back(g);
  }
  if (grads.empty()) return 0.0;

  // The norm of the concatenation, accumulated in double. (PyTorch takes the
  // norm of the per-gradient norms: the same number up to rounding.)
  const bool inf_norm = std::isinf(norm_type);
  double total = 0.0;
  for (const Tensor& g : grads) {
    double acc = 0.0;
    dispatch_floating(g.dtype(), "clip_grad_norm", [&](auto tag) {
      using T = decltype(tag);
      const T* d = g.data<T>();
      for (std::int64_t j = 0; j < g.numel(); ++j) {
        const double a = std::fabs(static_cast<double>(d[j]));
        if (inf_norm)
          acc = std::max(acc, a);
        else if (norm_type == 2.0)
          acc += a * a;
        else
          acc += std::pow(a, norm_type);
      }
    });
    total = inf_norm ? std::max(total, acc) : total + acc;
  }
  if (!inf_norm) total = norm_type == 2.0 ? std::sqrt(total) : std::pow(total, 1.0 / norm_type);

  const double clip_coef = max_norm / (total + 1e-6);
  if (clip_coef < 1.0) {  // PyTorch multiplies by the coefficient clamped to 1; by 1 changes nothing
    for (Tensor& g : grads)
      dispatch_floating(g.dtype(), "clip_grad_norm", [&](auto tag) {
        using T = decltype(tag);
        const T c = static_cast<T>(clip_coef);
        T* d = g.data<T>();
        for (std::int64_t j = 0; j < g.numel(); ++j) d[j] = d[j] * c;
      });
  }
  return total;
}

}  // namespace sceald::optim
