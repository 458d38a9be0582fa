// Public GEMM entry points: argument checks, the degenerate cases, the choice
// of micro-kernel, and the plain references.
#include "kernels/cpu/gemm.h"

#include <atomic>
#include <stdexcept>
#include <string>

#include "kernels/cpu/gemm_internal.h"

namespace sceald::kernels::cpu {
namespace {

using gemm_detail::MicroKernel;

bool cpu_has_avx512() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the zmm state.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const MicroKernel<float>* automatic_kernel() {
  static const MicroKernel<float>* const chosen = [] {
    if (cpu_has_avx512() && gemm_detail::sgemm_kernel_avx512()) return gemm_detail::sgemm_kernel_avx512();
    if (cpu_has_avx2() && gemm_detail::sgemm_kernel_avx2()) return gemm_detail::sgemm_kernel_avx2();
    return gemm_detail::sgemm_kernel_portable();
  }();
  return chosen;
}

std::atomic<const MicroKernel<float>*> forced_kernel{nullptr};

const MicroKernel<float>& sgemm_kernel() {
  const MicroKernel<float>* forced = forced_kernel.load(std::memory_order_relaxed);
  return forced ? *forced : *automatic_kernel();
}

void check_args(const char* op, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                std::int64_t lda, std::int64_t ldb, std::int64_t ldc) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string(op) + ": " + what + " (M=" + std::to_string(M) +
                                ", N=" + std::to_string(N) + ", K=" + std::to_string(K) +
                                ", trans_a=" + std::to_string(trans_a) + ", trans_b=" + std::to_string(trans_b) +
                                ", lda=" + std::to_string(lda) + ", ldb=" + std::to_string(ldb) +
                                ", ldc=" + std::to_string(ldc) + ")");
  };
  if (M < 0 || N < 0 || K < 0) fail("negative dimension");
  // A stride only matters for a matrix that is read.
  if (M > 0 && K > 0 && lda < (trans_a ? M : K)) fail("lda smaller than a row of A");
  if (K > 0 && N > 0 && ldb < (trans_b ? K : N)) fail("ldb smaller than a row of B");
  if (M > 0 && N > 0 && ldc < N) fail("ldc smaller than a row of C");
}

// C = beta * C over the M x N block, never reading C when beta == 0.
template <typename T>
void scale_c(std::int64_t M, std::int64_t N, T beta, T* C, std::int64_t ldc) {
  if (beta == T(1)) return;
  for (std::int64_t i = 0; i < M; ++i) {
    T* ci = C + i * ldc;
    if (beta == T(0)) {
      for (std::int64_t j = 0; j < N; ++j) ci[j] = T(0);
    } else {
      for (std::int64_t j = 0; j < N; ++j) ci[j] *= beta;
    }
  }
}

template <typename T>
void gemm(const char* op, const MicroKernel<T>& kernel, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N,
          std::int64_t K, T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
          std::int64_t ldc) {
  check_args(op, trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  gemm_detail::gemm_blocked(kernel, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
           std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  gemm("sgemm", sgemm_kernel(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dgemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, double alpha,
           const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta, double* C,
           std::int64_t ldc) {
  gemm("dgemm", *gemm_detail::dgemm_kernel_portable(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
       ldc);
}

template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                    const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  check_args("gemm_reference", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (std::int64_t k = 0; k < K; ++k) {
        const double a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const double b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        sum += a * b;
      }
      T& c = C[i * ldc + j];
      const double scaled = static_cast<double>(alpha) * sum;
      c = static_cast<T>(beta == T(0) ? scaled : scaled + static_cast<double>(beta) * static_cast<double>(c));
    }
  }
}

template void gemm_reference<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*,
                                    std::int64_t, const float*, std::int64_t, float, float*, std::int64_t);
template void gemm_reference<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double, const double*,
                                     std::int64_t, const double*, std::int64_t, double, double*, std::int64_t);

const char* sgemm_isa() { return sgemm_kernel().name; }

void sgemm_force_isa(const char* isa) {
  const std::string name = isa ? isa : "";
  if (name.empty()) {
    forced_kernel.store(nullptr);
    return;
  }
  const MicroKernel<float>* kernel = nullptr;
  bool supported = false;
  if (name == "avx512") {
    kernel = gemm_detail::sgemm_kernel_avx512();
    supported = kernel && cpu_has_avx512();
  } else if (name == "avx2") {
    kernel = gemm_detail::sgemm_kernel_avx2();
    supported = kernel && cpu_has_avx2();
  } else if (name == "portable") {
    kernel = gemm_detail::sgemm_kernel_portable();
    supported = true;
  } else {
    throw std::invalid_argument("sgemm_force_isa: unknown path '" + name +
                                "' (expected \"avx512\", \"avx2\", \"portable\" or \"\")");
  }
  if (!supported)
    throw std::runtime_error("sgemm_force_isa: the '" + name + "' path is not supported on this CPU or build");
  forced_kernel.store(kernel);
}

}  // namespace sceald::kernels::cpu
