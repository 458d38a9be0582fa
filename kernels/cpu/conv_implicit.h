// Convolution forward as an implicit GEMM (float32, AVX-512): the whole batch
// is one product y = weight * im2col(x) over the columns (n, oy, ox), but the
// B operand is packed straight from the image (masked vector loads along
// runs of adjacent pixels, gathers elsewhere), so no column matrix is written
// and read back, and the result goes straight into y's NCHW layout (no
// staging copy). Three orders of K:
//
//   dense      K = (c, ky, kx), the weight as stored; taps in the padding are
//              gathered as zeros (what im2col does).
//   per kernel row
//              K = (ky, channel block, kx, c): each block lies within one
//              kernel row ky and takes only the output rows whose input row
//              lies inside the image, so the padding above and below costs
//              nothing, and those are whole rows: adjacent in x (one run of
//              masked loads) and in y (written in place). Only the taps left
//              and right in the padding are multiplied as zeros.
//   per tap    K = (ky, kx, c); each tap's blocks take only the output pixels
//              whose input lies inside the image, so the padding costs
//              nothing. It pays where the padding is a large share: a 3x3
//              kernel on a 3x3 image (VGG16's conv5 at 48x48) reads 49 of 81
//              taps. The partial columns are added into y through an index
//              map.
//
// kernels/cpu/conv_gemm.cpp chooses between these and the im2col path.
#pragma once

#include <cstdint>

#include "kernels/cpu/im2col.h"

namespace sceald::kernels::cpu {

// Whether this CPU can run the implicit path (AVX-512) for this problem
// (every offset into x and y must fit in 32 bits for the gathers).
bool implicit_conv_available(std::int64_t N, std::int64_t O, const ConvGeometry& g);

// The share of the kernel taps of all output pixels that fall in the padding
// (0 without padding; 1 - 49/81 for 3x3 on 3x3 with padding 1).
double conv_padding_share(const ConvGeometry& g);

enum class ImplicitOrder { Dense, PerKernelRow, PerTap };

// y[n, o] = bias[o] (or 0) + sum over c, ky, kx of weight * x, overwritten.
// Requires implicit_conv_available(N, O, g).
void conv2d_forward_implicit(const float* x, const float* weight, const float* bias, std::int64_t N,
                             std::int64_t O, const ConvGeometry& g, float* y, ImplicitOrder order);

// grad_weight[o, c, ky, kx] = sum over images and output pixels of
// grad_y * x, overwritten, per tap: each tap sums over only the output
// pixels whose input lies inside the image. x and grad_y are first copied
// whole into the GEMM's panel layouts (scratch of about x's and grad_y's
// sizes, channels rounded up to 48 and 8). Requires
// implicit_conv_available(N, O, g).
void conv2d_backward_weight_implicit(const float* grad_y, const float* x, std::int64_t N, std::int64_t O,
                                     const ConvGeometry& g, float* grad_weight);

}  // namespace sceald::kernels::cpu
