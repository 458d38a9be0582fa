// Pooling kernels over the two trailing axes of NCHW data, seen as `planes`
// = N * C independent contiguous H x W planes, for T = float and double.
// Each plane is independent, so the loops run OpenMP-parallel over planes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cpu/max_pool_2x2.h"

namespace sceald::kernels::cpu {

// ---- max pooling

// Window (oh, ow) covers input rows oh sh - ph + i dh for i in [0, kh) (likewise
// columns); positions outside [0, H) x [0, W) are padding and count as -inf.
// The caller computes Ho, Wo (PyTorch's rule, ceil_mode included); with
// PyTorch's limits (padding <= kernel / 2) every window holds an input position.
struct PoolGeometry {
  std::int64_t H, W;
  std::int64_t kh, kw;
  std::int64_t sh, sw;
  std::int64_t ph, pw;
  std::int64_t dh, dw;
  std::int64_t Ho, Wo;
};

// x [planes, H, W] -> out [planes, Ho, Wo] and argmax [planes, Ho, Wo], both
// overwritten. argmax holds the flat index h * W + w of the maximum inside its
// plane: the first one in row-major window order on ties; a NaN always wins
// (the last NaN of the window; NaN propagates, exactly PyTorch's CPU rule).
// A window holding no input position at all gives -inf and argmax -1.
// The taps k in [lo, hi) of a window starting at `start` (step `dilation`)
// that land inside [0, in): bounds are settled once per window row/column,
// not per tap.
struct TapRange {
  std::int64_t lo, hi;
};
inline TapRange valid_taps(std::int64_t start, std::int64_t in, std::int64_t kernel, std::int64_t dilation) {
  const std::int64_t lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const std::int64_t hi = start >= in ? 0 : std::min(kernel, (in - start + dilation - 1) / dilation);
  return {lo, std::max(lo, hi)};
}

template <typename T>
void max_pool2d_forward(const T* x, std::int64_t planes, const PoolGeometry& g, T* out, std::int64_t* argmax) {
  if constexpr (std::is_same_v<T, float>) {
    const bool vgg_window = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
                            g.dh == 1 && g.dw == 1;
    if (vgg_window && max_pool2x2_forward(x, planes, g.H, g.W, g.Ho, g.Wo, out, argmax)) return;
  }
  const std::int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo;
#pragma omp parallel for if (planes * out_plane * g.kh * g.kw > (1 << 15)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* src = x + p * in_plane;
    for (std::int64_t oh = 0; oh < g.Ho; ++oh) {
      const std::int64_t h0 = oh * g.sh - g.ph;
      const TapRange rows = valid_taps(h0, g.H, g.kh, g.dh);
      for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
        const std::int64_t w0 = ow * g.sw - g.pw;
        const TapRange cols = valid_taps(w0, g.W, g.kw, g.dw);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t best_index = -1;
        if (rows.lo < rows.hi && cols.lo < cols.hi) {
          // The first valid position is taken even at -inf, so argmax is always a real input.
          best_index = (h0 + rows.lo * g.dh) * g.W + w0 + cols.lo * g.dw;
          best = src[best_index];
        }
        // Hot loop without NaN tests, written as selects the compiler turns
        // into max/cmov (the comparison is unpredictable on real data).
        bool any_nan = false;
        for (std::int64_t i = rows.lo; i < rows.hi; ++i) {
          const std::int64_t row = (h0 + i * g.dh) * g.W + w0;
          for (std::int64_t j = cols.lo; j < cols.hi; ++j) {
            const T v = src[row + j * g.dw];
            best_index = v > best ? row + j * g.dw : best_index;
            best = v > best ? v : best;
            any_nan |= v != v;
          }
        }
        if (any_nan) {  // rare: redo the window with PyTorch's NaN rule (the last NaN wins)
          for (std::int64_t i = rows.lo; i < rows.hi; ++i)
            for (std::int64_t j = cols.lo; j < cols.hi; ++j) {
              const std::int64_t k = (h0 + i * g.dh) * g.W + w0 + j * g.dw;
              if (src[k] != src[k]) best_index = k;
            }
          best = src[best_index];
        }
        out[p * out_plane + oh * g.Wo + ow] = best;
        argmax[p * out_plane + oh * g.Wo + ow] = best_index;
      }
    }
  }
}

// grad_x [planes, H, W] is overwritten: zero, plus each grad_out [planes, Ho, Wo]
// element added at its window's argmax (overlapping windows add up; argmax -1
// drops the element).
template <typename T>
void max_pool2d_backward(const T* grad_out, const std::int64_t* argmax, std::int64_t planes, std::int64_t in_plane,
                         std::int64_t out_plane, T* grad_x) {
#pragma omp parallel for if (planes * (in_plane + out_plane) > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    T* dst = grad_x + p * in_plane;
    std::fill(dst, dst + in_plane, T(0));
    const T* g = grad_out + p * out_plane;
    const std::int64_t* idx = argmax + p * out_plane;
    for (std::int64_t k = 0; k < out_plane; ++k)
      if (idx[k] >= 0) dst[idx[k]] += g[k];
  }
}

// ---- adaptive average pooling

// Bin i of `out` bins over `in` positions spans [start, end) with
// start = floor(i in / out) and end = ceil((i + 1) in / out), PyTorch's rule:
// bins may overlap (out does not divide in) or repeat positions (out > in).
inline std::int64_t adaptive_bin_start(std::int64_t i, std::int64_t in, std::int64_t out) { return i * in / out; }
inline std::int64_t adaptive_bin_end(std::int64_t i, std::int64_t in, std::int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// x [planes, H, W] -> out [planes, oh, ow], overwritten with each bin's mean
// (summed in double).
template <typename T>
void adaptive_avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                 std::int64_t ow, T* out) {
#pragma omp parallel for if (planes * H * W > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* src = x + p * H * W;
    for (std::int64_t i = 0; i < oh; ++i) {
      const std::int64_t h0 = adaptive_bin_start(i, H, oh), h1 = adaptive_bin_end(i, H, oh);
      for (std::int64_t j = 0; j < ow; ++j) {
        const std::int64_t w0 = adaptive_bin_start(j, W, ow), w1 = adaptive_bin_end(j, W, ow);
        double acc = 0.0;
        for (std::int64_t h = h0; h < h1; ++h)
          for (std::int64_t w = w0; w < w1; ++w) acc += static_cast<double>(src[h * W + w]);
        out[(p * oh + i) * ow + j] = static_cast<T>(acc / static_cast<double>((h1 - h0) * (w1 - w0)));
      }
    }
  }
}

// grad_x [planes, H, W] is overwritten: each grad_out [planes, oh, ow] element
// divided by its bin's size and added to every position of the bin.
template <typename T>
void adaptive_avg_pool2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                  std::int64_t oh, std::int64_t ow, T* grad_x) {
#pragma omp parallel for if (planes * H * W > (1 << 16)) schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    T* dst = grad_x + p * H * W;
    std::fill(dst, dst + H * W, T(0));
    for (std::int64_t i = 0; i < oh; ++i) {
      const std::int64_t h0 = adaptive_bin_start(i, H, oh), h1 = adaptive_bin_end(i, H, oh);
      for (std::int64_t j = 0; j < ow; ++j) {
        const std::int64_t w0 = adaptive_bin_start(j, W, ow), w1 = adaptive_bin_end(j, W, ow);
        const T share = grad_out[(p * oh + i) * ow + j] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (std::int64_t h = h0; h < h1; ++h)
          for (std::int64_t w = w0; w < w1; ++w) dst[h * W + w] += share;
      }
    }
  }
}

}  // namespace sceald::kernels::cpu
