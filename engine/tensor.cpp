#include "engine/tensor.h"

#include <cstring>
#include <ostream>

#include "engine/autograd/node.h"
#include "engine/cuda_runtime.h"
#include "kernels/cpu/strided.h"

namespace sceald {

TensorImpl& Tensor::checked_impl() const {
  SCEALD_CHECK(impl_ != nullptr, "use of an undefined tensor (a default-constructed Tensor, or a gradient "
                                 "that no backward has produced yet)");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  std::int64_t n = shape_numel(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<std::size_t>(n) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  t.fill_(value);
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  SCEALD_CHECK(static_cast<std::int64_t>(values.size()) == shape_numel(shape), "Tensor::from_vector: ",
               values.size(), " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>::value);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<std::int64_t>&, const Shape&);

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Shape& strides,
                            std::int64_t offset, DType dtype) {
  SCEALD_CHECK(shape.size() == strides.size(), "Tensor::from_storage: shape ", shape_str(shape), " and strides ",
               shape_str(strides), " differ in length");
  std::int64_t n = shape_numel(shape);
  if (n > 0) {
    std::int64_t last = offset;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      SCEALD_CHECK(strides[i] >= 0, "Tensor::from_storage: negative stride ", strides[i]);
      last += (shape[i] - 1) * strides[i];
    }
    SCEALD_CHECK(offset >= 0 && static_cast<std::size_t>(last + 1) * dtype_size(dtype) <= storage->bytes(),
                 "Tensor::from_storage: a ", dtype_name(dtype), " view of shape ", shape_str(shape), " at offset ",
                 offset, " reaches past the storage's ", storage->bytes(), " bytes");
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

const Shape& Tensor::shape() const { return checked_impl().shape; }
const Shape& Tensor::strides() const { return checked_impl().strides; }
std::int64_t Tensor::size(std::int64_t axis) const { return shape()[normalize_axis(axis, dim(), "Tensor::size")]; }
std::int64_t Tensor::numel() const { return shape_numel(shape()); }
std::int64_t Tensor::offset() const { return checked_impl().offset; }
DType Tensor::dtype() const { return checked_impl().dtype; }
Device Tensor::device() const { return checked_impl().storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked_impl().storage; }

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked_impl();
  std::int64_t expected = 1;
  for (std::size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return str_cat(dtype_name(dtype()), shape_str(shape()), " on ", device().str());
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked_impl();
  return static_cast<char*>(t.storage->data()) + t.offset * static_cast<std::int64_t>(dtype_size(t.dtype));
}

template <typename T>
T* Tensor::data() {
  SCEALD_CHECK(dtype() == dtype_of<T>::value, "Tensor::data: the tensor is ", str(), ", not ",
               dtype_name(dtype_of<T>::value));
  SCEALD_CHECK(device().is_cpu(), "Tensor::data: the tensor ", str(), " is not on the CPU; copy it with .to(cpu)");
  return static_cast<T*>(raw_data());
}
template <typename T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template float* Tensor::data();
template double* Tensor::data();
template std::int64_t* Tensor::data();
template const float* Tensor::data() const;
template const double* Tensor::data() const;
template const std::int64_t* Tensor::data() const;

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = device().is_cpu() ? *this : to(Device::cpu());
  std::vector<T> out(static_cast<std::size_t>(numel()));
  Shape out_strides = contiguous_strides(shape());
  switch (dtype()) {
    case DType::Float32:
      kernels::cpu::copy_strided(static_cast<const float*>(host.raw_data()), host.strides(), out.data(), out_strides, shape());
      break;
    case DType::Float64:
      kernels::cpu::copy_strided(static_cast<const double*>(host.raw_data()), host.strides(), out.data(), out_strides, shape());
      break;
    case DType::Int64:
      kernels::cpu::copy_strided(static_cast<const std::int64_t*>(host.raw_data()), host.strides(), out.data(), out_strides, shape());
      break;
  }
  return out;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<std::int64_t> Tensor::to_vector() const;

template <typename T>
T Tensor::item() const {
  SCEALD_CHECK(numel() == 1, "Tensor::item: the tensor ", str(), " has ", numel(), " elements, not 1");
  return to_vector<T>()[0];
}
template float Tensor::item() const;
template double Tensor::item() const;
template std::int64_t Tensor::item() const;

namespace {
template <typename Dst>
void copy_any_to(const Tensor& src, Dst* dst, const Shape& dst_strides) {
  switch (src.dtype()) {
    case DType::Float32:
      kernels::cpu::copy_strided(static_cast<const float*>(src.raw_data()), src.strides(), dst, dst_strides, src.shape());
      break;
    case DType::Float64:
      kernels::cpu::copy_strided(static_cast<const double*>(src.raw_data()), src.strides(), dst, dst_strides, src.shape());
      break;
    case DType::Int64:
      kernels::cpu::copy_strided(static_cast<const std::int64_t*>(src.raw_data()), src.strides(), dst, dst_strides, src.shape());
      break;
  }
}
}  // namespace

void Tensor::copy_(const Tensor& src) {
  SCEALD_CHECK(src.shape() == shape(), "copy_: source ", src.str(), " and destination ", str(), " differ in shape");
  if (device().is_cpu() && src.device().is_cpu()) {
    switch (dtype()) {
      case DType::Float32: copy_any_to(src, static_cast<float*>(raw_data()), strides()); break;
      case DType::Float64: copy_any_to(src, static_cast<double*>(raw_data()), strides()); break;
      case DType::Int64: copy_any_to(src, static_cast<std::int64_t*>(raw_data()), strides()); break;
    }
    return;
  }
  // Across devices: both sides contiguous and of one dtype, then one memcpy.
  SCEALD_CHECK(src.dtype() == dtype() && src.is_contiguous() && is_contiguous(), "copy_: a copy between ",
               src.str(), " and ", str(), " needs equal dtypes and contiguous tensors");
  std::size_t bytes = static_cast<std::size_t>(numel()) * dtype_size(dtype());
  if (bytes == 0) return;
  if (src.device().is_cpu()) {
    cuda::copy_host_to_device(raw_data(), src.raw_data(), bytes, device().index);
  } else if (device().is_cpu()) {
    cuda::copy_device_to_host(raw_data(), src.raw_data(), bytes, src.device().index);
  } else {
    SCEALD_CHECK(src.device() == device(), "copy_: copies between two GPUs are not supported (", src.str(), " to ",
                 str(), ")");
    cuda::copy_device_to_device(raw_data(), src.raw_data(), bytes, device().index);
  }
}

void Tensor::fill_(double value) {
  SCEALD_CHECK(device().is_cpu(), "fill_: ", str(), " is not on the CPU");
  Shape s = strides();
  auto fill = [&](auto* p, auto v) {
    kernels::cpu::for_each_index2(shape(), s, s, [&](std::int64_t a, std::int64_t) { p[a] = v; });
  };
  switch (dtype()) {
    case DType::Float32: fill(static_cast<float*>(raw_data()), static_cast<float>(value)); break;
    case DType::Float64: fill(static_cast<double*>(raw_data()), value); break;
    case DType::Int64: fill(static_cast<std::int64_t*>(raw_data()), static_cast<std::int64_t>(value)); break;
  }
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked_impl();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->shape = t.shape;
  impl->strides = t.strides;
  impl->offset = t.offset;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

bool Tensor::requires_grad() const { return checked_impl().requires_grad; }

Tensor& Tensor::set_requires_grad(bool value) {
  TensorImpl& t = checked_impl();
  SCEALD_CHECK(t.grad_fn == nullptr, "set_requires_grad: ", str(),
               " is the output of an op; only leaf tensors can change requires_grad (use detach())");
  SCEALD_CHECK(!value || is_floating(t.dtype), "set_requires_grad: only floating tensors can require a gradient, not ",
               str());
  t.requires_grad = value;
  return *this;
}

bool Tensor::is_leaf() const { return checked_impl().grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked_impl().grad_fn; }

void Tensor::set_grad_fn(std::shared_ptr<Node> fn) {
  TensorImpl& t = checked_impl();
  t.grad_fn = std::move(fn);
  t.requires_grad = t.grad_fn != nullptr;
}

Tensor& Tensor::grad() { return checked_impl().grad; }
const Tensor& Tensor::grad() const { return checked_impl().grad; }
void Tensor::zero_grad() { checked_impl().grad = Tensor(); }

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  run_backward(*this, grad_output, retain_graph);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  os << t.str();
  if (!t.defined() || t.numel() > 64 || !is_floating(t.dtype())) return os;
  os << " {";
  std::vector<double> v = t.to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os << "}";
}

}  // namespace sceald
