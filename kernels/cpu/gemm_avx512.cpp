// The AVX-512 sgemm micro-kernel and packers (compiled for AVX-512 per
// function; chosen at run time only on CPUs that have it).
//
// Tile: 8 rows x 48 columns of C held in 24 zmm accumulators. Per k it loads
// three vectors of the B micro-panel and broadcasts eight values of the A
// micro-panel: 24 FMAs for 11 loads, so the FMA pipes stay the bottleneck.
// Rows of 48 suit the engine's shapes: im2col GEMMs have M = channel counts
// (multiples of 8 in VGG and ResNet) and long N.
#include "kernels/cpu/gemm_internal.h"

#if defined(__x86_64__)
#include <algorithm>

#include "kernels/cpu/avx512.h"

namespace sceald::kernels::cpu::gemm_detail {
namespace {

constexpr int kMR = 8;
constexpr int kNV = 3;  // zmm vectors per row of the tile
constexpr int kNR = 16 * kNV;

// One C tile of R rows (R <= kMR) and NV vectors of columns, the last masked
// to n. Edge tiles get their own instances rather than a full 8 x 48 tile
// over zero padding: N = 196 would otherwise waste a fifth of the FMAs.
template <int R, int NV>
SCEALD_TARGET_AVX512 void micro_avx512(std::int64_t kc, const float* __restrict a, const float* __restrict b,
                                       float* c, std::int64_t ldc, int n, float alpha, float beta) {
  __m512 acc[R][NV];
#pragma GCC unroll 32
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

#pragma GCC unroll 4
  for (std::int64_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 32
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += kMR;
    b += kNR;
  }

  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (n == 16 * NV) {
#pragma GCC unroll 32
    for (int i = 0; i < R; ++i) {
      float* ci = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        __m512 r = _mm512_mul_ps(va, acc[i][v]);
        if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16 * v), r);
        _mm512_storeu_ps(ci + 16 * v, r);
      }
    }
    return;
  }
  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mask[v] = lanes_below(n, v);
#pragma GCC unroll 32
  for (int i = 0; i < R; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      // Masked-off lanes are neither read nor written (no faults past the row).
      if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], ci + 16 * v), r);
      _mm512_mask_storeu_ps(ci + 16 * v, mask[v], r);
    }
  }
}

using TileFn = void (*)(std::int64_t, const float*, const float*, float*, std::int64_t, int, float, float);

template <int R>
constexpr TileFn tile_row[kNV] = {micro_avx512<R, 1>, micro_avx512<R, 2>, micro_avx512<R, 3>};
constexpr const TileFn* tile_table[kMR] = {tile_row<1>, tile_row<2>, tile_row<3>, tile_row<4>,
                                           tile_row<5>, tile_row<6>, tile_row<7>, tile_row<8>};

// MicroFn: picks the instance for an m x n tile (full tiles: 8 x 3 vectors).
void micro_avx512_any(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc, int m, int n,
                      float alpha, float beta) {
  tile_table[m - 1][(n + 15) / 16 - 1](kc, a, b, c, ldc, n, alpha, beta);
}

// Transposes the 8 x 8 block in r[0..7] in place: r[t][q] <- r[q][t].
SCEALD_TARGET_AVX512 inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// See PackFn in gemm_internal.h. W is a multiple of 8. Both layouts are
// vectorised: a row copy with masked loads (rs == 1), and a transposing
// gather in 8 x 8 blocks (ks == 1); tails are masked, never read past the
// matrix, and padded with zeros.
template <int W>
SCEALD_TARGET_AVX512 void pack_avx512(const float* src, std::int64_t rs, std::int64_t ks, std::int64_t rows,
                                      std::int64_t kc, float* dst) {
  static_assert(W % 8 == 0);
  if (rs != 1 && ks != 1) {
    // Both strided (the implicit convolution's weight per tap: ks = taps):
    // one gather per two k for A's 8-row panels, plain copies otherwise.
    if (W != 8 || 8 * rs + 2 * ks * kc >= (std::int64_t{1} << 31)) {
      pack_panels_generic(src, rs, ks, rows, kc, dst, W);
      return;
    }
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i idx = _mm512_add_epi32(
        _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(rs))),
        _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(), _mm512_set1_epi32(static_cast<int>(ks))));
    for (std::int64_t r0 = 0; r0 < rows; r0 += 8, dst += 8 * kc) {
      const int valid = static_cast<int>(std::min<std::int64_t>(8, rows - r0));
      const __mmask16 row_lanes = static_cast<__mmask16>(((1u << valid) - 1u) * 0x0101u);
      const float* s = src + r0 * rs;
      for (std::int64_t k = 0; k < kc; k += 2) {
        const __mmask16 m = k + 1 < kc ? row_lanes : static_cast<__mmask16>(row_lanes & 0x00FF);
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, s + k * ks, 4);
        if (k + 1 < kc)
          _mm512_storeu_ps(dst + k * 8, v);
        else
          _mm256_storeu_ps(dst + k * 8, _mm512_extractf32x8_ps(v, 0));
      }
    }
    return;
  }
  for (std::int64_t r0 = 0; r0 < rows; r0 += W, dst += W * kc) {
    const int valid = static_cast<int>(std::min<std::int64_t>(W, rows - r0));
    const float* s = src + r0 * rs;
    if (rs == 1) {
      for (std::int64_t k = 0; k < kc; ++k) {
        const float* sk = s + k * ks;
        float* d = dst + k * W;
#pragma GCC unroll 8
        for (int g = 0; g < W / 8; ++g) {
          const int left = std::clamp(valid - 8 * g, 0, 8);
          const __mmask8 mk = static_cast<__mmask8>((1u << left) - 1u);
          _mm256_storeu_ps(d + 8 * g, _mm256_maskz_loadu_ps(mk, sk + 8 * g));
        }
      }
      continue;
    }
    // ks == 1: rows of the source run along k. Take 8 rows x 16 k at a time
    // (a whole cache line per row, so a line is never fetched twice even when
    // a power-of-two stride makes the rows collide in L1) and transpose the
    // two 8 x 8 halves. Walking 8 rows together lets the prefetcher follow.
    for (int g = 0; g < W / 8; ++g) {
      const int left = std::clamp(valid - 8 * g, 0, 8);
      const float* sg = s + 8 * g * rs;
      for (std::int64_t k0 = 0; k0 < kc; k0 += 16) {
        const int kv = static_cast<int>(std::min<std::int64_t>(16, kc - k0));
        const __mmask16 kmask = static_cast<__mmask16>((1u << kv) - 1u);
        __m512 row[8];
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q)
          row[q] = q < left ? _mm512_maskz_loadu_ps(kmask, sg + q * rs + k0) : _mm512_setzero_ps();
        float* d = dst + k0 * W + 8 * g;
        __m256 r[8];
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) r[q] = _mm512_extractf32x8_ps(row[q], 0);
        transpose8x8(r);
        for (int t = 0; t < std::min(kv, 8); ++t) _mm256_storeu_ps(d + t * W, r[t]);
        if (kv <= 8) continue;
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) r[q] = _mm512_extractf32x8_ps(row[q], 1);
        transpose8x8(r);
        for (int t = 8; t < kv; ++t) _mm256_storeu_ps(d + t * W, r[t - 8]);
      }
    }
  }
}

const MicroKernel<float> kAvx512{"avx512", kMR, kNR, pack_avx512<kMR>, pack_avx512<kNR>, micro_avx512_any};

}  // namespace

const MicroKernel<float>* sgemm_kernel_avx512() { return &kAvx512; }

}  // namespace sceald::kernels::cpu::gemm_detail

#else

namespace sceald::kernels::cpu::gemm_detail {
const MicroKernel<float>* sgemm_kernel_avx512() { return nullptr; }
}  // namespace sceald::kernels::cpu::gemm_detail

#endif
