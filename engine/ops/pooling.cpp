#include "engine/ops/pooling.h"

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/pooling.h"

namespace sceald {

namespace {

using kernels::cpu::PoolGeometry;

std::string pair_str(const std::array<std::int64_t, 2>& v) { return str_cat("[", v[0], ", ", v[1], "]"); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// PyTorch's pooling_output_shape: floor (or ceil) of the window count, and in
// ceil_mode no last window that would start inside the right padding.
std::int64_t pooled_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                         std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = dilation * (kernel - 1) + 1;
  std::int64_t out = floor_div(in + 2 * pad - span + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

PoolGeometry max_pool2d_geometry(const Tensor& x, const MaxPool2dParams& p) {
  const char* op = "max_pool2d";
  check_floating(op, x, "the input");
  check_dim(op, x, 4, "the input [N, C, H, W]");
  for (int a = 0; a < 2; ++a) {
    SCEALD_CHECK(p.kernel[a] >= 1, op, ": the kernel size must be >= 1, got ", pair_str(p.kernel));
    SCEALD_CHECK(p.stride[a] >= 1, op, ": the stride must be >= 1, got ", pair_str(p.stride));
    SCEALD_CHECK(p.dilation[a] >= 1, op, ": the dilation must be >= 1, got ", pair_str(p.dilation));
    SCEALD_CHECK(p.padding[a] >= 0 && p.padding[a] <= p.kernel[a] / 2, op, ": the padding ", pair_str(p.padding),
                 " must be >= 0 and at most half the kernel ", pair_str(p.kernel));
  }
  PoolGeometry g{.H = x.size(2), .W = x.size(3), .kh = p.kernel[0], .kw = p.kernel[1], .sh = p.stride[0],
                 .sw = p.stride[1], .ph = p.padding[0], .pw = p.padding[1], .dh = p.dilation[0],
                 .dw = p.dilation[1], .Ho = 0, .Wo = 0};
  g.Ho = pooled_size(g.H, g.kh, g.sh, g.ph, g.dh, p.ceil_mode);
  g.Wo = pooled_size(g.W, g.kw, g.sw, g.pw, g.dw, p.ceil_mode);
  SCEALD_CHECK(g.Ho >= 1 && g.Wo >= 1, op, ": the output would be ", g.Ho, "x", g.Wo, ": the kernel ",
               pair_str(p.kernel), " (dilation ", pair_str(p.dilation), ") is larger than the padded input (input ",
               shape_str(x.shape()), ", padding ", pair_str(p.padding), ")");
  return g;
}

// Each output is one input (its window's arg-max), so its gradient goes there.
class MaxPool2dBackward final : public Node {
 public:
  MaxPool2dBackward(Shape input_shape, Tensor argmax, const PoolGeometry& geometry)
      : input_shape_(std::move(input_shape)), argmax_(std::move(argmax)), geometry_(geometry) {}
  const char* name() const override { return "MaxPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    const Tensor gy = grad_out.contiguous();
    Tensor gx = Tensor::empty(input_shape_, gy.dtype(), gy.device());
    if (gy.device().is_cuda()) {  // a deterministic gather over the windows (no atomics)
      cuda_ops::max_pool2d_backward(gy, argmax_, geometry_, gx);
      return {gx};
    }
    const std::int64_t planes = input_shape_[0] * input_shape_[1];
    dispatch_floating(gy.dtype(), "max_pool2d backward", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::max_pool2d_backward(static_cast<const T*>(gy.raw_data()), argmax_.data<std::int64_t>(), planes,
                                        input_shape_[2] * input_shape_[3], gy.size(2) * gy.size(3), gx.data<T>());
    });
    return {gx};
  }
  void release_saved() override { argmax_ = Tensor(); }

 private:
  Shape input_shape_;
  Tensor argmax_;  // int64 [N, C, Ho, Wo]: flat h * W + w inside each plane
  PoolGeometry geometry_;  // the CUDA gather visits the windows that can cover each input
};

// Output (i, j) is the mean of its bin, so each input of the bin receives
// g(i, j) / |bin| (summed over the bins that hold it).
class AdaptiveAvgPool2dBackward final : public Node {
 public:
  explicit AdaptiveAvgPool2dBackward(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  const char* name() const override { return "AdaptiveAvgPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    const Tensor gy = grad_out.contiguous();
    Tensor gx = Tensor::empty(input_shape_, gy.dtype(), gy.device());
    if (gy.device().is_cuda()) {
      cuda_ops::adaptive_avg_pool2d_backward(gy, gx);
      return {gx};
    }
    dispatch_floating(gy.dtype(), "adaptive_avg_pool2d backward", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::adaptive_avg_pool2d_backward(static_cast<const T*>(gy.raw_data()),
                                                 input_shape_[0] * input_shape_[1], input_shape_[2], input_shape_[3],
                                                 gy.size(2), gy.size(3), gx.data<T>());
    });
    return {gx};
  }

 private:
  Shape input_shape_;
};

}  // namespace

Tensor max_pool2d(const Tensor& x, const MaxPool2dParams& params) {
  const PoolGeometry g = max_pool2d_geometry(x, params);
  const bool cuda = runs_on_cuda("max_pool2d", {&x});
  const Tensor xc = x.contiguous();
  const Shape out_shape{x.size(0), x.size(1), g.Ho, g.Wo};
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor argmax = Tensor::empty(out_shape, DType::Int64, x.device());
  if (cuda) {
    cuda_ops::max_pool2d_forward(xc, g, y, argmax);
  } else {
    dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::max_pool2d_forward(xc.data<T>(), x.size(0) * x.size(1), g, y.data<T>(),
                                       argmax.data<std::int64_t>());
    });
  }
  record<MaxPool2dBackward>(y, {&x}, x.shape(), argmax, g);
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_floating(op, x, "the input");
  check_dim(op, x, 4, "the input [N, C, H, W]");
  SCEALD_CHECK(output_size[0] >= 1 && output_size[1] >= 1, op, ": the output size must be >= 1, got ",
               pair_str(output_size));
  SCEALD_CHECK(x.size(2) >= 1 && x.size(3) >= 1, op, ": the input ", shape_str(x.shape()), " has no pixels");
  const bool cuda = runs_on_cuda(op, {&x});
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty({x.size(0), x.size(1), output_size[0], output_size[1]}, x.dtype(), x.device());
  if (cuda) {
    cuda_ops::adaptive_avg_pool2d_forward(xc, y);
  } else {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::adaptive_avg_pool2d_forward(xc.data<T>(), x.size(0) * x.size(1), x.size(2), x.size(3),
                                                output_size[0], output_size[1], y.data<T>());
    });
  }
  record<AdaptiveAvgPool2dBackward>(y, {&x}, x.shape());
  return y;
}

}  // namespace sceald
