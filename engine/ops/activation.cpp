#include "engine/ops/activation.h"

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/activation.h"

namespace sceald {

namespace {

// ---- ReLU and sigmoid: both backward passes need only the output.

enum class PointwiseKind { Relu, Sigmoid };

class PointwiseActivationBackward final : public Node {
 public:
  PointwiseActivationBackward(PointwiseKind kind, const Tensor& out) : kind_(kind), out_(out.detach()) {}
  const char* name() const override { return kind_ == PointwiseKind::Relu ? "ReluBackward" : "SigmoidBackward"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor gx = Tensor::empty(out_.shape(), out_.dtype(), out_.device());
    if (out_.device().is_cuda()) {
      if (kind_ == PointwiseKind::Relu)
        cuda_ops::relu_backward(out_, g, gx);
      else
        cuda_ops::sigmoid_backward(out_, g, gx);
      return {gx};
    }
    dispatch_floating(out_.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      if (kind_ == PointwiseKind::Relu)
        kernels::cpu::relu_backward(out_.data<T>(), g.data<T>(), gx.data<T>(), gx.numel());
      else
        kernels::cpu::sigmoid_backward(out_.data<T>(), g.data<T>(), gx.data<T>(), gx.numel());
    });
    return {gx};
  }
  void release_saved() override { out_ = Tensor(); }

 private:
  PointwiseKind kind_;
  Tensor out_;
};

Tensor pointwise_activation(PointwiseKind kind, const char* op, const Tensor& x) {
  check_floating(op, x, "the input");
  const bool cuda = runs_on_cuda(op, {&x});
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (cuda) {
    if (kind == PointwiseKind::Relu)
      cuda_ops::relu_forward(xc, out);
    else
      cuda_ops::sigmoid_forward(xc, out);
  } else {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      if (kind == PointwiseKind::Relu)
        kernels::cpu::relu_forward(xc.data<T>(), out.data<T>(), out.numel());
      else
        kernels::cpu::sigmoid_forward(xc.data<T>(), out.data<T>(), out.numel());
    });
  }
  record<PointwiseActivationBackward>(out, {&x}, kind, out);
  return out;
}

// ---- PReLU: x read as [outer, channels, inner] with the weight along channels.

struct PreluLayout {
  std::int64_t outer, channels, inner;
};

PreluLayout prelu_layout(const Tensor& x, const Tensor& weight) {
  if (weight.numel() == 1) return {1, 1, x.numel()};  // one shared slope
  std::int64_t inner = 1;
  for (std::int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {x.size(0), x.size(1), inner};
}

class PreluBackward final : public Node {
 public:
  PreluBackward(const Tensor& x, const Tensor& weight) : x_(x.detach()), weight_(weight.detach()) {}
  const char* name() const override { return "PreluBackward"; }
  // d/dx = x > 0 ? 1 : w;  d/dw = x > 0 ? 0 : x (summed over everything a slope covers).
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor gx, gw;
    if (needs_input_grad(0)) gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
    if (needs_input_grad(1)) gw = Tensor::empty(weight_.shape(), weight_.dtype(), weight_.device());
    const PreluLayout l = prelu_layout(x_, weight_);
    if (x_.device().is_cuda()) {
      cuda_ops::prelu_backward(x_, weight_, g, gx, gw, l.outer, l.channels, l.inner);
      return {gx, gw};
    }
    dispatch_floating(x_.dtype(), "prelu backward", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::prelu_backward(x_.data<T>(), weight_.data<T>(), g.data<T>(), gx.defined() ? gx.data<T>() : nullptr,
                                   gw.defined() ? gw.data<T>() : nullptr, l.outer, l.channels, l.inner);
    });
    return {gx, gw};
  }
  void release_saved() override { x_ = weight_ = Tensor(); }

 private:
  Tensor x_, weight_;  // contiguous
};

// ---- dropout: the mask (0 or 1 / (1 - p)) is kept for backward.

class DropoutBackward final : public Node {
 public:
  explicit DropoutBackward(const Tensor& mask) : mask_(mask) {}
  const char* name() const override { return "DropoutBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {mul(g, mask_)}; }
  void release_saved() override { mask_ = Tensor(); }

 private:
  Tensor mask_;
};

}  // namespace

Tensor relu(const Tensor& x) { return pointwise_activation(PointwiseKind::Relu, "relu", x); }

Tensor sigmoid(const Tensor& x) { return pointwise_activation(PointwiseKind::Sigmoid, "sigmoid", x); }

Tensor prelu(const Tensor& x, const Tensor& weight) {
  check_floating("prelu", x, "the input");
  check_floating("prelu", weight, "the weight");
  check_same_dtype_device("prelu", x, weight);
  const bool cuda = runs_on_cuda("prelu", {&x, &weight});
  SCEALD_CHECK(weight.dim() == 1, "prelu: the weight must be 1-D ([1] or [C]), got ", weight.str());
  if (weight.numel() != 1) {
    SCEALD_CHECK(x.dim() >= 2 && x.size(1) == weight.numel(), "prelu: a weight of shape ",
                 shape_str(weight.shape()), " needs an input with ", weight.numel(),
                 " channels along axis 1, got input ", x.str());
  }
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const PreluLayout l = prelu_layout(xc, wc);
  if (cuda) {
    cuda_ops::prelu_forward(xc, wc, out, l.outer, l.channels, l.inner);
  } else {
    dispatch_floating(x.dtype(), "prelu", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::prelu_forward(xc.data<T>(), wc.data<T>(), out.data<T>(), l.outer, l.channels, l.inner);
    });
  }
  record<PreluBackward>(out, {&x, &weight}, xc, wc);
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  check_floating("dropout", x, "the input");
  SCEALD_CHECK(p >= 0.0 && p < 1.0, "dropout: the probability p must lie in [0, 1), got ", p);
  if (!training) return x;
  const bool cuda = runs_on_cuda("dropout", {&x});
  const Tensor xc = x.contiguous();
  const std::int64_t n = x.numel();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  // One reserved range per call: element i uses word i, so the CUDA kernel draws the same mask.
  const std::uint64_t start = gen.reserve(static_cast<std::uint64_t>(n));
  if (cuda) {
    cuda_ops::dropout_forward(xc, out, mask, gen.seed(), start, p);
  } else {
    dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::dropout_forward(xc.data<T>(), out.data<T>(), mask.data<T>(), n, gen.seed(), start, p);
    });
  }
  record<DropoutBackward>(out, {&x}, mask);
  return out;
}

}  // namespace sceald
