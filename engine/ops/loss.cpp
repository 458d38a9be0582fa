#include "engine/ops/loss.h"

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduction.h"
#include "kernels/cpu/softmax.h"

namespace sceald {

namespace {

void check_logits(const char* op, const Tensor& logits) {
  check_floating(op, logits, "the logits");
  SCEALD_CHECK(logits.dim() == 2, op, ": the logits must be [N, C], got ", logits.str());
  SCEALD_CHECK(logits.size(0) > 0 && logits.size(1) > 0, op, ": the logits ", logits.str(),
               " are empty (the mean over zero samples or classes is undefined)");
}

// Both cross-entropies keep the log-probabilities [N, C] of the forward pass;
// the gradient of the batch mean is (softmax * sum_k t_k - t) / N per row,
// where t is the one-hot label or the target distribution.
class CrossEntropyBackward final : public Node {
 public:
  CrossEntropyBackward(const Tensor& log_probs, const Tensor& labels_or_target, bool soft)
      : log_probs_(log_probs), labels_or_target_(labels_or_target.detach()), soft_(soft) {}
  const char* name() const override { return soft_ ? "SoftCrossEntropyBackward" : "CrossEntropyBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const std::int64_t n = log_probs_.size(0), c = log_probs_.size(1);
    Tensor gx = Tensor::empty(log_probs_.shape(), log_probs_.dtype(), log_probs_.device());
    if (log_probs_.device().is_cuda()) {
      // The scale g / n is read on the device: no host round trip in backward.
      if (soft_)
        cuda_ops::soft_cross_entropy_backward(log_probs_, labels_or_target_, g, gx);
      else
        cuda_ops::cross_entropy_backward(log_probs_, labels_or_target_, g, gx);
      return {gx};
    }
    dispatch_floating(log_probs_.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      const double scale = static_cast<double>(g.item<T>()) / static_cast<double>(n);
      if (soft_)
        kernels::cpu::soft_cross_entropy_backward(log_probs_.data<T>(), labels_or_target_.data<T>(), scale,
                                                  gx.data<T>(), n, c);
      else
        kernels::cpu::cross_entropy_backward(log_probs_.data<T>(), labels_or_target_.data<std::int64_t>(), scale,
                                             gx.data<T>(), n, c);
    });
    return {gx};  // the target (soft) or labels get no gradient
  }
  void release_saved() override { log_probs_ = labels_or_target_ = Tensor(); }

 private:
  Tensor log_probs_, labels_or_target_;  // contiguous
  bool soft_;
};

// ---- mse: the difference a - b is all backward needs.
// d/da mean((a - b)^2) = 2 (a - b) / n;  d/db = -that.
class MseLossBackward final : public Node {
 public:
  explicit MseLossBackward(const Tensor& diff) : diff_(diff) {}
  const char* name() const override { return "MseLossBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor ga = mul(mul(diff_, g), 2.0 / static_cast<double>(diff_.numel()));
    return {needs_input_grad(0) ? ga : Tensor(), needs_input_grad(1) ? neg(ga) : Tensor()};
  }
  void release_saved() override { diff_ = Tensor(); }

 private:
  Tensor diff_;
};

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  const char* op = "cross_entropy";
  check_logits(op, logits);
  check_defined(op, labels, "the labels");
  SCEALD_CHECK(labels.dtype() == DType::Int64, op, ": the labels must be int64, got ", labels.str());
  SCEALD_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), op, ": the labels must have shape [",
               logits.size(0), "] to match the logits ", logits.str(), ", got ", labels.str());
  const bool cuda = runs_on_cuda(op, {&logits, &labels});
  const std::int64_t n = logits.size(0), c = logits.size(1);
  const Tensor lc = labels.contiguous();
  // The range check reads the labels on the host (for CUDA labels, a copy of n integers).
  const Tensor host_labels = cuda ? lc.to(Device::cpu()) : lc;
  const std::int64_t* lab = host_labels.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i)
    SCEALD_CHECK(lab[i] >= 0 && lab[i] < c, op, ": label ", lab[i], " at index ", i, " is out of range [0, ", c,
                 ") for logits ", logits.str());
  const Tensor xc = logits.contiguous();
  Tensor log_probs = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (cuda) {
    Tensor out = Tensor::empty({}, logits.dtype(), logits.device());
    cuda_ops::cross_entropy_forward(xc, lc, log_probs, out);
    record<CrossEntropyBackward>(out, {&logits}, log_probs, lc, false);
    return out;
  }
  double total = 0.0;
  dispatch_floating(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    total = kernels::cpu::cross_entropy_forward(xc.data<T>(), lab, log_probs.data<T>(), n, c);
  });
  Tensor out = Tensor::scalar(total / static_cast<double>(n), logits.dtype());
  record<CrossEntropyBackward>(out, {&logits}, log_probs, lc, false);
  return out;
}

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& target) {
  const char* op = "soft_cross_entropy";
  check_logits(op, logits);
  check_floating(op, target, "the target");
  check_same_dtype_device(op, logits, target);
  SCEALD_CHECK(target.shape() == logits.shape(), op, ": the target ", target.str(), " must have the shape of the logits ",
               logits.str());
  const bool cuda = runs_on_cuda(op, {&logits, &target});
  const std::int64_t n = logits.size(0), c = logits.size(1);
  const Tensor xc = logits.contiguous(), tc = target.contiguous();
  Tensor log_probs = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (cuda) {
    Tensor out = Tensor::empty({}, logits.dtype(), logits.device());
    cuda_ops::soft_cross_entropy_forward(xc, tc, log_probs, out);
    record<CrossEntropyBackward>(out, {&logits}, log_probs, tc, true);
    return out;
  }
  double total = 0.0;
  dispatch_floating(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    total = kernels::cpu::soft_cross_entropy_forward(xc.data<T>(), tc.data<T>(), log_probs.data<T>(), n, c);
  });
  Tensor out = Tensor::scalar(total / static_cast<double>(n), logits.dtype());
  record<CrossEntropyBackward>(out, {&logits}, log_probs, tc, true);
  return out;
}

Tensor mse_loss(const Tensor& a, const Tensor& b) {
  const char* op = "mse_loss";
  check_floating(op, a, "the first operand");
  check_floating(op, b, "the second operand");
  check_same_dtype_device(op, a, b);
  SCEALD_CHECK(a.shape() == b.shape(), op, ": the operands must have the same shape, got ", a.str(), " and ",
               b.str());
  SCEALD_CHECK(a.numel() > 0, op, ": the mean over the empty tensor ", a.str(), " is undefined");
  Tensor diff, out;
  {
    NoGradGuard no_grad;
    diff = sub(a, b);
    out = mean(mul(diff, diff));
  }
  record<MseLossBackward>(out, {&a, &b}, diff);
  return out;
}

}  // namespace sceald
