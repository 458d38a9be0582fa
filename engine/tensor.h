// Tensor: a small handle (shape, strides, dtype, device, offset) over a shared
// Storage, plus the autograd state of that handle.
//
// Copying a Tensor copies the handle, not the data (both see the same
// elements and the same gradient). view()/reshape() of a contiguous tensor
// and transpose() share storage; clone(), contiguous() of a strided tensor and
// to() copy, and say so in their names. Nothing crosses between host and
// device unless to(Device) is called.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace sceald {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories (new, contiguous storage)
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = Device::cpu());
  // Copies `values` (row-major) into a new CPU tensor; their count must match the shape.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  static Tensor scalar(double value, DType dtype = DType::Float32);
  // A view over existing storage; checks that the extent fits inside it.
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Shape& strides,
                             std::int64_t offset, DType dtype);

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t size(std::int64_t axis) const;  // negative axes count from the end
  std::int64_t numel() const;
  std::int64_t offset() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  std::string str() const;  // "float32[2, 3] on cpu"

  // ---- data access (CPU tensors only; T must match the dtype)
  template <typename T> T* data();
  template <typename T> const T* data() const;
  void* raw_data() const;  // first element, any device
  template <typename T> T item() const;           // a one-element tensor's value
  template <typename T> std::vector<T> to_vector() const;  // row-major copy, any layout

  // ---- layout (views share storage; the rest copy, as their names say)
  Tensor view(const Shape& shape) const;     // contiguous tensors only; one extent may be -1
  Tensor reshape(const Shape& shape) const;  // view when contiguous, otherwise a contiguous copy first
  Tensor transpose(std::int64_t a, std::int64_t b) const;  // strided view
  Tensor contiguous() const;                 // itself if contiguous, else a copy
  Tensor clone() const;                      // always a copy (differentiable)
  Tensor to(Device device) const;            // copy across devices (itself when already there)
  Tensor to(DType dtype) const;              // converting copy (itself when already that type)
  Tensor detach() const;                     // same data, no autograd history
  void copy_(const Tensor& src);             // element-wise copy into this (no autograd)
  void fill_(double value);                  // no autograd

  // ---- autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value);  // leaves only
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<Node> fn);  // used by ops: marks this an output of `fn`
  Tensor& grad();                              // undefined until a backward reaches it
  const Tensor& grad() const;
  void zero_grad();                            // drops the gradient
  // Runs backward from this tensor. A non-scalar needs `grad_output` of its shape.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  TensorImpl& checked_impl() const;
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  std::int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  // autograd
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;              // set on op outputs
  std::weak_ptr<Node> grad_accumulator;       // cached for leaves
  Tensor grad;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace sceald
