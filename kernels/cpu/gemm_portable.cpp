// The portable micro-kernels: plain C++ that the compiler vectorises with the
// baseline instruction set. They serve sgemm on CPUs without AVX2 and every
// dgemm call (float64 is only used for gradient checks).
#include <algorithm>

#include "kernels/cpu/gemm_internal.h"

namespace sceald::kernels::cpu::gemm_detail {
namespace {

// MR x NR accumulators sized to fit the 16 SSE registers of baseline x86-64.
template <typename T, int MR, int NR>
void micro_portable(std::int64_t kc, const T* __restrict a, const T* __restrict b, T* c, std::int64_t ldc, int m,
                    int n, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (std::int64_t k = 0; k < kc; ++k) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (beta == T(0)) {
      for (int j = 0; j < n; ++j) ci[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < n; ++j) ci[j] = alpha * acc[i][j] + beta * ci[j];
    }
  }
}

template <typename T, int W>
void pack_portable(const T* src, std::int64_t rs, std::int64_t ks, std::int64_t rows, std::int64_t kc, T* dst) {
  pack_panels_generic(src, rs, ks, rows, kc, dst, W);
}

constexpr int kFloatMR = 4, kFloatNR = 8;
constexpr int kDoubleMR = 4, kDoubleNR = 4;

const MicroKernel<float> kFloatPortable{"portable", kFloatMR, kFloatNR, pack_portable<float, kFloatMR>,
                                        pack_portable<float, kFloatNR>, micro_portable<float, kFloatMR, kFloatNR>};
const MicroKernel<double> kDoublePortable{"portable", kDoubleMR, kDoubleNR, pack_portable<double, kDoubleMR>,
                                          pack_portable<double, kDoubleNR>,
                                          micro_portable<double, kDoubleMR, kDoubleNR>};

}  // namespace

const MicroKernel<float>* sgemm_kernel_portable() { return &kFloatPortable; }
const MicroKernel<double>* dgemm_kernel_portable() { return &kDoublePortable; }

}  // namespace sceald::kernels::cpu::gemm_detail
