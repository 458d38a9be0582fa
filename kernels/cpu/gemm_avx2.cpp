// The AVX2 sgemm micro-kernel, for x86-64 CPUs without AVX-512 (compiled for
// AVX2 + FMA per function; chosen at run time only where the CPU has them).
//
// Tile: 6 rows x 16 columns of C in 12 ymm accumulators, leaving 2 registers
// for the B vectors and 1 for the A broadcast (16 ymm registers in all).
#include "kernels/cpu/gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SCEALD_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace sceald::kernels::cpu::gemm_detail {
namespace {

constexpr int kMR = 6;
constexpr int kNV = 2;  // ymm vectors per row of the tile
constexpr int kNR = 8 * kNV;

template <int MR, int NV>
SCEALD_TARGET_AVX2 void micro_avx2(std::int64_t kc, const float* __restrict a, const float* __restrict b, float* c,
                                   std::int64_t ldc, int m, int n, float alpha, float beta) {
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();

#pragma GCC unroll 4
  for (std::int64_t k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += 8 * NV;
  }

  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  if (m == MR && n == 8 * NV) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        __m256 r = _mm256_mul_ps(va, acc[i][v]);
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8 * v), r);
        _mm256_storeu_ps(ci + 8 * v, r);
      }
    }
    return;
  }
  // Edge tile: go through a small buffer, writing only the valid corner.
  alignas(32) float tile[MR][8 * NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_store_ps(&tile[i][8 * v], _mm256_mul_ps(va, acc[i][v]));
  for (int i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < n; ++j) ci[j] = tile[i][j];
    } else {
      for (int j = 0; j < n; ++j) ci[j] = tile[i][j] + beta * ci[j];
    }
  }
}

template <int W>
void pack_generic(const float* src, std::int64_t rs, std::int64_t ks, std::int64_t rows, std::int64_t kc,
                  float* dst) {
  pack_panels_generic(src, rs, ks, rows, kc, dst, W);
}

const MicroKernel<float> kAvx2{"avx2", kMR, kNR, pack_generic<kMR>, pack_generic<kNR>, micro_avx2<kMR, kNV>};

}  // namespace

const MicroKernel<float>* sgemm_kernel_avx2() { return &kAvx2; }

}  // namespace sceald::kernels::cpu::gemm_detail

#else

namespace sceald::kernels::cpu::gemm_detail {
const MicroKernel<float>* sgemm_kernel_avx2() { return nullptr; }
}  // namespace sceald::kernels::cpu::gemm_detail

#endif
