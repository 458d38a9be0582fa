#include "kernels/cpu/im2col.h"

#include <algorithm>

namespace sceald::kernels::cpu {

namespace {

// The output columns ow whose input column ow * stride - pad + offset lies in
// [0, in): a contiguous range [lo, hi), so the inner loops need no bounds test.
struct ValidRange {
  std::int64_t lo, hi;
};

ValidRange valid_outputs(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t pad,
                         std::int64_t offset) {
  const std::int64_t first = pad - offset;  // ow * stride must be >= first
  const std::int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const std::int64_t last = in - 1 + pad - offset;  // ow * stride must be <= last
  const std::int64_t hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  return {std::min(lo, out), std::max(std::min(lo, out), hi)};
}

constexpr std::int64_t kParallelElements = 1 << 15;

}  // namespace

template <typename T>
void im2col(const T* x, const ConvGeometry& g, T* col, std::int64_t ld) {
  const std::int64_t rows = g.col_rows(), cols = g.col_cols();
  if (ld == 0) ld = cols;
#pragma omp parallel for if (rows * cols > kParallelElements) schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
    const T* plane = x + c * g.H * g.W;
    T* dst = col + r * ld;
    const ValidRange rows_ok = valid_outputs(g.H, g.Ho, g.sh, g.ph, i * g.dh);
    const ValidRange cols_ok = valid_outputs(g.W, g.Wo, g.sw, g.pw, j * g.dw);
    for (std::int64_t oh = 0; oh < g.Ho; ++oh) {
      T* out = dst + oh * g.Wo;
      if (oh < rows_ok.lo || oh >= rows_ok.hi) {
        std::fill(out, out + g.Wo, T(0));
        continue;
      }
      // Input index of output column ow: base + ow * sw (in range for ow in cols_ok).
      const std::int64_t base = (oh * g.sh - g.ph + i * g.dh) * g.W - g.pw + j * g.dw;
      std::fill(out, out + cols_ok.lo, T(0));
      if (g.sw == 1 && cols_ok.lo < cols_ok.hi) {
        std::copy(plane + base + cols_ok.lo, plane + base + cols_ok.hi, out + cols_ok.lo);
      } else {
        for (std::int64_t ow = cols_ok.lo; ow < cols_ok.hi; ++ow) out[ow] = plane[base + ow * g.sw];
      }
      std::fill(out + cols_ok.hi, out + g.Wo, T(0));
    }
  }
}

template <typename T>
void col2im_accumulate(const T* col, const ConvGeometry& g, T* x_grad, std::int64_t ld) {
  const std::int64_t cols = g.col_cols();
  if (ld == 0) ld = cols;
  // One channel per iteration: the kh * kw rows of channel c write only plane c.
#pragma omp parallel for if (g.col_rows() * cols > kParallelElements) schedule(static)
  for (std::int64_t c = 0; c < g.C; ++c) {
    T* plane = x_grad + c * g.H * g.W;
    for (std::int64_t i = 0; i < g.kh; ++i) {
      const ValidRange rows_ok = valid_outputs(g.H, g.Ho, g.sh, g.ph, i * g.dh);
      for (std::int64_t j = 0; j < g.kw; ++j) {
        const ValidRange cols_ok = valid_outputs(g.W, g.Wo, g.sw, g.pw, j * g.dw);
        const T* src_row = col + ((c * g.kh + i) * g.kw + j) * ld;
        for (std::int64_t oh = rows_ok.lo; oh < rows_ok.hi; ++oh) {
          const T* src = src_row + oh * g.Wo;
          const std::int64_t base = (oh * g.sh - g.ph + i * g.dh) * g.W - g.pw + j * g.dw;
          for (std::int64_t ow = cols_ok.lo; ow < cols_ok.hi; ++ow) plane[base + ow * g.sw] += src[ow];
        }
      }
    }
  }
}

template void im2col<float>(const float*, const ConvGeometry&, float*, std::int64_t);
template void im2col<double>(const double*, const ConvGeometry&, double*, std::int64_t);
template void col2im_accumulate<float>(const float*, const ConvGeometry&, float*, std::int64_t);
template void col2im_accumulate<double>(const double*, const ConvGeometry&, double*, std::int64_t);

}  // namespace sceald::kernels::cpu
