// Dense matrix multiplication on the CPU: the engine's one GEMM, used by
// Linear and by convolution through im2col, plus plain references for tests.
//
// All matrices are row-major with explicit row strides (leading dimensions,
// in elements, >= the row length). Nothing here allocates per element or keeps
// state between calls beyond per-thread packing buffers that are reused.
#pragma once

#include <cstdint>

namespace sceald::kernels::cpu {

// C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T.
//
//   op(A) is M x K: A is stored M x K (trans_a == false, element (i, k) at
//         A[i * lda + k], lda >= K) or K x M (trans_a == true, element (i, k)
//         at A[k * lda + i], lda >= M).
//   op(B) is K x N: B is stored K x N (trans_b == false, (k, j) at
//         B[k * ldb + j], ldb >= N) or N x K (trans_b == true, (k, j) at
//         B[j * ldb + k], ldb >= K).
//   C is M x N, (i, j) at C[i * ldc + j], ldc >= N. Only the M x N elements
//         are written; the padding between rows is left alone.
//
// beta == 0 means C is overwritten and never read (NaN or garbage in C does
// not leak into the result); beta == 1 accumulates into C. K == 0 or
// alpha == 0 give C = beta * C (zero when beta == 0). M == 0 or N == 0 do
// nothing. A, B and C must not overlap.
//
// sgemm is a packed, cache-blocked, register-blocked kernel (AVX-512, AVX2 or
// portable micro-kernel chosen at run time) and uses up to
// omp_get_max_threads() OpenMP threads for problems big enough to profit
// (one thread when called from inside a parallel region). dgemm shares the
// blocking and packing with a portable micro-kernel; it exists for float64
// gradient checks, not for speed.
void sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
           const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
           std::int64_t ldc);
void dgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, double alpha,
           const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta, double* C,
           std::int64_t ldc);

// sgemm or dgemm by element type, for code templated on float and double.
inline void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                 const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                 std::int64_t ldc) {
  sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, double alpha,
                 const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta, double* C,
                 std::int64_t ldc) {
  dgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// The same contract as sgemm/dgemm, as a plain triple loop that accumulates
// each dot product in double (for T = float or double). Slow; for tests and
// for validating benchmarks.
template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                    const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc);

// The micro-kernel sgemm uses on this machine: "avx512", "avx2" or
// "portable" (after any sgemm_force_isa).
const char* sgemm_isa();

// For tests and benchmarks: force sgemm onto one path ("avx512", "avx2",
// "portable"), or "" / nullptr to go back to the automatic choice. Throws
// std::invalid_argument for an unknown name and std::runtime_error for a path
// this CPU cannot run. Process-wide; not meant to be changed while another
// thread is inside sgemm.
void sgemm_force_isa(const char* isa);

}  // namespace sceald::kernels::cpu
