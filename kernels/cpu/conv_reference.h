// Plain-loop 2-D convolution (forward, backward-data, backward-weight): the
// test reference for the im2col + GEMM path. Written straight from the
// definition, each output element is one sum accumulated in double, so the
// references share no code and no loop order with im2col/col2im. Slow; for
// tests only. T = float or double.
//
// Layouts (all contiguous, NCHW): x [N, C, H, W], weight [O, C, kh, kw],
// bias [O] (or nullptr), out and grad_out [N, O, Ho, Wo]; the geometry `g`
// (kernels/cpu/im2col.h) gives C, H, W, the kernel, stride, padding, dilation
// and Ho, Wo. Input position of output (oh, ow) and kernel tap (i, j):
//   h = oh sh - ph + i dh,  w = ow sw - pw + j dw  (zero outside [0, H) x [0, W)).
#pragma once

#include <cstdint>

#include "kernels/cpu/im2col.h"

namespace sceald::kernels::cpu {

// out[n, o, oh, ow] = bias[o] + sum_{c, i, j} weight[o, c, i, j] x[n, c, h, w]; out is overwritten.
template <typename T>
void conv2d_forward_reference(const T* x, const T* weight, const T* bias, std::int64_t N, std::int64_t O,
                              const ConvGeometry& g, T* out) {
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t oh = 0; oh < g.Ho; ++oh)
        for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
          double acc = bias ? static_cast<double>(bias[o]) : 0.0;
          for (std::int64_t c = 0; c < g.C; ++c)
            for (std::int64_t i = 0; i < g.kh; ++i)
              for (std::int64_t j = 0; j < g.kw; ++j) {
                const std::int64_t h = oh * g.sh - g.ph + i * g.dh, w = ow * g.sw - g.pw + j * g.dw;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
                acc += static_cast<double>(weight[((o * g.C + c) * g.kh + i) * g.kw + j]) *
                       static_cast<double>(x[((n * g.C + c) * g.H + h) * g.W + w]);
              }
          out[((n * O + o) * g.Ho + oh) * g.Wo + ow] = static_cast<T>(acc);
        }
}

// grad_x[n, c, h, w] = sum over (o, i, j) and the outputs (oh, ow) that read (h, w) through tap (i, j)
// of grad_out[n, o, oh, ow] weight[o, c, i, j] -- gathered per input element; grad_x is overwritten.
template <typename T>
void conv2d_backward_data_reference(const T* grad_out, const T* weight, std::int64_t N, std::int64_t O,
                                    const ConvGeometry& g, T* grad_x) {
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t h = 0; h < g.H; ++h)
        for (std::int64_t w = 0; w < g.W; ++w) {
          double acc = 0.0;
          for (std::int64_t o = 0; o < O; ++o)
            for (std::int64_t i = 0; i < g.kh; ++i)
              for (std::int64_t j = 0; j < g.kw; ++j) {
                // oh sh = h + ph - i dh must be an exact multiple of the stride, inside [0, Ho).
                const std::int64_t th = h + g.ph - i * g.dh, tw = w + g.pw - j * g.dw;
                if (th < 0 || tw < 0 || th % g.sh != 0 || tw % g.sw != 0) continue;
                const std::int64_t oh = th / g.sh, ow = tw / g.sw;
                if (oh >= g.Ho || ow >= g.Wo) continue;
                acc += static_cast<double>(grad_out[((n * O + o) * g.Ho + oh) * g.Wo + ow]) *
                       static_cast<double>(weight[((o * g.C + c) * g.kh + i) * g.kw + j]);
              }
          grad_x[((n * g.C + c) * g.H + h) * g.W + w] = static_cast<T>(acc);
        }
}

// grad_weight[o, c, i, j] = sum_{n, oh, ow} grad_out[n, o, oh, ow] x[n, c, h, w]; grad_weight is overwritten.
template <typename T>
void conv2d_backward_weight_reference(const T* grad_out, const T* x, std::int64_t N, std::int64_t O,
                                      const ConvGeometry& g, T* grad_weight) {
  for (std::int64_t o = 0; o < O; ++o)
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t i = 0; i < g.kh; ++i)
        for (std::int64_t j = 0; j < g.kw; ++j) {
          double acc = 0.0;
          for (std::int64_t n = 0; n < N; ++n)
            for (std::int64_t oh = 0; oh < g.Ho; ++oh)
              for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
                const std::int64_t h = oh * g.sh - g.ph + i * g.dh, w = ow * g.sw - g.pw + j * g.dw;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
                acc += static_cast<double>(grad_out[((n * O + o) * g.Ho + oh) * g.Wo + ow]) *
                       static_cast<double>(x[((n * g.C + c) * g.H + h) * g.W + w]);
              }
          grad_weight[((o * g.C + c) * g.kh + i) * g.kw + j] = static_cast<T>(acc);
        }
}

}  // namespace sceald::kernels::cpu
