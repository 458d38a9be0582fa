// im2col / col2im: the reshuffles that turn a 2-D convolution into GEMMs
// (kernels/cpu/conv_gemm.cpp), for T = float and double.
#pragma once

#include <cstdint>

namespace sceald::kernels::cpu {

// The geometry of one image's convolution: input [C, H, W], kernel kh x kw,
// stride, zero padding on both sides, dilation, output Ho x Wo with
// Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (likewise Wo). The caller checks
// that every extent is >= 1 and Ho, Wo follow that rule.
struct ConvGeometry {
  std::int64_t C, H, W;
  std::int64_t kh, kw;
  std::int64_t sh, sw;
  std::int64_t ph, pw;
  std::int64_t dh, dw;
  std::int64_t Ho, Wo;

  std::int64_t col_rows() const { return C * kh * kw; }
  std::int64_t col_cols() const { return Ho * Wo; }
  // A 1x1 kernel with stride 1 and no padding: the column matrix is the image itself.
  bool is_pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

// x [C, H, W] contiguous -> col [C * kh * kw, Ho * Wo], overwritten:
//   col[(c * kh + i) * kw + j][oh * Wo + ow] = x[c][oh sh - ph + i dh][ow sw - pw + j dw],
// or 0 where that position falls in the padding. So that
// out [O, Ho * Wo] = weight [O, C * kh * kw] * col.
// Row r of col starts at col + r * ld (ld >= Ho * Wo; 0 means Ho * Wo), so
// the column matrices of several images can sit side by side in one wider
// matrix (kernels/cpu/conv_gemm.cpp); the entries between rows are left alone.
template <typename T>
void im2col(const T* x, const ConvGeometry& g, T* col, std::int64_t ld = 0);

// The adjoint of im2col: col [C * kh * kw, Ho * Wo] (row stride ld as above)
// is ADDED into x_grad [C, H, W] (every column entry at the input position it
// was copied from; entries from the padding are dropped). The caller zeroes
// x_grad first for a plain col2im.
template <typename T>
void col2im_accumulate(const T* col, const ConvGeometry& g, T* x_grad, std::int64_t ld = 0);

}  // namespace sceald::kernels::cpu
