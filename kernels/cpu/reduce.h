// Sum over a set of axes, written as a reduction over the middle axis of an
// [outer, reduce, inner] view after the reduced axes have been made adjacent
// by the caller. Accumulates in double for float inputs (gradient sums over
// large batches stay accurate). `out` [outer, inner] is overwritten.
#pragma once

#include <cstdint>
#include <vector>

namespace sceald::kernels::cpu {

template <typename T>
void sum_middle_axis(const T* x, T* out, std::int64_t outer, std::int64_t reduce, std::int64_t inner) {
#pragma omp parallel for if (outer * reduce * inner > (1 << 16)) schedule(static)
  for (std::int64_t o = 0; o < outer; ++o) {
    const T* base = x + o * reduce * inner;
    T* dst = out + o * inner;
    if (inner == 1) {
      double acc = 0.0;
      for (std::int64_t r = 0; r < reduce; ++r) acc += static_cast<double>(base[r]);
      dst[0] = static_cast<T>(acc);
      continue;
    }
    std::vector<double> acc(static_cast<std::size_t>(inner), 0.0);
    for (std::int64_t r = 0; r < reduce; ++r) {
      const T* row = base + r * inner;
      for (std::int64_t i = 0; i < inner; ++i) acc[static_cast<std::size_t>(i)] += static_cast<double>(row[i]);
    }
    for (std::int64_t i = 0; i < inner; ++i) dst[i] = static_cast<T>(acc[static_cast<std::size_t>(i)]);
  }
}

}  // namespace sceald::kernels::cpu
