#include "engine/ops/op_checks.h"

#include "engine/cuda/ops.h"
#include "engine/error.h"

namespace sceald {

void check_defined(const char* op, const Tensor& t, const char* what) {
  SCEALD_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

void check_floating(const char* op, const Tensor& t, const char* what) {
  check_defined(op, t, what);
  SCEALD_CHECK(is_floating(t.dtype()), op, ": ", what, " must be float32 or float64, got ", t.str());
}

void check_dim(const char* op, const Tensor& t, std::int64_t dim, const char* what) {
  check_defined(op, t, what);
  SCEALD_CHECK(t.dim() == dim, op, ": ", what, " must have ", dim, " dimensions, got shape ", shape_str(t.shape()));
}

void check_same_dtype_device(const char* op, const Tensor& a, const Tensor& b) {
  SCEALD_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a.str(), " vs ", b.str());
  SCEALD_CHECK(a.device() == b.device(), op, ": devices differ: ", a.str(), " vs ", b.str(),
               " (copy explicitly with .to(device))");
}

bool runs_on_cuda(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    SCEALD_CHECK(t->device() == first->device(), op, ": tensors on different devices: ", first->str(), " and ",
                 t->str(), " (copy explicitly with .to(device))");
  }
  return first != nullptr && first->device().is_cuda();
}

bool on_cuda(const char* op, std::initializer_list<const Tensor*> tensors) {
  bool any_cuda = false;
  for (const Tensor* t : tensors)
    if (t && t->defined() && t->device().is_cuda()) any_cuda = true;
  if (any_cuda)
    throw Error(str_cat(op, ": no CUDA kernel for this op yet; copy the inputs to the CPU with .to(Device::cpu())"));
  return false;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.device().is_cuda() && src.device() == dst.device() && src.dtype() == dst.dtype() &&
      !(src.is_contiguous() && dst.is_contiguous())) {
    SCEALD_CHECK(src.shape() == dst.shape(), "copy: source ", src.str(), " and destination ", dst.str(),
                 " differ in shape");
    cuda_ops::copy(src, dst);
    return;
  }
  Tensor(dst).copy_(src);
}

Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  const Shape& ts = t.shape();
  const Shape& st = t.strides();
  Shape out(shape.size(), 0);
  const std::size_t lead = shape.size() - ts.size();
  for (std::size_t i = 0; i < ts.size(); ++i) out[lead + i] = ts[i] == 1 ? 0 : st[i];
  return out;
}

}  // namespace sceald
