#include "kernels/cpu/max_pool_2x2.h"

#include "kernels/cpu/avx512.h"
#include "kernels/cpu/cpu_features.h"

namespace sceald::kernels::cpu {

namespace {

// One window (oh, ow) by the general rule: first maximum on ties, the last NaN wins.
void window_scalar(const float* src, std::int64_t W, std::int64_t oh, std::int64_t ow, float* out,
                   std::int64_t* argmax) {
  std::int64_t best = (2 * oh) * W + 2 * ow;
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 2; ++j) {
      const std::int64_t k = (2 * oh + i) * W + 2 * ow + j;
      if (src[k] > src[best] || src[k] != src[k]) best = k;
    }
  *out = src[best];
  *argmax = best;
}

#if defined(__x86_64__)

SCEALD_TARGET_AVX512 void pool_plane(const float* src, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                                     float* out, std::int64_t* argmax) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (std::int64_t oh = 0; oh < Ho; ++oh) {
    const float* r0 = src + 2 * oh * W;
    const float* r1 = r0 + W;
    std::int64_t ow = 0;
    for (; ow + 16 <= Wo; ow += 16) {
      const __m512 a0 = _mm512_loadu_ps(r0 + 2 * ow), a1 = _mm512_loadu_ps(r0 + 2 * ow + 16);
      const __m512 b0 = _mm512_loadu_ps(r1 + 2 * ow), b1 = _mm512_loadu_ps(r1 + 2 * ow + 16);
      // The four taps of 16 windows, in the window's row-major order.
      const __m512 tap[4] = {_mm512_permutex2var_ps(a0, even, a1), _mm512_permutex2var_ps(a0, odd, a1),
                             _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
      const __mmask16 nan = _mm512_cmp_ps_mask(a0, a0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(a1, a1, _CMP_UNORD_Q) |
                            _mm512_cmp_ps_mask(b0, b0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b1, b1, _CMP_UNORD_Q);
      if (nan) {  // rare: these 16 windows by the scalar rule
        for (std::int64_t k = 0; k < 16; ++k)
          window_scalar(src, W, oh, ow + k, out + oh * Wo + ow + k, argmax + oh * Wo + ow + k);
        continue;
      }
      // Index of tap 0 of window ow + lane: 2 oh W + 2 (ow + lane), in two
      // halves of 8 int64 lanes; the taps add 0, 1, W and W + 1.
      const __m512i lane2 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
      const __m512i first[2] = {_mm512_add_epi64(_mm512_set1_epi64(2 * oh * W + 2 * ow), lane2),
                                _mm512_add_epi64(_mm512_set1_epi64(2 * oh * W + 2 * ow + 16), lane2)};
      const std::int64_t tap_offset[4] = {0, 1, W, W + 1};
      __m512 best = tap[0];
      __m512i index[2] = {first[0], first[1]};
      for (int t = 1; t < 4; ++t) {
        const __mmask16 greater = _mm512_cmp_ps_mask(tap[t], best, _CMP_GT_OQ);  // strict: the first maximum stays
        best = _mm512_mask_mov_ps(best, greater, tap[t]);
        const __m512i offset = _mm512_set1_epi64(tap_offset[t]);
        for (int h = 0; h < 2; ++h)
          index[h] = _mm512_mask_mov_epi64(index[h], static_cast<__mmask8>(greater >> (8 * h)),
                                           _mm512_add_epi64(first[h], offset));
      }
      _mm512_storeu_ps(out + oh * Wo + ow, best);
      _mm512_storeu_si512(argmax + oh * Wo + ow, index[0]);
      _mm512_storeu_si512(argmax + oh * Wo + ow + 8, index[1]);
    }
    for (; ow < Wo; ++ow) window_scalar(src, W, oh, ow, out + oh * Wo + ow, argmax + oh * Wo + ow);
  }
}

#endif

}  // namespace

bool max_pool2x2_forward(const float* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t Ho,
                         std::int64_t Wo, float* out, std::int64_t* argmax) {
#if defined(__x86_64__)
  if (!cpu_features().avx512f || 2 * Ho > H || 2 * Wo > W) return false;
#pragma omp parallel for if (planes * H * W > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) pool_plane(x + p * H * W, W, Ho, Wo, out + p * Ho * Wo, argmax + p * Ho * Wo);
  return true;
#else
  (void)x, (void)planes, (void)H, (void)W, (void)Ho, (void)Wo, (void)out, (void)argmax;
  return false;
#endif
}

}  // namespace sceald::kernels::cpu
