// The tolerance policy of the GPU tests: how far a CUDA result may be from
// its CPU twin, in one place. The comparison itself is the suite's one rule
// (support/tolerance.h): |gpu - cpu| <= atol + rtol |cpu|, NaN never passes.
//
// Precise mode (the default of every comparison test: FMA math, no TF32,
// deterministic algorithms):
//   exact        data movement and selections: copies, ReLU, max pooling,
//                nearest up-sampling, adaptive average pooling, dropout. The
//                CUDA kernels read the same elements and add them in the CPU's
//                order, so the bits must agree.
//   elementwise  arithmetic and transcendental maps. CUDA's expf/logf/powf are
//                within 2 ulp of glibc's, and nvcc contracts a*b+c into one
//                FMA (one rounding instead of two), which near cancellation
//                shows as an absolute error of an ulp of the operands (values
//                of order 1 here).
//   reduction    sums, softmax, norms, batch norm, cross-entropy: accumulated
//                in double on both devices in different orders, then rounded
//                to the element type: about 1 ulp, plus cancellation in the
//                element-wise steps around the sums.
//   gemm(K)      matmul, linear, conv2d (cuBLAS, cuDNN): float32 accumulation
//                in different orders on both sides (and FMA on both); for
//                terms of magnitude <= 1 the rounding error of a K-term sum
//                grows like sqrt(K) ulp(1) in practice; the bound allows
//                2e-6 sqrt(K) (about 16 ulp(1) sqrt(K)) plus 1e-5 relative.
// Fast mode (TF32, training):
//   tf32_gemm(K) each input is rounded to 10 mantissa bits (relative error
//                <= 2^-11), so a product of two inputs in [-1, 1] is off by up
//                to ~1e-3, and K such errors of random sign add up to about
//                1e-3 sqrt(K); the bound is three times that.
// A whole network (a training step of a small VGG, precise mode):
//   network      errors of every layer compound through the forward and the
//                backward pass; each tensor is compared to a fraction of its
//                largest reference element, plus the same fraction relative:
//                1e-3 in float32, 1e-10 in float64.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/dtype.h"
#include "support/tolerance.h"

namespace sceald::gpu_testing {

using ::sceald::testing::all_close;
using ::sceald::testing::Tolerance;

inline Tolerance exact() { return {0.0, 0.0}; }

inline Tolerance elementwise(DType t) { return t == DType::Float64 ? Tolerance{1e-14, 1e-13} : Tolerance{1e-6, 2e-6}; }

inline Tolerance reduction(DType t) { return t == DType::Float64 ? Tolerance{1e-13, 1e-11} : Tolerance{2e-6, 1e-5}; }

inline Tolerance gemm(DType t, std::int64_t K) {
  const double root = std::sqrt(static_cast<double>(std::max<std::int64_t>(K, 1)));
  return t == DType::Float64 ? Tolerance{1e-14 * root, 1e-11} : Tolerance{2e-6 * root, 1e-5};
}

inline Tolerance tf32_gemm(std::int64_t K) {
  return {3e-3 * std::sqrt(static_cast<double>(std::max<std::int64_t>(K, 1))), 1e-2};
}

// Scaled to the reference tensor: atol = f max |reference|, rtol = f.
inline Tolerance network(const std::vector<double>& reference, DType t) {
  const double f = t == DType::Float64 ? 1e-10 : 1e-3;
  double largest = 0.0;
  for (double v : reference) largest = std::max(largest, std::fabs(v));
  return {f * largest, f};
}

}  // namespace sceald::gpu_testing
