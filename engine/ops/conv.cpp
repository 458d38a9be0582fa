#include "engine/ops/conv.h"

#include <algorithm>
#include <memory>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/im2col.h"

namespace sceald {

namespace {

using kernels::cpu::ConvGeometry;

using kernels::cpu::gemm;

std::string pair_str(const std::array<std::int64_t, 2>& v) { return str_cat("[", v[0], ", ", v[1], "]"); }

// Runs each image on its own thread (its GEMM then single-threaded) when there
// are at least as many images as threads, the per-thread buffers stay small
// and the convolution is big enough (multiply-adds) to repay a parallel
// region; otherwise one image after another, each GEMM using every thread.
bool parallel_over_images(std::int64_t N, std::int64_t buffer_bytes, std::int64_t multiply_adds) {
#ifdef _OPENMP
  const std::int64_t threads = omp_get_max_threads();
  return threads > 1 && N >= threads && multiply_adds >= (std::int64_t{1} << 20) &&
         buffer_bytes * threads <= (std::int64_t{64} << 20);
#else
  return false;
#endif
}

// A column buffer for one image (none for a pointwise convolution, which reads the image in place).
template <typename T>
std::unique_ptr<T[]> column_buffer(const ConvGeometry& g) {
  return g.is_pointwise() ? nullptr : std::unique_ptr<T[]>(new T[g.col_rows() * g.col_cols()]);
}

// Calls one_image(n, column buffer) for every image, in parallel where that pays.
template <typename T, typename F>
void for_each_image(std::int64_t N, std::int64_t O, const ConvGeometry& g, F&& one_image) {
  const std::int64_t col_bytes = g.is_pointwise() ? 0 : g.col_rows() * g.col_cols() * std::int64_t(sizeof(T));
  if (parallel_over_images(N, col_bytes, N * O * g.col_rows() * g.col_cols())) {
#pragma omp parallel
    {
      std::unique_ptr<T[]> col = column_buffer<T>(g);
#pragma omp for schedule(static)
      for (std::int64_t n = 0; n < N; ++n) one_image(n, col.get());
    }
  } else {
    std::unique_ptr<T[]> col = column_buffer<T>(g);
    for (std::int64_t n = 0; n < N; ++n) one_image(n, col.get());
  }
}

// y[n] = weight [O, C kh kw] * im2col(x[n]) [C kh kw, Ho Wo] (+ bias per row).
template <typename T>
void conv2d_forward_cpu(const T* x, const T* weight, const T* bias, std::int64_t N, std::int64_t O,
                        const ConvGeometry& g, T* y) {
  const std::int64_t rows = g.col_rows(), cols = g.col_cols();
  for_each_image<T>(N, O, g, [&](std::int64_t n, T* col) {
    const T* xn = x + n * g.C * g.H * g.W;
    T* yn = y + n * O * cols;
    if (col) kernels::cpu::im2col(xn, g, col);
    gemm(false, false, O, cols, rows, T(1), weight, rows, col ? col : xn, cols, T(0), yn, cols);
    if (bias)
      for (std::int64_t o = 0; o < O; ++o)
        for (std::int64_t p = 0; p < cols; ++p) yn[o * cols + p] += bias[o];
  });
}

// grad_x[n] = col2im(weight^T [C kh kw, O] * grad_y[n] [O, Ho Wo]); overwritten.
template <typename T>
void conv2d_backward_data_cpu(const T* grad_y, const T* weight, std::int64_t N, std::int64_t O,
                              const ConvGeometry& g, T* grad_x) {
  const std::int64_t rows = g.col_rows(), cols = g.col_cols(), image = g.C * g.H * g.W;
  for_each_image<T>(N, O, g, [&](std::int64_t n, T* col) {
    const T* gy = grad_y + n * O * cols;
    T* gx = grad_x + n * image;
    gemm(true, false, rows, cols, O, T(1), weight, rows, gy, cols, T(0), col ? col : gx, cols);
    if (col) {
      std::fill(gx, gx + image, T(0));
      kernels::cpu::col2im_accumulate(col, g, gx);
    }
  });
}

// grad_weight [O, C kh kw] = sum_n grad_y[n] [O, Ho Wo] * im2col(x[n])^T; overwritten.
// Where images run on their own threads, each thread sums its images into a
// private copy of grad_weight and the copies are added at the end; otherwise
// one image after another accumulates with beta = 1 (the GEMM threads inside).
template <typename T>
void conv2d_backward_weight_cpu(const T* grad_y, const T* x, std::int64_t N, std::int64_t O, const ConvGeometry& g,
                                T* grad_weight) {
  const std::int64_t rows = g.col_rows(), cols = g.col_cols(), weight_size = O * rows;
  auto accumulate_image = [&](std::int64_t n, T* col, T* sum, bool first) {
    const T* xn = x + n * g.C * g.H * g.W;
    if (col) kernels::cpu::im2col(xn, g, col);
    gemm(false, true, O, rows, cols, T(1), grad_y + n * O * cols, cols, col ? col : xn, cols, first ? T(0) : T(1),
         sum, rows);
  };
  std::fill(grad_weight, grad_weight + weight_size, T(0));
  const std::int64_t col_bytes = g.is_pointwise() ? 0 : rows * cols * std::int64_t(sizeof(T));
#ifdef _OPENMP
  if (parallel_over_images(N, col_bytes + weight_size * std::int64_t(sizeof(T)), N * weight_size * cols)) {
    const int threads = omp_get_max_threads();
    std::unique_ptr<T[]> partial(new T[threads * weight_size]);
    std::vector<char> used(static_cast<std::size_t>(threads), 0);
#pragma omp parallel
    {
      T* mine = partial.get() + omp_get_thread_num() * weight_size;
      std::unique_ptr<T[]> col = column_buffer<T>(g);
      bool first = true;
#pragma omp for schedule(static)
      for (std::int64_t n = 0; n < N; ++n) {
        accumulate_image(n, col.get(), mine, first);
        first = false;
      }
      used[omp_get_thread_num()] = !first;
    }
#pragma omp parallel for schedule(static)
    for (std::int64_t e = 0; e < weight_size; ++e)
      for (int t = 0; t < threads; ++t)
        if (used[t]) grad_weight[e] += partial[t * weight_size + e];
    return;
  }
#endif
  std::unique_ptr<T[]> col = column_buffer<T>(g);
  for (std::int64_t n = 0; n < N; ++n) accumulate_image(n, col.get(), grad_weight, n == 0);
}

// grad_bias[o] = sum over n and every output position of grad_y[n, o]; overwritten.
template <typename T>
void conv2d_backward_bias_cpu(const T* grad_y, std::int64_t N, std::int64_t O, std::int64_t cols, T* grad_bias) {
#pragma omp parallel for if (N * O * cols > (1 << 16)) schedule(static)
  for (std::int64_t o = 0; o < O; ++o) {
    double acc = 0.0;
    for (std::int64_t n = 0; n < N; ++n) {
      const T* row = grad_y + (n * O + o) * cols;
      for (std::int64_t p = 0; p < cols; ++p) acc += static_cast<double>(row[p]);
    }
    grad_bias[o] = static_cast<T>(acc);
  }
}

// y = W * im2col(x) + b per image. Since im2col is linear in x with adjoint
// col2im: dL/dx = col2im(W^T g), dL/dW = sum_n g_n im2col(x_n)^T, and
// dL/db = sum of g over N, Ho, Wo.
class Conv2dBackward final : public Node {
 public:
  Conv2dBackward(const Tensor& x, const Tensor& weight, bool has_bias, const ConvGeometry& geometry)
      : x_(x.detach()), weight_(weight.detach()), has_bias_(has_bias), g_(geometry) {}
  const char* name() const override { return "Conv2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override {
    const Tensor gy = grad_out.contiguous();
    const std::int64_t N = x_.size(0), O = weight_.size(0);
    Tensor gx, gw, gb;
    if (x_.device().is_cuda()) {
      if (needs_input_grad(0)) {
        gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
        cuda_ops::conv2d_backward_data(gy, weight_, g_, gx);
      }
      if (needs_input_grad(1)) {
        gw = Tensor::empty(weight_.shape(), weight_.dtype(), weight_.device());
        cuda_ops::conv2d_backward_filter(gy, x_, g_, gw);
      }
      if (has_bias_ && needs_input_grad(2)) {
        gb = Tensor::empty({O}, gy.dtype(), gy.device());
        cuda_ops::conv2d_backward_bias(gy, gb);
      }
      return {gx, gw, gb};
    }
    dispatch_floating(gy.dtype(), "conv2d backward", [&](auto tag) {
      using T = decltype(tag);
      const T* pg = static_cast<const T*>(gy.raw_data());
      if (needs_input_grad(0)) {
        gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
        conv2d_backward_data_cpu(pg, weight_.data<T>(), N, O, g_, gx.data<T>());
      }
      if (needs_input_grad(1)) {
        gw = Tensor::empty(weight_.shape(), weight_.dtype(), weight_.device());
        conv2d_backward_weight_cpu(pg, x_.data<T>(), N, O, g_, gw.data<T>());
      }
      if (has_bias_ && needs_input_grad(2)) {
        gb = Tensor::empty({O}, gy.dtype(), gy.device());
        conv2d_backward_bias_cpu(pg, N, O, g_.col_cols(), gb.data<T>());
      }
    });
    return {gx, gw, gb};
  }
  void release_saved() override { x_ = weight_ = Tensor(); }

 private:
  Tensor x_, weight_;  // contiguous
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

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  const ConvGeometry g = conv2d_geometry(x, weight, bias, params);
  const bool cuda = runs_on_cuda("conv2d", {&x, &weight, &bias});
  const std::int64_t N = x.size(0), O = weight.size(0);
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({N, O, g.Ho, g.Wo}, x.dtype(), x.device());
  if (cuda) {
    cuda_ops::conv2d_forward(xc, wc, bc, g, y);
  } else {
    dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
      using T = decltype(tag);
      conv2d_forward_cpu(xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, N, O, g, y.data<T>());
    });
  }
  record<Conv2dBackward>(y, {&x, &weight, &bias}, xc, wc, bias.defined(), g);
  return y;
}

}  // namespace sceald
