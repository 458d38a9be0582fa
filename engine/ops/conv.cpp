#include "engine/ops/conv.h"

#include <array>
#include <vector>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv_gemm.h"

namespace sceald {

namespace {

using kernels::cpu::ConvGeometry;

std::string pair_str(const std::array<std::int64_t, 2>& v) { return str_cat("[", v[0], ", ", v[1], "]"); }

// y = W * im2col(x) + b per image. Since im2col is linear in x with adjoint
// col2im: dL/dx = col2im(W^T g), dL/dW = sum_n g_n im2col(x_n)^T, and
// dL/db = sum of g over N, Ho, Wo. `needs` says which of the three to compute.
std::vector<Tensor> conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& weight, bool has_bias,
                                    const ConvGeometry& g, const std::array<bool, 3>& needs) {
  const std::int64_t N = x.size(0), O = weight.size(0);
  Tensor gx, gw, gb;
  if (needs[0]) gx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (needs[1]) gw = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
  if (has_bias && needs[2]) gb = Tensor::empty({O}, gy.dtype(), gy.device());
  if (x.device().is_cuda()) {
    if (gx.defined()) cuda_ops::conv2d_backward_data(gy, weight, g, gx);
    if (gw.defined()) cuda_ops::conv2d_backward_filter(gy, x, g, gw);
    if (gb.defined()) cuda_ops::conv2d_backward_bias(gy, gb);
    return {gx, gw, gb};
  }
  dispatch_floating(gy.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = gy.data<T>();
    kernels::cpu::conv2d_backward(pg, x.data<T>(), weight.data<T>(), N, O, g, gx.defined() ? gx.data<T>() : nullptr,
                                  gw.defined() ? gw.data<T>() : nullptr);
    if (gb.defined()) kernels::cpu::conv2d_backward_bias(pg, N, O, g.col_cols(), gb.data<T>());
  });
  return {gx, gw, gb};
}

class Conv2dBackward final : public Node {
 public:
  Conv2dBackward(const Tensor& x, const Tensor& weight, bool has_bias, const ConvGeometry& geometry)
      : x_(x.detach()), weight_(weight.detach()), has_bias_(has_bias), g_(geometry) {}
  const char* name() const override { return "Conv2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    return conv2d_backward(grad_out.contiguous(), x_, weight_, has_bias_, g_,
                           {needs_input_grad(0), needs_input_grad(1), needs_input_grad(2)});
  }
  void release_saved() override { x_ = weight_ = Tensor(); }

 private:
  Tensor x_, weight_;  // contiguous
  bool has_bias_;
  ConvGeometry g_;
};

// relu(conv2d(x)): the gradient reaching the convolution is g where the
// output is positive, 0 elsewhere (ReLU's rule, read off the output), then
// the convolution's backward. Only x, the weight and the output are kept.
class Conv2dReluBackward final : public Node {
 public:
  Conv2dReluBackward(const Tensor& x, const Tensor& weight, bool has_bias, const ConvGeometry& geometry,
                     const Tensor& out)
      : x_(x.detach()), weight_(weight.detach()), out_(out.detach()), has_bias_(has_bias), g_(geometry) {}
  const char* name() const override { return "Conv2dReluBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    const Tensor g = grad_out.contiguous();
    Tensor g_pre = Tensor::empty(out_.shape(), out_.dtype(), out_.device());
    if (out_.device().is_cuda()) {
      cuda_ops::relu_backward(out_, g, g_pre);
    } else {
      dispatch_floating(out_.dtype(), name(), [&](auto tag) {
        using T = decltype(tag);
        kernels::cpu::relu_backward(out_.data<T>(), g.data<T>(), g_pre.data<T>(), g_pre.numel());
      });
    }
    return conv2d_backward(g_pre, x_, weight_, has_bias_, g_,
                           {needs_input_grad(0), needs_input_grad(1), needs_input_grad(2)});
  }
  void release_saved() override { x_ = weight_ = out_ = Tensor(); }

 private:
  Tensor x_, weight_, out_;  // contiguous
  bool has_bias_;
  ConvGeometry g_;
};

// Checks every argument of conv2d and returns the geometry of one image.
ConvGeometry conv2d_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  const char* op = "conv2d";
  check_floating(op, x, "the input");
  check_floating(op, weight, "the weight");
  check_dim(op, x, 4, "the input [N, C, H, W]");
  check_dim(op, weight, 4, "the weight [O, C, kh, kw]");
  check_same_dtype_device(op, x, weight);
  const std::int64_t O = weight.size(0);
  if (bias.defined()) {
    check_floating(op, bias, "the bias");
    check_same_dtype_device(op, x, bias);
    SCEALD_CHECK(bias.dim() == 1 && bias.size(0) == O, op, ": the bias must have shape [", O, "] for weight ",
                 shape_str(weight.shape()), ", got ", shape_str(bias.shape()));
  }
  for (int a = 0; a < 2; ++a) {
    SCEALD_CHECK(p.stride[a] >= 1, op, ": the stride must be >= 1, got ", pair_str(p.stride));
    SCEALD_CHECK(p.dilation[a] >= 1, op, ": the dilation must be >= 1, got ", pair_str(p.dilation));
    SCEALD_CHECK(p.padding[a] >= 0, op, ": the padding must be >= 0, got ", pair_str(p.padding));
  }
  SCEALD_CHECK(x.size(1) == weight.size(1), op, ": the input ", shape_str(x.shape()), " has ", x.size(1),
               " channels but the weight ", shape_str(weight.shape()), " expects ", weight.size(1));
  SCEALD_CHECK(O >= 1 && weight.size(1) >= 1 && weight.size(2) >= 1 && weight.size(3) >= 1, op,
               ": the weight ", shape_str(weight.shape()), " has an empty axis");
  SCEALD_CHECK(x.size(2) >= 1 && x.size(3) >= 1, op, ": the input ", shape_str(x.shape()), " has no pixels");
  ConvGeometry g{.C = x.size(1), .H = x.size(2), .W = x.size(3), .kh = weight.size(2), .kw = weight.size(3),
                 .sh = p.stride[0], .sw = p.stride[1], .ph = p.padding[0], .pw = p.padding[1],
                 .dh = p.dilation[0], .dw = p.dilation[1], .Ho = 0, .Wo = 0};
  const std::int64_t span_h = g.dh * (g.kh - 1) + 1, span_w = g.dw * (g.kw - 1) + 1;
  const std::int64_t padded_h = g.H + 2 * g.ph, padded_w = g.W + 2 * g.pw;
  SCEALD_CHECK(span_h <= padded_h && span_w <= padded_w, op, ": the kernel ", g.kh, "x", g.kw, " (dilation ",
               pair_str(p.dilation), ", spanning ", span_h, "x", span_w, ") is larger than the padded input ",
               padded_h, "x", padded_w, " (input ", shape_str(x.shape()), ", padding ", pair_str(p.padding),
               "), so the output size would be <= 0");
  g.Ho = (padded_h - span_h) / g.sh + 1;
  g.Wo = (padded_w - span_w) / g.sw + 1;
  return g;
}

}  // namespace

namespace {

// The convolution's output, computed on x's device; `relu` applies ReLU in place before returning.
Tensor conv2d_output(const Tensor& xc, const Tensor& wc, const Tensor& bc, const ConvGeometry& g, bool cuda,
                     bool relu) {
  const std::int64_t N = xc.size(0), O = wc.size(0);
  Tensor y = Tensor::empty({N, O, g.Ho, g.Wo}, xc.dtype(), xc.device());
  if (cuda) {
    cuda_ops::conv2d_forward(xc, wc, bc, g, y);
    if (relu) cuda_ops::relu_forward(y, y);
    return y;
  }
  dispatch_floating(xc.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::cpu::conv2d_forward(xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, N, O, g,
                                 y.data<T>());
    if (relu) kernels::cpu::relu_forward(y.data<T>(), y.data<T>(), y.numel());
  });
  return y;
}

// conv2d, or relu(conv2d) as one op, recording the matching backward node.
Tensor conv2d_op(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params, bool relu) {
  const ConvGeometry g = conv2d_geometry(x, weight, bias, params);
  const bool cuda = runs_on_cuda("conv2d", {&x, &weight, &bias});
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = conv2d_output(xc, wc, bc, g, cuda, relu);
  if (relu)
    record<Conv2dReluBackward>(y, {&x, &weight, &bias}, xc, wc, bias.defined(), g, y);
  else
    record<Conv2dBackward>(y, {&x, &weight, &bias}, xc, wc, bias.defined(), g);
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  return conv2d_op(x, weight, bias, params, false);
}

Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  return conv2d_op(x, weight, bias, params, true);
}

}  // namespace sceald
