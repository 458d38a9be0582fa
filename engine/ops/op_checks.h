// Checks shared by the ops: each error names the op and the offending tensors.
#pragma once

#include <initializer_list>

#include "engine/tensor.h"

namespace sceald {

void check_defined(const char* op, const Tensor& t, const char* what);
void check_floating(const char* op, const Tensor& t, const char* what);
void check_dim(const char* op, const Tensor& t, std::int64_t dim, const char* what);
void check_same_dtype_device(const char* op, const Tensor& a, const Tensor& b);
// Where an op with a CUDA path runs: true when its (defined) tensors are on
// a GPU, so it takes that path (engine/cuda/ops.h); false when they are all
// on the CPU. Tensors on different devices are an error naming the op and
// both tensors: nothing is copied between devices behind the caller's back.
bool runs_on_cuda(const char* op, std::initializer_list<const Tensor*> tensors);
// The guard of code that has CPU kernels only: CUDA tensors get an error
// naming the op (copy the inputs to the CPU). Returns false.
bool on_cuda(const char* op, std::initializer_list<const Tensor*> tensors);
// dst = src element by element (no autograd): same shape and dtype, any
// strides on either side. Tensor::copy_ handles host<->device and dense
// copies; strided views on one GPU go to the CUDA copy kernel.
void copy_into(const Tensor& dst, const Tensor& src);

// Strides that read `t` as if broadcast to `shape` (0 on broadcast axes).
Shape broadcast_strides(const Tensor& t, const Shape& shape);

}  // namespace sceald
