// Row-major GEMM through cuBLAS, with no transposed copies.
//
// cuBLAS is column-major. A row-major matrix X [r, c] with leading dimension
// ld is, read column-major, X^T [c, r] with the same ld. So the row-major
// product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T:
// one cublas<t>gemm call with the operands swapped and the same trans flags.
//
// Math: allow_tf32 = false uses CUBLAS_DEFAULT_MATH (FMA in float32, no TF32);
// true uses CUBLAS_TF32_TENSOR_OP_MATH for float32 (float64 is unaffected).
// Host code; work queued on the handle's stream.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

namespace sceald::kernels::cuda {

// For b in [0, batch): C_b [M, N] = alpha op(A_b) op(B_b) + beta C_b, all
// row-major device matrices. op(A) = A [M, K] (ld lda >= K) or, trans_a,
// A^T where A is stored [K, M] (ld lda >= M); likewise B. Matrix b of each
// operand starts b * stride_* elements after the first. With K == 0 the
// product is zero (C = beta C; beta == 0 writes zeros, whatever C held).
// Throws when an extent exceeds cuBLAS's int range.
template <typename T>
void gemm(cublasHandle_t handle, bool allow_tf32, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
          std::int64_t K, T alpha, const T* A, std::int64_t lda, std::int64_t stride_a, const T* B, std::int64_t ldb,
          std::int64_t stride_b, T beta, T* C, std::int64_t ldc, std::int64_t stride_c, std::int64_t batch);

}  // namespace sceald::kernels::cuda
