// Batch normalisation kernels over channel axis 1 of a contiguous
// [n, channels, inner] view (inner = H * W for images, 1 for [N, C]).
// Per-channel statistics are accumulated in double; the channel loop runs in
// parallel. Outputs are overwritten, never accumulated.
#pragma once

#include <cmath>
#include <cstdint>

namespace sceald::kernels::cpu {

// mean, biased_var (overwritten) [channels]: the mean and the biased variance
// (divided by n * inner) of each channel, in two passes for accuracy.
template <typename T>
void batch_norm_statistics(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, T* mean,
                           T* biased_var) {
  const std::int64_t count = n * inner;
#pragma omp parallel for if (n * channels * inner > (1 << 16)) schedule(static)
  for (std::int64_t c = 0; c < channels; ++c) {
    double s = 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      const T* row = x + (b * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) s += static_cast<double>(row[i]);
    }
    const double m = s / static_cast<double>(count);
    double sq = 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      const T* row = x + (b * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        const double d = static_cast<double>(row[i]) - m;
        sq += d * d;
      }
    }
    mean[c] = static_cast<T>(m);
    biased_var[c] = static_cast<T>(sq / static_cast<double>(count));
  }
}

// running_mean, running_var [channels] (updated in place, PyTorch's rule):
// r = (1 - momentum) r + momentum * s, with the unbiased variance
// biased_var * count / (count - 1), count = values per channel (> 1).
template <typename T>
void batch_norm_update_running(const T* mean, const T* biased_var, std::int64_t channels, std::int64_t count,
                               double momentum, T* running_mean, T* running_var) {
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  for (std::int64_t c = 0; c < channels; ++c) {
    running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * biased_var[c] * unbias);
  }
}

// y = (x - mean[c]) * inv_std[c] * weight[c] + bias[c]; x, y [n, channels, inner];
// weight and bias may be null (1 and 0). y may alias x.
template <typename T>
void batch_norm_forward(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, const T* mean,
                        const T* inv_std, const T* weight, const T* bias, T* y) {
#pragma omp parallel for collapse(2) if (n * channels * inner > (1 << 16)) schedule(static)
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t c = 0; c < channels; ++c) {
      const T scale = inv_std[c] * (weight ? weight[c] : T(1));
      const T shift = (bias ? bias[c] : T(0)) - mean[c] * scale;
      const std::int64_t base = (b * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) y[base + i] = x[base + i] * scale + shift;
    }
}

// g, x, grad_x [n, channels, inner]; mean, inv_std, weight, grad_weight,
// grad_bias [channels]. weight may be null (1); any grad_* may be null (not
// wanted). With x_hat = (x - mean) inv_std and M = n * inner:
//   grad_bias[c]   = sum g
//   grad_weight[c] = sum g x_hat
//   grad_x = w inv_std (g - sum g / M - x_hat sum(g x_hat) / M)   (batch_stats: mean, inv_std from this batch)
//   grad_x = w inv_std g                                          (otherwise: constants, the running stats)
template <typename T>
void batch_norm_backward(const T* g, const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner,
                         const T* mean, const T* inv_std, const T* weight, bool batch_stats, T* grad_x, T* grad_weight,
                         T* grad_bias) {
  const double count = static_cast<double>(n * inner);
#pragma omp parallel for if (n * channels * inner > (1 << 16)) schedule(static)
  for (std::int64_t c = 0; c < channels; ++c) {
    const double m = static_cast<double>(mean[c]), is = static_cast<double>(inv_std[c]);
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    double sum_g = 0.0, sum_g_xhat = 0.0;
    if (grad_weight || grad_bias || (grad_x && batch_stats)) {
      for (std::int64_t b = 0; b < n; ++b) {
        const std::int64_t base = (b * channels + c) * inner;
        for (std::int64_t i = 0; i < inner; ++i) {
          const double gv = static_cast<double>(g[base + i]);
          sum_g += gv;
          sum_g_xhat += gv * (static_cast<double>(x[base + i]) - m) * is;
        }
      }
    }
    if (grad_bias) grad_bias[c] = static_cast<T>(sum_g);
    if (grad_weight) grad_weight[c] = static_cast<T>(sum_g_xhat);
    if (!grad_x) continue;
    const double mean_g = batch_stats ? sum_g / count : 0.0;
    const double mean_g_xhat = batch_stats ? sum_g_xhat / count : 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      const std::int64_t base = (b * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        const double x_hat = (static_cast<double>(x[base + i]) - m) * is;
        grad_x[base + i] = static_cast<T>(w * is * (static_cast<double>(g[base + i]) - mean_g - x_hat * mean_g_xhat));
      }
    }
  }
}

}  // namespace sceald::kernels::cpu
