#include "kernels/cuda/cublas_gemm.h"

#include <climits>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/status.h"

namespace sceald::kernels::cuda {

namespace {

int as_int(std::int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw std::runtime_error(std::string("gemm: ") + what + " = " + std::to_string(v) +
                             " is outside cuBLAS's int range; split the batch");
  return static_cast<int>(v);
}

cublasStatus_t call_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const float* alpha, const float* A, int lda, long long sa, const float* B, int ldb,
                         long long sb, const float* beta, float* C, int ldc, long long sc, int batch) {
  if (batch == 1) return cublasSgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

cublasStatus_t call_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const double* alpha, const double* A, int lda, long long sa, const double* B, int ldb,
                         long long sb, const double* beta, double* C, int ldc, long long sc, int batch) {
  if (batch == 1) return cublasDgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  return cublasDgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

}  // namespace

template <typename T>
void gemm(cublasHandle_t handle, bool allow_tf32, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
          std::int64_t K, T alpha, const T* A, std::int64_t lda, std::int64_t stride_a, const T* B, std::int64_t ldb,
          std::int64_t stride_b, T beta, T* C, std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {
    // An empty sum: C = beta C. Only beta 0 and 1 occur in the engine.
    if (beta == T(0)) {
      cudaStream_t stream = nullptr;
      SCEALD_CUBLAS_OK(cublasGetStream(handle, &stream));
      if (ldc != N) throw std::runtime_error("gemm: K == 0 with a strided output is not supported");
      for (std::int64_t b = 0; b < batch; ++b)
        SCEALD_CUDA_OK(cudaMemsetAsync(C + b * stride_c, 0, static_cast<std::size_t>(M * N) * sizeof(T), stream));
    } else if (beta != T(1)) {
      throw std::runtime_error("gemm: K == 0 with beta other than 0 or 1 is not supported");
    }
    return;
  }
  const int m = as_int(M, "M"), n = as_int(N, "N"), k = as_int(K, "K");
  const int ia = as_int(lda, "lda"), ib = as_int(ldb, "ldb"), ic = as_int(ldc, "ldc");
  const int nb = as_int(batch, "batch");
  SCEALD_CUBLAS_OK(cublasSetMathMode(handle, allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // Row-major C = op(A) op(B)  <=>  column-major C^T = op(B)^T op(A)^T: swap the operands.
  SCEALD_CUBLAS_OK(
      call_gemm(handle, op_b, op_a, n, m, k, &alpha, B, ib, stride_b, A, ia, stride_a, &beta, C, ic, stride_c, nb));
}

template void gemm<float>(cublasHandle_t, bool, bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                          const float*, std::int64_t, std::int64_t, const float*, std::int64_t, std::int64_t, float,
                          float*, std::int64_t, std::int64_t, std::int64_t);
template void gemm<double>(cublasHandle_t, bool, bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                           const double*, std::int64_t, std::int64_t, const double*, std::int64_t, std::int64_t, double,
                           double*, std::int64_t, std::int64_t, std::int64_t);

}  // namespace sceald::kernels::cuda
