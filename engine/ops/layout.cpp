#include "engine/ops/layout.h"

#include <numeric>

#include "engine/autograd/node.h"
#include "engine/ops/op_checks.h"

namespace sceald {

namespace {

class ReshapeBackward final : public Node {
 public:
  explicit ReshapeBackward(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  const char* name() const override { return "ReshapeBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.reshape(input_shape_)}; }

 private:
  Shape input_shape_;
};

Shape infer_shape(const Shape& requested, std::int64_t numel, const char* op, const Tensor& x) {
  Shape shape = requested;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      SCEALD_CHECK(infer < 0, op, ": more than one -1 in ", shape_str(requested));
      infer = static_cast<int>(i);
    } else {
      SCEALD_CHECK(shape[i] >= 0, op, ": negative extent in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    SCEALD_CHECK(known > 0 && numel % known == 0, op, ": cannot infer -1 in ", shape_str(requested), " for ", x.str());
    shape[infer] = numel / known;
  }
  SCEALD_CHECK(shape_numel(shape) == numel, op, ": shape ", shape_str(requested), " does not hold the ", numel,
               " elements of ", x.str());
  return shape;
}

class TransposeBackward final : public Node {
 public:
  TransposeBackward(std::int64_t a, std::int64_t b) : a_(a), b_(b) {}
  const char* name() const override { return "TransposeBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.transpose(a_, b_)}; }

 private:
  std::int64_t a_, b_;
};

class CopyBackward final : public Node {
 public:
  CopyBackward(Device device, DType dtype) : device_(device), dtype_(dtype) {}
  const char* name() const override { return "CopyBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.to(device_).to(dtype_)}; }

 private:
  Device device_;
  DType dtype_;
};

Tensor copy_as(const Tensor& x, Device device, DType dtype) {
  Tensor out = Tensor::empty(x.shape(), dtype, device);
  if (device == x.device() || dtype == x.dtype()) {
    copy_into(out, x.device() == device ? x : x.contiguous());
  } else {
    copy_into(out, x.to(dtype).contiguous());
  }
  record<CopyBackward>(out, {&x}, x.device(), x.dtype());
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  SCEALD_CHECK(is_contiguous(), "view: ", str(), " is not contiguous; use reshape() or contiguous() first");
  Shape shape = infer_shape(requested, numel(), "view", *this);
  Tensor out = Tensor::from_storage(storage(), shape, contiguous_strides(shape), offset(), dtype());
  record<ReshapeBackward>(out, {this}, this->shape());
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  return is_contiguous() ? view(requested) : contiguous().view(requested);
}

Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  const int ia = normalize_axis(a, dim(), "transpose"), ib = normalize_axis(b, dim(), "transpose");
  Shape shape = this->shape(), st = strides();
  std::swap(shape[ia], shape[ib]);
  std::swap(st[ia], st[ib]);
  Tensor out = Tensor::from_storage(storage(), shape, st, offset(), dtype());
  record<TransposeBackward>(out, {this}, ia, ib);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }
Tensor Tensor::clone() const { return copy_as(*this, device(), dtype()); }

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  return copy_as(is_contiguous() ? *this : contiguous(), device, dtype());
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  SCEALD_CHECK(device().is_cpu(), "to(", dtype_name(dtype), "): converting ", str(),
               " needs the CPU; copy it there first");
  return copy_as(*this, device(), dtype);
}

Tensor flatten(const Tensor& x, std::int64_t start_axis) {
  check_defined("flatten", x, "the input");
  const int start = normalize_axis(start_axis, x.dim(), "flatten");
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  shape.push_back(-1);
  return x.reshape(shape);
}

namespace {
class PermuteBackward final : public Node {
 public:
  explicit PermuteBackward(std::vector<std::int64_t> inverse) : inverse_(std::move(inverse)) {}
  const char* name() const override { return "PermuteBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {permute(g, inverse_)}; }

 private:
  std::vector<std::int64_t> inverse_;
};
}  // namespace

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order) {
  check_defined("permute", x, "the input");
  SCEALD_CHECK(static_cast<std::int64_t>(order.size()) == x.dim(), "permute: ", order.size(),
               " axes given for a tensor of shape ", shape_str(x.shape()));
  Shape shape, st;
  std::vector<std::int64_t> inverse(order.size(), -1);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int a = normalize_axis(order[i], x.dim(), "permute");
    SCEALD_CHECK(inverse[a] < 0, "permute: axis ", a, " appears twice");
    inverse[a] = static_cast<std::int64_t>(i);
    shape.push_back(x.shape()[a]);
    st.push_back(x.strides()[a]);
  }
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  {
    NoGradGuard no_grad;
    copy_into(out, Tensor::from_storage(x.storage(), shape, st, x.offset(), x.dtype()));
  }
  record<PermuteBackward>(out, {&x}, inverse);
  return out;
}

namespace {
class ConcatBackward final : public Node {
 public:
  ConcatBackward(int axis, std::vector<std::int64_t> sizes) : axis_(axis), sizes_(std::move(sizes)) {}
  const char* name() const override { return "ConcatBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> grads(sizes_.size());
    std::int64_t start = 0;
    for (std::size_t i = 0; i < sizes_.size(); ++i) {
      if (needs_input_grad(i)) {
        Shape shape = g.shape();
        shape[axis_] = sizes_[i];
        Tensor slice = Tensor::from_storage(g.storage(), shape, g.strides(), g.offset() + start * g.strides()[axis_],
                                            g.dtype());
        grads[i] = slice.contiguous();
      }
      start += sizes_[i];
    }
    return grads;
  }

 private:
  int axis_;
  std::vector<std::int64_t> sizes_;
};
}  // namespace

Tensor concat(const std::vector<Tensor>& parts, std::int64_t axis_in) {
  SCEALD_CHECK(!parts.empty(), "concat: no tensors given");
  const Tensor& first = parts.front();
  check_defined("concat", first, "tensor 0");
  const int axis = normalize_axis(axis_in, first.dim(), "concat");
  Shape shape = first.shape();
  shape[axis] = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Tensor& p = parts[i];
    check_defined("concat", p, "a part");
    check_same_dtype_device("concat", first, p);
    bool ok = p.dim() == first.dim();
    for (int d = 0; ok && d < first.dim(); ++d) ok = d == axis || p.shape()[d] == first.shape()[d];
    SCEALD_CHECK(ok, "concat: tensor ", i, " of shape ", shape_str(p.shape()), " does not match tensor 0 of shape ",
                 shape_str(first.shape()), " outside axis ", axis);
    sizes.push_back(p.shape()[axis]);
    shape[axis] += p.shape()[axis];
  }
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  {
    NoGradGuard no_grad;
    std::int64_t start = 0;
    for (const Tensor& p : parts) {
      Tensor dst = Tensor::from_storage(out.storage(), p.shape(), out.strides(), start * out.strides()[axis], out.dtype());
      copy_into(dst, p);
      start += p.shape()[axis];
    }
  }
  // record() takes a fixed list; build the node by hand for n inputs.
  bool needs = false;
  for (const Tensor& p : parts) needs = needs || (GradMode::enabled() && p.requires_grad());
  if (needs) {
    auto node = std::make_shared<ConcatBackward>(axis, sizes);
    std::vector<std::shared_ptr<Node>> next;
    for (const Tensor& p : parts) next.push_back(gradient_edge(p));
    node->set_next(std::move(next));
    out.set_grad_fn(node);
  }
  return out;
}

}  // namespace sceald
