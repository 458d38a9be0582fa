// Shared plumbing of the engine/cuda/ops_*.cpp files (CUDA builds only):
// the device check every entry point starts with, typed pointers, scratch
// buffers from the caching allocator.
#pragma once

#ifndef SCEALD_WITH_CUDA
#error "engine/cuda/op_support.h is for builds with the CUDA backend (SCEALD_WITH_CUDA)"
#endif

#include <initializer_list>

#include "engine/cuda/context.h"
#include "engine/tensor.h"

namespace sceald::cuda_ops {

// The device and stream of one op's call. The constructor checks that every
// defined tensor is on one CUDA device (an error names the op and the
// tensors), makes that device current and fetches its stream.
class OpContext {
 public:
  OpContext(const char* op, std::initializer_list<const Tensor*> tensors) : op_(op) {
    const Tensor* first = nullptr;
    for (const Tensor* t : tensors) {
      if (!t || !t->defined()) continue;
      SCEALD_CHECK(t->device().is_cuda(), op, ": the CUDA kernel got ", t->str(),
                   "; every tensor of one op must be on the same GPU (copy explicitly with .to(device))");
      if (!first) first = t;
      SCEALD_CHECK(t->device() == first->device(), op, ": tensors on different GPUs: ", first->str(), " and ",
                   t->str());
    }
    SCEALD_CHECK(first != nullptr, op, ": no CUDA tensor given to the CUDA kernel");
    device_ = first->device().index;
    stream_ = cuda::stream_for(device_);
  }
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  const char* op() const { return op_; }
  // The debug synchronisation point; call last.
  void finish() const { cuda::finish_op(op_, device_); }

 private:
  const char* op_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
};

// The first element of t as T* (null for an undefined tensor).
template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// A float64 device buffer of `count` elements from the caching allocator,
// released (back to the cache) when the returned tensor goes. Safe to drop
// right after queuing the kernels that use it: later work on the same stream
// runs after them.
inline Tensor scratch_doubles(std::int64_t count, int device) {
  return Tensor::empty({count > 0 ? count : 1}, DType::Float64, Device::cuda(device));
}

// The common shape of an entry point: check the devices, dispatch on the
// floating dtype, queue the kernels, then the debug synchronisation.
// body(T{}, stream) queues the work for element type T.
template <typename F>
void run_op(const char* op, DType dtype, std::initializer_list<const Tensor*> tensors, F&& body) {
  OpContext ctx(op, tensors);
  dispatch_floating(dtype, op, [&](auto tag) { body(tag, ctx.stream()); });
  ctx.finish();
}

}  // namespace sceald::cuda_ops
