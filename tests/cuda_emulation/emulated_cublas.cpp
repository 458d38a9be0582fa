// The stand-in cuBLAS of the emulated-device build (cublas_v2.h): handles
// and column-major GEMMs by cuBLAS's documented contract. TEST-ONLY.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>

#include "cublas_v2.h"
#include "emulated_device.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

namespace {

std::mutex record_mutex;
cuda_emulation::CublasCall last_call{"", CUBLAS_DEFAULT_MATH, false, 0, 0, 0, 0};
std::uint64_t call_count = 0;

cublasStatus_t refuse(const char* api, cublasStatus_t status, const std::string& why) {
  cuda_emulation::report(api, why);
  return status;
}

// A stored column-major matrix of `rows` x `cols` with leading dimension ld
// spans (cols - 1) ld + rows elements.
std::size_t span(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<std::size_t>(cols - 1) * static_cast<std::size_t>(ld) + rows;
}

template <typename T>
T operand(T v, bool tf32) {
  if constexpr (sizeof(T) == sizeof(float)) return tf32 ? cuda_emulation::round_to_tf32(v) : v;
  return v;
}

template <typename T>
cublasStatus_t gemm(const char* api, cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const T* alpha, const T* A, int lda, long long sa, const T* B, int ldb, long long sb,
                    const T* beta, T* C, int ldc, long long sc, int batch) {
  if (!h) return refuse(api, CUBLAS_STATUS_NOT_INITIALIZED, "null handle");
  const bool trans_a = ta != CUBLAS_OP_N, trans_b = tb != CUBLAS_OP_N;
  // The stored shapes: op(A) is m x k, op(B) is k x n.
  const int a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  const int b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  if (m < 0 || n < 0 || k < 0 || batch < 0)
    return refuse(api, CUBLAS_STATUS_INVALID_VALUE, "negative size or batch count");
  if (lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m))
    return refuse(api, CUBLAS_STATUS_INVALID_VALUE,
                  "a leading dimension is shorter than its operand's stored rows (m=" + std::to_string(m) +
                      " n=" + std::to_string(n) + " k=" + std::to_string(k) + " lda=" + std::to_string(lda) +
                      " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc) + ")");
  if (!alpha || !beta) return refuse(api, CUBLAS_STATUS_INVALID_VALUE, "null alpha or beta");
  if (h->pointer_mode != CUBLAS_POINTER_MODE_HOST)
    return refuse(api, CUBLAS_STATUS_NOT_SUPPORTED, "only host pointer mode is emulated");
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  // Every batch's operands must be device memory.
  for (int b = 0; b < batch; ++b) {
    const std::size_t bytes_a = span(a_rows, a_cols, lda) * sizeof(T), bytes_b = span(b_rows, b_cols, ldb) * sizeof(T);
    if (!cuda_emulation::require_device_range(api, "A", A + b * sa, bytes_a) ||
        !cuda_emulation::require_device_range(api, "B", B + b * sb, bytes_b) ||
        !cuda_emulation::require_device_range(api, "C", C + b * sc, span(m, n, ldc) * sizeof(T)))
      return CUBLAS_STATUS_INVALID_VALUE;
  }
  const bool tf32 = sizeof(T) == sizeof(float) && h->math == CUBLAS_TF32_TENSOR_OP_MATH;
  for (int b = 0; b < batch; ++b) {
    const T* a = A + b * sa;
    const T* bm = B + b * sb;
    T* c = C + b * sc;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        T sum = 0;
        for (int l = 0; l < k; ++l) {
          const T av = trans_a ? a[l + static_cast<std::size_t>(i) * lda] : a[i + static_cast<std::size_t>(l) * lda];
          const T bv = trans_b ? bm[j + static_cast<std::size_t>(l) * ldb] : bm[l + static_cast<std::size_t>(j) * ldb];
          sum = std::fma(operand(av, tf32), operand(bv, tf32), sum);
        }
        T& out = c[i + static_cast<std::size_t>(j) * ldc];
        out = *beta == T(0) ? *alpha * sum : *alpha * sum + *beta * out;  // beta 0: C is not read
      }
  }
  std::lock_guard<std::mutex> lock(record_mutex);
  last_call = {api, h->math, tf32, m, n, k, batch};
  ++call_count;
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return refuse("cublasCreate", CUBLAS_STATUS_INVALID_VALUE, "null result pointer");
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    default:
      return "an emulated cuBLAS error";
  }
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  return gemm("cublasSgemm", h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* A, int lda, const double* B, int ldb,
                           const double* beta, double* C, int ldc) {
  return gemm("cublasDgemm", h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* A, int lda, long long int sa,
                                         const float* B, int ldb, long long int sb, const float* beta, float* C,
                                         int ldc, long long int sc, int batch) {
  return gemm("cublasSgemmStridedBatched", h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double* alpha, const double* A, int lda, long long int sa,
                                         const double* B, int ldb, long long int sb, const double* beta, double* C,
                                         int ldc, long long int sc, int batch) {
  return gemm("cublasDgemmStridedBatched", h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

namespace cuda_emulation {

CublasCall last_cublas_call() {
  std::lock_guard<std::mutex> lock(record_mutex);
  return last_call;
}

std::uint64_t cublas_calls() {
  std::lock_guard<std::mutex> lock(record_mutex);
  return call_count;
}

}  // namespace cuda_emulation
