// Checks shared by the ops: each error names the op and the offending tensors.
#pragma once

#include <initializer_list>

#include "engine/tensor.h"

namespace sceald {

void check_defined(const char* op, const Tensor& t, const char* what);
void check_floating(const char* op, const Tensor& t, const char* what);
void check_dim(const char* op, const Tensor& t, std::int64_t dim, const char* what);
void check_same_dtype_device(const char* op, const Tensor& a, const Tensor& b);
// The op runs its CPU kernels only for CPU tensors; CUDA tensors go to the
// CUDA backend, which reports the op it does not have yet.
bool on_cuda(const char* op, std::initializer_list<const Tensor*> tensors);

// Strides that read `t` as if broadcast to `shape` (0 on broadcast axes).
Shape broadcast_strides(const Tensor& t, const Shape& shape);

}  // namespace sceald
