#include "engine/ops/upsample.h"

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/upsample.h"

namespace sceald {

namespace {

// Each output copies one input, so an input's gradient is the sum over the outputs that copied it.
class UpsampleNearest2dBackward final : public Node {
 public:
  explicit UpsampleNearest2dBackward(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  const char* name() const override { return "UpsampleNearest2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    const Tensor gy = grad_out.contiguous();
    Tensor gx = Tensor::empty(input_shape_, gy.dtype(), gy.device());
    if (gy.device().is_cuda()) {
      cuda_ops::upsample_nearest2d_backward(gy, gx);
      return {gx};
    }
    dispatch_floating(gy.dtype(), "upsample_nearest2d backward", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::upsample_nearest2d_backward(static_cast<const T*>(gy.raw_data()),
                                                input_shape_[0] * input_shape_[1], input_shape_[2], input_shape_[3],
                                                gy.size(2), gy.size(3), gx.data<T>());
    });
    return {gx};
  }

 private:
  Shape input_shape_;
};

Tensor upsample_nearest_impl(const char* op, const Tensor& x, std::array<std::int64_t, 2> output_size) {
  check_floating(op, x, "the input");
  check_dim(op, x, 4, "the input [N, C, H, W]");
  SCEALD_CHECK(output_size[0] >= 1 && output_size[1] >= 1, op, ": the output size must be >= 1, got [",
               output_size[0], ", ", output_size[1], "]");
  SCEALD_CHECK(x.size(2) >= 1 && x.size(3) >= 1, op, ": the input ", shape_str(x.shape()), " has no pixels");
  const bool cuda = runs_on_cuda(op, {&x});
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty({x.size(0), x.size(1), output_size[0], output_size[1]}, x.dtype(), x.device());
  if (cuda) {
    cuda_ops::upsample_nearest2d_forward(xc, y);
  } else {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::upsample_nearest2d_forward(xc.data<T>(), x.size(0) * x.size(1), x.size(2), x.size(3),
                                               output_size[0], output_size[1], y.data<T>());
    });
  }
  record<UpsampleNearest2dBackward>(y, {&x}, x.shape());
  return y;
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, std::array<std::int64_t, 2> output_size) {
  return upsample_nearest_impl("upsample_nearest2d", x, output_size);
}

Tensor upsample_nearest2x(const Tensor& x) {
  check_dim("upsample_nearest2x", x, 4, "the input [N, C, H, W]");
  return upsample_nearest_impl("upsample_nearest2x", x, {2 * x.size(2), 2 * x.size(3)});
}

}  // namespace sceald
