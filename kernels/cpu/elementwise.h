// Element-wise kernels. Inputs are read through strides (a broadcast axis has
// stride 0); the output is contiguous, row-major over `shape`, and
// overwritten. Same-shape contiguous inputs take a flat loop the compiler
// vectorises; everything else walks the strides.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/strided.h"

namespace sceald::kernels::cpu {

template <typename T, typename F>
void unary_map(const T* x, T* out, std::int64_t n, F f) {
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

template <typename T, typename F>
void binary_map_broadcast(const T* a, const std::vector<std::int64_t>& a_strides, const T* b,
                          const std::vector<std::int64_t>& b_strides, T* out, const std::vector<std::int64_t>& shape,
                          F f) {
  std::int64_t n = 1;
  for (std::int64_t e : shape) n *= e;
  const std::vector<std::int64_t> contiguous = [&] {
    std::vector<std::int64_t> s(shape.size());
    std::int64_t k = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
      s[i] = k;
      k *= shape[i];
    }
    return s;
  }();
  const bool a_flat = a_strides == contiguous, b_flat = b_strides == contiguous;
  bool b_scalar = true;
  for (std::int64_t s : b_strides) b_scalar = b_scalar && s == 0;
  if (a_flat && b_flat) {
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  if (a_flat && b_scalar) {
    const T bv = b[0];
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
    return;
  }
  std::int64_t k = 0;
  for_each_index2(shape, a_strides, b_strides, [&](std::int64_t ia, std::int64_t ib) { out[k++] = f(a[ia], b[ib]); });
}

}  // namespace sceald::kernels::cpu
