// Matrix products on top of the CPU GEMM (kernels/cpu/gemm.h).
#pragma once

#include "engine/tensor.h"

namespace sceald {

// a [M, K] @ b [K, N] -> [M, N]; batched: a [B, M, K] @ b [B, K, N] -> [B, M, N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x [N, in] with weight [out, in] (PyTorch's layout) and bias [out] (may be
// undefined) -> [N, out]. Transposes are handled by GEMM operand order, never copied.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace sceald
