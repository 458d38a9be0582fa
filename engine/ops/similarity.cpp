#include "engine/ops/similarity.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduction.h"

namespace sceald {

namespace {

// Both ops reduce along one axis of a contiguous [outer, dim, inner] view.
// Their loops are small enough to live here: sums in double, one (o, i) line
// at a time, outputs overwritten. (A kernels/cpu/similarity.h could take them
// when a CUDA twin appears.)
struct AxisLayout {
  std::int64_t outer = 1, dim = 1, inner = 1;
};

AxisLayout axis_layout(const Shape& shape, int axis) {
  AxisLayout l;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (d < axis) l.outer *= shape[d];
    else if (d == axis) l.dim = shape[d];
    else l.inner *= shape[d];
  }
  return l;
}

// Calls f(base, stride) for every line of the layout (base: its first element).
template <typename F>
void for_each_line(const AxisLayout& l, F&& f) {
  const std::int64_t lines = l.outer * l.inner;
#pragma omp parallel for if (lines * l.dim > (1 << 15)) schedule(static)
  for (std::int64_t line = 0; line < lines; ++line)
    f(line, (line / l.inner) * l.dim * l.inner + line % l.inner, l.inner);
}

struct CosineSums {
  double ab = 0, aa = 0, bb = 0;
};

template <typename T>
CosineSums cosine_sums(const T* a, const T* b, std::int64_t base, std::int64_t stride, std::int64_t dim) {
  CosineSums s;
  for (std::int64_t k = 0; k < dim; ++k) {
    const double x = static_cast<double>(a[base + k * stride]), y = static_cast<double>(b[base + k * stride]);
    s.ab += x * y;
    s.aa += x * x;
    s.bb += y * y;
  }
  return s;
}

// PyTorch 1.13's formula: cos = w_ab / sqrt(max(w_aa w_bb, eps^2)).
template <typename T>
void cosine_forward(const T* a, const T* b, T* out, const AxisLayout& l, double eps) {
  for_each_line(l, [&](std::int64_t line, std::int64_t base, std::int64_t stride) {
    const CosineSums s = cosine_sums(a, b, base, stride, l.dim);
    out[line] = static_cast<T>(s.ab / std::sqrt(std::max(s.aa * s.bb, eps * eps)));
  });
}

// With d = sqrt(w_aa w_bb) unclamped: d cos/da = b / d - cos a / w_aa (from
// dd/da = w_bb a / d and d^2 = w_aa w_bb), and symmetrically for b. Once
// clamped, d = eps is a constant: d cos/da = b / eps.
template <typename T>
void cosine_backward(const T* a, const T* b, const T* g, T* ga, T* gb, const AxisLayout& l, double eps) {
  for_each_line(l, [&](std::int64_t line, std::int64_t base, std::int64_t stride) {
    const CosineSums s = cosine_sums(a, b, base, stride, l.dim);
    const bool clamped = s.aa * s.bb <= eps * eps;
    const double denom = clamped ? eps : std::sqrt(s.aa * s.bb);
    const double cos = s.ab / denom, gl = static_cast<double>(g[line]);
    for (std::int64_t k = 0; k < l.dim; ++k) {
      const std::int64_t j = base + k * stride;
      const double x = static_cast<double>(a[j]), y = static_cast<double>(b[j]);
      if (ga) ga[j] = static_cast<T>(gl * (clamped ? y / denom : y / denom - cos * x / s.aa));
      if (gb) gb[j] = static_cast<T>(gl * (clamped ? x / denom : x / denom - cos * y / s.bb));
    }
  });
}

// y = x / max(|x|, eps) along the line.
template <typename T>
void l2_normalize_forward(const T* x, T* y, const AxisLayout& l, double eps) {
  for_each_line(l, [&](std::int64_t, std::int64_t base, std::int64_t stride) {
    double sq = 0.0;
    for (std::int64_t k = 0; k < l.dim; ++k) sq += static_cast<double>(x[base + k * stride]) * x[base + k * stride];
    const double scale = 1.0 / std::max(std::sqrt(sq), eps);
    for (std::int64_t k = 0; k < l.dim; ++k) y[base + k * stride] = static_cast<T>(x[base + k * stride] * scale);
  });
}

// With n = |x| > eps and y = x / n: dy_j/dx_k = delta_jk / n - x_j x_k / n^3,
// so dL/dx = (g - y (g . y)) / n. Clamped (n <= eps): dL/dx = g / eps.
template <typename T>
void l2_normalize_backward(const T* x, const T* g, T* gx, const AxisLayout& l, double eps) {
  for_each_line(l, [&](std::int64_t, std::int64_t base, std::int64_t stride) {
    double sq = 0.0, gdotx = 0.0;
    for (std::int64_t k = 0; k < l.dim; ++k) {
      const std::int64_t j = base + k * stride;
      sq += static_cast<double>(x[j]) * x[j];
      gdotx += static_cast<double>(g[j]) * x[j];
    }
    const double norm = std::sqrt(sq);
    const bool clamped = norm <= eps;
    const double inv = 1.0 / (clamped ? eps : norm);
    // g . y / n = (g . x) / n^2, times y = x / n.
    const double along = clamped ? 0.0 : gdotx * inv * inv;
    for (std::int64_t k = 0; k < l.dim; ++k) {
      const std::int64_t j = base + k * stride;
      gx[j] = static_cast<T>((static_cast<double>(g[j]) - along * x[j]) * inv);
    }
  });
}

// `t` as a new contiguous tensor of the broadcast shape (itself when it already is one).
Tensor expand_contiguous(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t.contiguous().detach();
  Tensor out = Tensor::empty(shape, t.dtype(), t.device());
  copy_into(out, Tensor::from_storage(t.storage(), shape, broadcast_strides(t, shape), t.offset(), t.dtype()));
  return out;
}

class CosineSimilarityBackward final : public Node {
 public:
  CosineSimilarityBackward(const Tensor& a, const Tensor& b, Shape a_shape, Shape b_shape, AxisLayout layout,
                           double eps)
      : a_(a), b_(b), a_shape_(std::move(a_shape)), b_shape_(std::move(b_shape)), layout_(layout), eps_(eps) {}
  const char* name() const override { return "CosineSimilarityBackward"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = Tensor::empty(a_.shape(), a_.dtype(), a_.device());
    if (needs_input_grad(1)) gb = Tensor::empty(b_.shape(), b_.dtype(), b_.device());
    if (a_.device().is_cuda()) {
      cuda_ops::cosine_similarity_backward(a_, b_, g, ga, gb, layout_.outer, layout_.dim, layout_.inner, eps_);
    } else {
      dispatch_floating(a_.dtype(), name(), [&](auto tag) {
        using T = decltype(tag);
        cosine_backward(a_.data<T>(), b_.data<T>(), g.data<T>(), ga.defined() ? ga.data<T>() : nullptr,
                        gb.defined() ? gb.data<T>() : nullptr, layout_, eps_);
      });
    }
    // Gradients of the broadcast inputs flow back summed over the broadcast axes.
    if (ga.defined()) ga = sum_to_shape(ga, a_shape_);
    if (gb.defined()) gb = sum_to_shape(gb, b_shape_);
    return {ga, gb};
  }
  void release_saved() override { a_ = b_ = Tensor(); }

 private:
  Tensor a_, b_;  // broadcast to the common shape, contiguous
  Shape a_shape_, b_shape_;
  AxisLayout layout_;
  double eps_;
};

class L2NormalizeBackward final : public Node {
 public:
  L2NormalizeBackward(const Tensor& x, AxisLayout layout, double eps) : x_(x), layout_(layout), eps_(eps) {}
  const char* name() const override { return "L2NormalizeBackward"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    const Tensor g = g_in.contiguous();
    Tensor gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
    if (x_.device().is_cuda()) {
      cuda_ops::l2_normalize_backward(x_, g, gx, layout_.outer, layout_.dim, layout_.inner, eps_);
      return {gx};
    }
    dispatch_floating(x_.dtype(), name(), [&](auto tag) {
      using T = decltype(tag);
      l2_normalize_backward(x_.data<T>(), g.data<T>(), gx.data<T>(), layout_, eps_);
    });
    return {gx};
  }
  void release_saved() override { x_ = Tensor(); }

 private:
  Tensor x_;  // contiguous
  AxisLayout layout_;
  double eps_;
};

}  // namespace

Tensor cosine_similarity(const Tensor& a, const Tensor& b, std::int64_t axis_in, double eps) {
  const char* op = "cosine_similarity";
  check_floating(op, a, "the first operand");
  check_floating(op, b, "the second operand");
  check_same_dtype_device(op, a, b);
  SCEALD_CHECK(eps > 0.0, op, ": eps must be positive, got ", eps);
  const bool cuda = runs_on_cuda(op, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  const int axis = normalize_axis(axis_in, static_cast<std::int64_t>(shape.size()), op);
  const Tensor ab = expand_contiguous(a, shape), bb = expand_contiguous(b, shape);
  Shape out_shape = shape;
  out_shape.erase(out_shape.begin() + axis);
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  const AxisLayout l = axis_layout(shape, axis);
  if (cuda) {
    cuda_ops::cosine_similarity_forward(ab, bb, out, l.outer, l.dim, l.inner, eps);
  } else {
    dispatch_floating(a.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      cosine_forward(ab.data<T>(), bb.data<T>(), out.data<T>(), l, eps);
    });
  }
  record<CosineSimilarityBackward>(out, {&a, &b}, ab, bb, a.shape(), b.shape(), l, eps);
  return out;
}

Tensor l2_normalize(const Tensor& x, std::int64_t axis_in, double eps) {
  const char* op = "l2_normalize";
  check_floating(op, x, "the input");
  SCEALD_CHECK(eps > 0.0, op, ": eps must be positive, got ", eps);
  const bool cuda = runs_on_cuda(op, {&x});
  const int axis = normalize_axis(axis_in, x.dim(), op);
  const Tensor xc = x.contiguous().detach();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const AxisLayout l = axis_layout(x.shape(), axis);
  if (cuda) {
    cuda_ops::l2_normalize_forward(xc, out, l.outer, l.dim, l.inner, eps);
  } else {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      l2_normalize_forward(xc.data<T>(), out.data<T>(), l, eps);
    });
  }
  record<L2NormalizeBackward>(out, {&x}, xc, l, eps);
  return out;
}

}  // namespace sceald
