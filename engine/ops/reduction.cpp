#include "engine/ops/reduction.h"

#include <algorithm>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/strided.h"

namespace sceald {

namespace {

// Sorted, unique, normalised axes; an empty list means every axis.
std::vector<int> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t dim, const char* op) {
  std::vector<int> out;
  if (axes.empty()) {
    for (int i = 0; i < dim; ++i) out.push_back(i);
    return out;
  }
  for (std::int64_t a : axes) out.push_back(normalize_axis(a, dim, op));
  std::sort(out.begin(), out.end());
  SCEALD_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": an axis is repeated");
  return out;
}

Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdim) {
  Shape out;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), i);
    if (!reduced) out.push_back(shape[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Sums x over `axes`. A contiguous x whose reduced axes form one block is
// read in place as [outer, reduce, inner]; any other case is first gathered
// into [kept..., reduced...] order and reduced as [outer, reduce, 1].
Tensor sum_forward(const Tensor& x, const std::vector<int>& axes, const Shape& out_shape) {
  const Shape& s = x.shape();
  std::vector<int> order;
  for (int i = 0; i < x.dim(); ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i)) order.push_back(i);
  const std::size_t kept = order.size();
  for (int a : axes) order.push_back(a);
  std::int64_t outer = 1, reduce = 1;
  for (std::size_t i = 0; i < kept; ++i) outer *= s[order[i]];
  for (int a : axes) reduce *= s[a];
  Shape perm_shape, perm_strides;
  for (int a : order) {
    perm_shape.push_back(s[a]);
    perm_strides.push_back(x.strides()[a]);
  }
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (x.device().is_cuda()) {
    const int first = axes.empty() ? 0 : axes.front();
    const bool block = x.is_contiguous() && !axes.empty() && axes.back() - first + 1 == static_cast<int>(axes.size());
    if (block) {
      std::int64_t o = 1, r = 1, in = 1;
      for (int i = 0; i < first; ++i) o *= s[i];
      for (int a : axes) r *= s[a];
      for (int i = axes.back() + 1; i < x.dim(); ++i) in *= s[i];
      cuda_ops::sum_middle_axis(x, out, o, r, in);
    } else {
      Tensor gathered = Tensor::empty(perm_shape, x.dtype(), x.device());
      cuda_ops::copy(Tensor::from_storage(x.storage(), perm_shape, perm_strides, x.offset(), x.dtype()), gathered);
      cuda_ops::sum_middle_axis(gathered, out, outer, reduce, 1);
    }
    return out;
  }
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    int first = axes.empty() ? 0 : axes.front();
    bool block = x.is_contiguous() && !axes.empty() && axes.back() - first + 1 == static_cast<int>(axes.size());
    if (block) {
      std::int64_t o = 1, r = 1, in = 1;
      for (int i = 0; i < first; ++i) o *= s[i];
      for (int a : axes) r *= s[a];
      for (int i = axes.back() + 1; i < x.dim(); ++i) in *= s[i];
      kernels::cpu::sum_middle_axis(px, out.data<T>(), o, r, in);
      return;
    }
    std::vector<T> gathered(static_cast<std::size_t>(outer * reduce));
    kernels::cpu::copy_strided(px, perm_strides, gathered.data(), contiguous_strides(perm_shape), perm_shape);
    kernels::cpu::sum_middle_axis(gathered.data(), out.data<T>(), outer, reduce, std::int64_t{1});
  });
  return out;
}

class SumBackward final : public Node {
 public:
  SumBackward(Shape input_shape, std::vector<int> axes, double scale)
      : input_shape_(std::move(input_shape)), axes_(std::move(axes)), scale_(scale) {}
  const char* name() const override { return "SumBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // Re-insert the reduced axes as size 1, then broadcast back.
    Shape keep_shape = reduced_shape(input_shape_, axes_, true);
    Tensor gi = broadcast_to(g.reshape(keep_shape), input_shape_);
    return {scale_ == 1.0 ? gi : mul(gi, scale_)};
  }

 private:
  Shape input_shape_;
  std::vector<int> axes_;
  double scale_;
};

Tensor reduce_impl(const char* op, const Tensor& x, const std::vector<std::int64_t>& axes_in, bool keepdim,
                   bool average) {
  check_floating(op, x, "the input");
  std::vector<int> axes = normalize_axes(axes_in, x.dim(), op);
  std::int64_t count = 1;
  for (int a : axes) count *= x.shape()[a];
  Tensor out = sum_forward(x, axes, reduced_shape(x.shape(), axes, keepdim));
  double scale = 1.0;
  if (average) {
    SCEALD_CHECK(count > 0, op, ": the mean of zero elements (input ", x.str(), ") is undefined");
    scale = 1.0 / static_cast<double>(count);
    NoGradGuard no_grad;
    out = mul(out, scale);
  }
  record<SumBackward>(out, {&x}, x.shape(), axes, scale);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_impl("sum", x, {}, false, false); }
Tensor sum(const Tensor& x, std::vector<std::int64_t> axes, bool keepdim) {
  SCEALD_CHECK(!axes.empty(), "sum: the list of axes is empty (call sum(x) to reduce every axis)");
  return reduce_impl("sum", x, axes, keepdim, false);
}
Tensor mean(const Tensor& x) { return reduce_impl("mean", x, {}, false, true); }
Tensor mean(const Tensor& x, std::vector<std::int64_t> axes, bool keepdim) {
  SCEALD_CHECK(!axes.empty(), "mean: the list of axes is empty (call mean(x) to reduce every axis)");
  return reduce_impl("mean", x, axes, keepdim, true);
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  SCEALD_CHECK(broadcast_shapes(g.shape(), shape, "sum_to_shape") == g.shape(), "sum_to_shape: ",
               shape_str(shape), " does not broadcast to ", shape_str(g.shape()));
  const std::size_t lead = g.shape().size() - shape.size();
  std::vector<std::int64_t> axes;
  for (std::size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(static_cast<std::int64_t>(i));
  if (axes.empty()) return g.reshape(shape);
  return sum(g, axes, true).reshape(shape);
}

namespace {
class BroadcastBackward final : public Node {
 public:
  explicit BroadcastBackward(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  const char* name() const override { return "BroadcastBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {sum_to_shape(g, input_shape_)}; }

 private:
  Shape input_shape_;
};
}  // namespace

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined("broadcast_to", x, "the input");
  SCEALD_CHECK(broadcast_shapes(x.shape(), shape, "broadcast_to") == shape, "broadcast_to: ", x.str(),
               " cannot be broadcast to ", shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  copy_into(out, Tensor::from_storage(x.storage(), shape, broadcast_strides(x, shape), x.offset(), x.dtype()));
  record<BroadcastBackward>(out, {&x}, x.shape());
  return out;
}

}  // namespace sceald
