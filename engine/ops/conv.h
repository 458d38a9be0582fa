// 2-D convolution, NCHW: on the CPU as im2col + GEMM (kernels/cpu/conv_gemm.h; the plain 7-loop
// kernel in kernels/cpu/conv_reference.h is its test reference).
#pragma once

#include <array>

#include "engine/tensor.h"

namespace sceald {

struct Conv2dParams {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
};

// x [N, C, H, W], weight [O, C, kh, kw], bias [O] (may be undefined)
// -> [N, O, Ho, Wo] with Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (likewise Wo).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params = {});

// relu(conv2d(x, weight, bias, params)) as one op: ReLU runs in place on the
// fresh output and the backward pass reads ReLU's mask off that output, so
// the pre-activation is never kept (a Conv2d-ReLU pair holds one activation,
// not two). nn::Sequential uses it for every Conv2d followed by a ReLU.
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& params = {});

}  // namespace sceald
