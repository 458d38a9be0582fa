#include "engine/ops/softmax.h"

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/softmax.h"

namespace sceald {

namespace {

// x read as [outer, axis, inner] around the softmax axis.
struct AxisLayout {
  std::int64_t outer = 1, axis = 1, inner = 1;
};

AxisLayout axis_layout(const Shape& shape, int axis) {
  AxisLayout l;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (d < axis) l.outer *= shape[d];
    else if (d == axis) l.axis = shape[d];
    else l.inner *= shape[d];
  }
  return l;
}

// softmax:     dL/dx = y (g - sum(g y))      (Jacobian diag(y) - y y^T)
// log-softmax: dL/dx = g - softmax sum(g)    (Jacobian I - 1 softmax^T)
class SoftmaxBackward final : public Node {
 public:
  SoftmaxBackward(const Tensor& out, int axis, bool log_output)
      : out_(out.detach()), axis_(axis), log_output_(log_output) {}
  const char* name() const override { return log_output_ ? "LogSoftmaxBackward" : "SoftmaxBackward"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor gx = Tensor::empty(out_.shape(), out_.dtype(), out_.device());
    const AxisLayout l = axis_layout(out_.shape(), axis_);
    if (out_.device().is_cuda()) {
      cuda_ops::softmax_backward(out_, g, gx, l.outer, l.axis, l.inner, log_output_);
      return {gx};
    }
    dispatch_floating(out_.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::softmax_backward(out_.data<T>(), g.data<T>(), gx.data<T>(), l.outer, l.axis, l.inner,
                                     log_output_);
    });
    return {gx};
  }
  void release_saved() override { out_ = Tensor(); }

 private:
  Tensor out_;
  int axis_;
  bool log_output_;
};

Tensor softmax_impl(const char* op, const Tensor& x, std::int64_t axis_in, bool log_output) {
  check_floating(op, x, "the input");
  const bool cuda = runs_on_cuda(op, {&x});
  const int axis = normalize_axis(axis_in, x.dim(), op);
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const AxisLayout l = axis_layout(x.shape(), axis);
  if (cuda) {
    cuda_ops::softmax_forward(xc, out, l.outer, l.axis, l.inner, log_output);
  } else {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::softmax_forward(xc.data<T>(), out.data<T>(), l.outer, l.axis, l.inner, log_output);
    });
  }
  record<SoftmaxBackward>(out, {&x}, out, axis, log_output);
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t axis) { return softmax_impl("softmax", x, axis, false); }
Tensor log_softmax(const Tensor& x, std::int64_t axis) { return softmax_impl("log_softmax", x, axis, true); }

}  // namespace sceald
