// Element-wise CUDA kernels: binary ops with NumPy broadcasting, unary maps,
// and strided copies (the CUDA twins of kernels/cpu/elementwise.h and
// kernels/cpu/strided.h). T = float or double. All arrays are device memory;
// `n` counts elements; n == 0 launches nothing. Work is queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/strided_layout.h"

namespace sceald::kernels::cuda {

enum class BinaryOp { Add, Sub, Mul, Div };
enum class UnaryOp { Neg, Exp, Log, Sqrt, Pow, Scale, Shift };

// out (contiguous, row-major over layout's shape, n elements; overwritten)
// = a op b, a and b read through layout.a and layout.b (0 on broadcast axes).
// out may alias a or b when that operand is contiguous over the full shape.
template <typename T>
void binary_broadcast(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout& layout, std::int64_t n,
                      cudaStream_t stream);

// out[i] = f(x[i]) for contiguous x and out (may alias). `value` is the
// exponent (Pow), factor (Scale) or shift (Shift); unused otherwise.
template <typename T>
void unary_map(UnaryOp op, T value, const T* x, T* out, std::int64_t n, cudaStream_t stream);

// dst (read through layout.b) = src (through layout.a), for elements of
// `element_size` 4 or 8 bytes (any dtype: bits are copied, not converted).
void copy_strided(const void* src, void* dst, std::size_t element_size, const StridedLayout& layout, std::int64_t n,
                  cudaStream_t stream);

}  // namespace sceald::kernels::cuda
