#include "engine/ops/batch_norm.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/batch_norm.h"

namespace sceald {

namespace {

const char* const kOp = "batch_norm";

// x read as [n, channels, inner]; inner = H * W (1 for [N, C]).
struct ChannelLayout {
  std::int64_t n, channels, inner;
};

ChannelLayout channel_layout(const Tensor& x) {
  std::int64_t inner = 1;
  for (std::int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {x.size(0), x.size(1), inner};
}

// A per-channel tensor (weight, bias, running statistic): undefined, or [C]
// of x's dtype and device.
void check_per_channel(const Tensor& t, const Tensor& x, const char* what) {
  if (!t.defined()) return;
  check_floating(kOp, t, what);
  check_same_dtype_device(kOp, x, t);
  SCEALD_CHECK(t.dim() == 1 && t.size(0) == x.size(1), kOp, ": ", what, " must have shape [", x.size(1),
               "] (the channels of the input ", x.str(), "), got ", t.str());
}

// Training mode (statistics of this batch, M values per channel), with
// x_hat = (x - mu) s, s = 1 / sqrt(var + eps), y = w x_hat + b, g_hat = g w:
//   dL/dx_j = sum_k g_hat_k dx_hat_k/dx_j, and since dmu/dx_j = 1/M and
//   ds/dx_j = -s^3 (x_j - mu) / M = -s^2 x_hat_j / M (the mean term of var's
//   derivative cancels because sum_k (x_k - mu) = 0),
//   dx_hat_k/dx_j = s (delta_kj - 1/M) - x_hat_k s x_hat_j / M, so
//   dL/dx_j = (s / M) (M g_hat_j - sum_k g_hat_k - x_hat_j sum_k g_hat_k x_hat_k).
// Evaluation mode: mu and s are constants, dL/dx = g w s.
// Both: dL/dw = sum g x_hat, dL/db = sum g (over batch and space).
class BatchNormBackward final : public Node {
 public:
  BatchNormBackward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& inv_std, bool batch_stats)
      : x_(x.detach()), weight_(weight.defined() ? weight.detach() : Tensor()), mean_(mean), inv_std_(inv_std),
        batch_stats_(batch_stats) {}
  const char* name() const override { return "BatchNormBackward"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor gx, gw, gb;
    if (needs_input_grad(0)) gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
    if (needs_input_grad(1)) gw = Tensor::empty({x_.size(1)}, x_.dtype(), x_.device());
    if (needs_input_grad(2)) gb = Tensor::empty({x_.size(1)}, x_.dtype(), x_.device());
    const ChannelLayout l = channel_layout(x_);
    if (x_.device().is_cuda()) {
      cuda_ops::batch_norm_backward(g, x_, mean_, inv_std_, weight_, batch_stats_, gx, gw, gb);
      return {gx, gw, gb};
    }
    dispatch_floating(x_.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      auto ptr = [](Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
      kernels::cpu::batch_norm_backward(g.data<T>(), x_.data<T>(), l.n, l.channels, l.inner, mean_.data<T>(),
                                        inv_std_.data<T>(), weight_.defined() ? weight_.data<T>() : nullptr,
                                        batch_stats_, ptr(gx), ptr(gw), ptr(gb));
    });
    return {gx, gw, gb};
  }
  void release_saved() override { x_ = weight_ = mean_ = inv_std_ = Tensor(); }

 private:
  Tensor x_, weight_;       // contiguous
  Tensor mean_, inv_std_;   // [C], owned copies: later updates of the running stats don't reach them
  bool batch_stats_;
};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum, double eps) {
  check_floating(kOp, x, "the input");
  SCEALD_CHECK(x.dim() >= 2, kOp, ": the input must be [N, C] or [N, C, H, W], got ", x.str());
  check_per_channel(weight, x, "the weight");
  check_per_channel(bias, x, "the bias");
  check_per_channel(running_mean, x, "running_mean");
  check_per_channel(running_var, x, "running_var");
  SCEALD_CHECK(running_mean.defined() == running_var.defined(), kOp,
               ": running_mean and running_var must be both defined or both undefined");
  SCEALD_CHECK(training || running_mean.defined(), kOp,
               ": evaluation mode normalises with running_mean and running_var, which are undefined "
               "(pass training=true to use the batch statistics)");
  SCEALD_CHECK(eps > 0.0, kOp, ": eps must be positive, got ", eps);
  const bool cuda = runs_on_cuda(kOp, {&x, &weight, &bias, &running_mean, &running_var});
  const ChannelLayout l = channel_layout(x);
  const std::int64_t count = l.n * l.inner;
  SCEALD_CHECK(!training || count > 1, kOp, ": Expected more than 1 value per channel when training, got input ",
               x.str());
  if (running_mean.defined() && training) {
    SCEALD_CHECK(running_mean.is_contiguous() && running_var.is_contiguous(), kOp,
                 ": running_mean and running_var are updated in place and must be contiguous");
  }

  const Tensor xc = x.contiguous();
  const Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor mean = Tensor::empty({l.channels}, x.dtype(), x.device());
  Tensor inv_std = Tensor::empty({l.channels}, x.dtype(), x.device());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (cuda) {
    cuda_ops::batch_norm_forward(xc, wc, bc, running_mean, running_var, training, momentum, eps, mean, inv_std, out);
    record<BatchNormBackward>(out, {&x, &weight, &bias}, xc, wc, mean, inv_std, training);
    return out;
  }
  dispatch_floating(x.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    T* pm = mean.data<T>();
    T* ps = inv_std.data<T>();  // holds the variance until converted below
    if (training) {
      kernels::cpu::batch_norm_statistics(xc.data<T>(), l.n, l.channels, l.inner, pm, ps);
      if (running_mean.defined())
        kernels::cpu::batch_norm_update_running(pm, ps, l.channels, count, momentum, running_mean.data<T>(),
                                                running_var.data<T>());
    } else {
      mean.copy_(running_mean);
      inv_std.copy_(running_var);
    }
    for (std::int64_t c = 0; c < l.channels; ++c)
      ps[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(ps[c]) + eps));
    kernels::cpu::batch_norm_forward(xc.data<T>(), l.n, l.channels, l.inner, pm, ps,
                                     wc.defined() ? wc.data<T>() : nullptr, bc.defined() ? bc.data<T>() : nullptr,
                                     out.data<T>());
  });
  record<BatchNormBackward>(out, {&x, &weight, &bias}, xc, wc, mean, inv_std, training);
  return out;
}

}  // namespace sceald
