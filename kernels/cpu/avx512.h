// What the AVX-512 kernel files share: the per-function target attribute
// (the files are built for the baseline ISA; these functions run only where
// cpu_features() reports AVX-512) and the lane mask of a vector's tail.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#define SCEALD_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))

namespace sceald::kernels::cpu {

// The lanes of vector v (floats 16 v .. 16 v + 15) among the first `valid` elements.
SCEALD_TARGET_AVX512 inline __mmask16 lanes_below(std::int64_t valid, int v) {
  const std::int64_t left = valid - 16 * v;
  return left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1u);
}

}  // namespace sceald::kernels::cpu

#endif
