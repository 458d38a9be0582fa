// Softmax and log-softmax along the middle axis of a contiguous
// [outer, axis, inner] view (the softmax axis made the middle one by the
// caller: outer = product of the extents before it, inner = after it), and
// the fused softmax cross-entropy over [n, c] rows.
//
// Every line (o, i) is normalised on its own, stably: the line's maximum is
// subtracted before exponentiating, so large logits never overflow. Sums are
// accumulated in double. Outputs are overwritten, never accumulated.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace sceald::kernels::cpu {

namespace detail {
// The max and log(sum exp(x - max)) of one strided line of `count` elements.
template <typename T>
void line_log_sum_exp(const T* x, std::int64_t count, std::int64_t stride, T& max_out, double& log_sum_out) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::int64_t k = 0; k < count; ++k) m = x[k * stride] > m ? x[k * stride] : m;
  double s = 0.0;
  for (std::int64_t k = 0; k < count; ++k) s += std::exp(static_cast<double>(x[k * stride] - m));
  max_out = m;
  log_sum_out = std::log(s);
}
}  // namespace detail

// x, y: [outer, axis, inner] contiguous; y may alias x.
// y = softmax(x) along the middle axis, or log-softmax when `log_output`.
template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t outer, std::int64_t axis, std::int64_t inner, bool log_output) {
  const std::int64_t lines = outer * inner;
#pragma omp parallel for if (lines * axis > (1 << 15)) schedule(static)
  for (std::int64_t line = 0; line < lines; ++line) {
    const std::int64_t o = line / inner, i = line % inner;
    const T* xl = x + o * axis * inner + i;
    T* yl = y + o * axis * inner + i;
    T m;
    double log_sum;
    detail::line_log_sum_exp(xl, axis, inner, m, log_sum);
    for (std::int64_t k = 0; k < axis; ++k) {
      const double shifted = static_cast<double>(xl[k * inner] - m) - log_sum;
      yl[k * inner] = static_cast<T>(log_output ? shifted : std::exp(shifted));
    }
  }
}

// y: the forward output (softmax, or log-softmax when `log_output`); g: dL/dy;
// gx (overwritten): dL/dx, all [outer, axis, inner] contiguous.
//   softmax:     gx = y * (g - sum_k g_k y_k)
//   log-softmax: gx = g - exp(y) * sum_k g_k
template <typename T>
void softmax_backward(const T* y, const T* g, T* gx, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                      bool log_output) {
  const std::int64_t lines = outer * inner;
#pragma omp parallel for if (lines * axis > (1 << 15)) schedule(static)
  for (std::int64_t line = 0; line < lines; ++line) {
    const std::int64_t o = line / inner, i = line % inner;
    const std::int64_t base = o * axis * inner + i;
    double s = 0.0;
    for (std::int64_t k = 0; k < axis; ++k) {
      const std::int64_t j = base + k * inner;
      s += log_output ? static_cast<double>(g[j]) : static_cast<double>(g[j]) * static_cast<double>(y[j]);
    }
    for (std::int64_t k = 0; k < axis; ++k) {
      const std::int64_t j = base + k * inner;
      gx[j] = log_output ? static_cast<T>(g[j] - std::exp(static_cast<double>(y[j])) * s)
                         : static_cast<T>(y[j] * (g[j] - s));
    }
  }
}

// logits, log_probs: [n, c] contiguous; labels: [n], each already checked to
// lie in [0, c). Writes log_probs = log-softmax(logits) (kept for backward)
// and returns sum_i -log_probs[i, labels[i]] (not yet divided by n).
template <typename T>
double cross_entropy_forward(const T* logits, const std::int64_t* labels, T* log_probs, std::int64_t n,
                             std::int64_t c) {
  softmax_forward(logits, log_probs, n, c, std::int64_t{1}, true);
  double loss = 0.0;
  for (std::int64_t r = 0; r < n; ++r) loss -= static_cast<double>(log_probs[r * c + labels[r]]);
  return loss;
}

// grad (overwritten) [n, c] = scale * (softmax - onehot(labels)), where
// softmax = exp(log_probs): the gradient of the summed loss, times `scale`.
template <typename T>
void cross_entropy_backward(const T* log_probs, const std::int64_t* labels, double scale, T* grad, std::int64_t n,
                            std::int64_t c) {
#pragma omp parallel for if (n * c > (1 << 15)) schedule(static)
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t k = 0; k < c; ++k) {
      const double onehot = k == labels[r] ? 1.0 : 0.0;
      grad[r * c + k] = static_cast<T>(scale * (std::exp(static_cast<double>(log_probs[r * c + k])) - onehot));
    }
  }
}

// logits, target, log_probs: [n, c] contiguous. Writes log_probs and returns
// sum_i sum_k -target[i, k] log_probs[i, k] (not yet divided by n).
template <typename T>
double soft_cross_entropy_forward(const T* logits, const T* target, T* log_probs, std::int64_t n, std::int64_t c) {
  softmax_forward(logits, log_probs, n, c, std::int64_t{1}, true);
  double loss = 0.0;
  for (std::int64_t j = 0; j < n * c; ++j) loss -= static_cast<double>(target[j]) * static_cast<double>(log_probs[j]);
  return loss;
}

// grad (overwritten) [n, c] = scale * (softmax * sum_k target_k - target), row
// by row: d/dz_j of -sum_k t_k (z_k - logsumexp z) = softmax_j sum_k t_k - t_j.
template <typename T>
void soft_cross_entropy_backward(const T* log_probs, const T* target, double scale, T* grad, std::int64_t n,
                                 std::int64_t c) {
#pragma omp parallel for if (n * c > (1 << 15)) schedule(static)
  for (std::int64_t r = 0; r < n; ++r) {
    double mass = 0.0;
    for (std::int64_t k = 0; k < c; ++k) mass += static_cast<double>(target[r * c + k]);
    for (std::int64_t k = 0; k < c; ++k) {
      const std::int64_t j = r * c + k;
      grad[j] = static_cast<T>(scale * (std::exp(static_cast<double>(log_probs[j])) * mass - target[j]));
    }
  }
}

}  // namespace sceald::kernels::cpu
