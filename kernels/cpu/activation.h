// Activation kernels: ReLU, PReLU, sigmoid and dropout, forward and backward.
// All arrays are contiguous; outputs are overwritten, never accumulated.
// Backward kernels follow PyTorch at the kink x = 0: ReLU passes no gradient
// there and PReLU treats it as the negative side.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/philox.h"

namespace sceald::kernels::cpu {

// y[i] = max(x[i], 0), NaN staying NaN (as in PyTorch: a diverged network
// must not look healthy downstream); y may alias x.
template <typename T>
void relu_forward(const T* x, T* y, std::int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] <= T(0) ? T(0) : x[i];
}

// y: the forward output; gx[i] = y[i] <= 0 ? 0 : g[i] (NaN outputs pass g).
template <typename T>
void relu_backward(const T* y, const T* g, T* gx, std::int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) gx[i] = y[i] <= T(0) ? T(0) : g[i];
}

// y[i] = 1 / (1 + exp(-x[i])), written so that exp never overflows.
template <typename T>
void sigmoid_forward(const T* x, T* y, std::int64_t n) {
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    if (x[i] >= T(0)) {
      y[i] = T(1) / (T(1) + std::exp(-x[i]));
    } else {
      const T e = std::exp(x[i]);
      y[i] = e / (T(1) + e);
    }
  }
}

// y: the forward output; gx = g * y * (1 - y).
template <typename T>
void sigmoid_backward(const T* y, const T* g, T* gx, std::int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) gx[i] = g[i] * y[i] * (T(1) - y[i]);
}

// x, y: [outer, channels, inner]; weight: [channels].
// y = x > 0 ? x : weight[c] * x.
template <typename T>
void prelu_forward(const T* x, const T* weight, T* y, std::int64_t outer, std::int64_t channels, std::int64_t inner) {
#pragma omp parallel for collapse(2) if (outer * channels * inner > (1 << 16)) schedule(static)
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t c = 0; c < channels; ++c) {
      const std::int64_t base = (o * channels + c) * inner;
      const T w = weight[c];
      for (std::int64_t i = 0; i < inner; ++i) y[base + i] = x[base + i] > T(0) ? x[base + i] : w * x[base + i];
    }
}

// x, g, gx: [outer, channels, inner]; weight, grad_weight: [channels].
// gx = g * (x > 0 ? 1 : weight[c]);  grad_weight[c] = sum over x <= 0 of g * x.
// Either output may be null (not wanted).
template <typename T>
void prelu_backward(const T* x, const T* weight, const T* g, T* gx, T* grad_weight, std::int64_t outer,
                    std::int64_t channels, std::int64_t inner) {
#pragma omp parallel for if (outer * channels * inner > (1 << 16)) schedule(static)
  for (std::int64_t c = 0; c < channels; ++c) {
    const T w = weight[c];
    double acc = 0.0;
    for (std::int64_t o = 0; o < outer; ++o) {
      const std::int64_t base = (o * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::int64_t j = base + i;
        const bool positive = x[j] > T(0);
        if (gx) gx[j] = positive ? g[j] : w * g[j];
        if (!positive) acc += static_cast<double>(g[j]) * static_cast<double>(x[j]);
      }
    }
    if (grad_weight) grad_weight[c] = static_cast<T>(acc);
  }
}

// Element i keeps x[i] when u_i >= p, with u_i = uniform_from_word(Philox
// word i of the draw (seed, start)), and scales it by 1 / (1 - p).
// mask[i] (overwritten) = kept ? 1 / (1 - p) : 0; y[i] = x[i] * mask[i].
// Requires 0 <= p < 1. The CUDA twin draws the same words, hence the same mask.
template <typename T>
void dropout_forward(const T* x, T* y, T* mask, std::int64_t n, std::uint64_t seed, std::uint64_t start, double p) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const std::int64_t blocks = (n + 3) / 4;  // words 4b .. 4b + 3 come from one Philox block
#pragma omp parallel for if (n > (1 << 15)) schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const Philox4x32::Words w = Philox4x32::block(seed, start + static_cast<std::uint64_t>(b));
    for (std::int64_t i = 4 * b; i < std::min(4 * b + 4, n); ++i) {
      const float u = uniform_from_word(w.v[i - 4 * b]);
      mask[i] = static_cast<double>(u) >= p ? scale : T(0);
      y[i] = x[i] * mask[i];
    }
  }
}

}  // namespace sceald::kernels::cpu
