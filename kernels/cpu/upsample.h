// Nearest-neighbour resampling of `planes` = N * C contiguous planes, for
// T = float and double (PyTorch's 'nearest' mode).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sceald::kernels::cpu {

// Source of output index `dst` when resizing `in` positions to `out`, exactly
// as PyTorch computes it: equal sizes and exact doubling by integers, every
// other ratio as min(floor(float(dst) * float(in / out)), in - 1) entirely in
// float32 (what torch 1.13 gives for float32 and float64 tensors alike;
// checked for every in <= 64, out < 130). That differs from exact integer
// division for some ratios (26 -> 22, 14 -> 46, ...); matching PyTorch keeps
// converted models bit-compatible.
inline std::int64_t nearest_source_index(std::int64_t dst, std::int64_t in, std::int64_t out) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float product = static_cast<float>(dst) * scale;
  return std::min(static_cast<std::int64_t>(std::floor(product)), in - 1);
}

// x [planes, H, W] -> out [planes, oh, ow], overwritten: out(i, j) = x(src(i), src(j)).
template <typename T>
void upsample_nearest2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                std::int64_t ow, T* out) {
  std::vector<std::int64_t> src_col(static_cast<std::size_t>(ow));
  for (std::int64_t j = 0; j < ow; ++j) src_col[j] = nearest_source_index(j, W, ow);
#pragma omp parallel for if (planes * oh * ow > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* src = x + p * H * W;
    T* dst = out + p * oh * ow;
    for (std::int64_t i = 0; i < oh; ++i) {
      const T* row = src + nearest_source_index(i, H, oh) * W;
      T* out_row = dst + i * ow;
      for (std::int64_t j = 0; j < ow; ++j) out_row[j] = row[src_col[j]];
    }
  }
}

// grad_x [planes, H, W] is overwritten with the sum of grad_out [planes, oh, ow]
// over the outputs that copied each input (zero for an input nobody copied,
// which happens when oh < H).
template <typename T>
void upsample_nearest2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                 std::int64_t oh, std::int64_t ow, T* grad_x) {
  std::vector<std::int64_t> src_col(static_cast<std::size_t>(ow));
  for (std::int64_t j = 0; j < ow; ++j) src_col[j] = nearest_source_index(j, W, ow);
#pragma omp parallel for if (planes * oh * ow > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    T* dst = grad_x + p * H * W;
    std::fill(dst, dst + H * W, T(0));
    const T* g = grad_out + p * oh * ow;
    for (std::int64_t i = 0; i < oh; ++i) {
      T* row = dst + nearest_source_index(i, H, oh) * W;
      const T* g_row = g + i * ow;
      for (std::int64_t j = 0; j < ow; ++j) row[src_col[j]] += g_row[j];
    }
  }
}

}  // namespace sceald::kernels::cpu
