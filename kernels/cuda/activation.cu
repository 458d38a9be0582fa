#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/plane_sums.cuh"
#include "kernels/philox.h"

namespace sceald::kernels::cuda {

namespace {

__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }

template <typename T>
__global__ void relu_forward_kernel(const T* x, T* y, std::int64_t n) {
  // NaN stays NaN (kernels/cpu/activation.h).
  for (std::int64_t i = global_index(); i < n; i += global_stride()) y[i] = x[i] <= T(0) ? T(0) : x[i];
}

template <typename T>
__global__ void relu_backward_kernel(const T* y, const T* g, T* gx, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) gx[i] = y[i] <= T(0) ? T(0) : g[i];
}

template <typename T>
__global__ void sigmoid_forward_kernel(const T* x, T* y, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const T v = x[i];
    if (v >= T(0)) {
      y[i] = T(1) / (T(1) + exp_of(-v));
    } else {
      const T e = exp_of(v);
      y[i] = e / (T(1) + e);
    }
  }
}

template <typename T>
__global__ void sigmoid_backward_kernel(const T* y, const T* g, T* gx, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) gx[i] = g[i] * y[i] * (T(1) - y[i]);
}

template <typename T>
__global__ void prelu_forward_kernel(const T* x, const T* weight, T* y, std::int64_t channels, std::int64_t inner,
                                     std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const T w = weight[(i / inner) % channels];
    y[i] = x[i] > T(0) ? x[i] : w * x[i];
  }
}

template <typename T>
__global__ void prelu_grad_input_kernel(const T* x, const T* weight, const T* g, T* gx, std::int64_t channels,
                                        std::int64_t inner, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const T w = weight[(i / inner) % channels];
    gx[i] = x[i] > T(0) ? g[i] : w * g[i];
  }
}

// The weight gradient's term of element j: g x where x <= 0 (NaN x included,
// as the CPU's !(x > 0)), for plane_sums_kernel.
template <typename T>
struct NegativePartTerm {
  const T* x;
  const T* g;
  __device__ double operator()(std::int64_t j) const {
    return x[j] > T(0) ? 0.0 : static_cast<double>(g[j]) * static_cast<double>(x[j]);
  }
};

template <typename T>
__global__ void dropout_kernel(const T* x, T* y, T* mask, std::int64_t n, std::uint64_t seed, std::uint64_t start,
                               double p, T scale) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const float u = uniform_from_word(Philox4x32::word(seed, start, static_cast<std::uint64_t>(i)));
    const T m = static_cast<double>(u) >= p ? scale : T(0);
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

}  // namespace

template <typename T>
void relu_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  relu_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, y, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void relu_backward(const T* y, const T* g, T* gx, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  relu_backward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(y, g, gx, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void sigmoid_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  sigmoid_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, y, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void sigmoid_backward(const T* y, const T* g, T* gx, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  sigmoid_backward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(y, g, gx, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void prelu_forward(const T* x, const T* weight, T* y, std::int64_t outer, std::int64_t channels, std::int64_t inner,
                   cudaStream_t stream) {
  const std::int64_t n = outer * channels * inner;
  if (n == 0) return;
  prelu_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, weight, y, channels, inner, n);
  SCEALD_CUDA_LAUNCH_CHECK();
}

std::size_t prelu_grad_weight_scratch_bytes(std::int64_t outer, std::int64_t channels) {
  return plane_sums_scratch_bytes(outer, channels);
}

template <typename T>
void prelu_backward(const T* x, const T* weight, const T* g, T* gx, T* grad_weight, std::int64_t outer,
                    std::int64_t channels, std::int64_t inner, double* scratch, cudaStream_t stream) {
  const std::int64_t n = outer * channels * inner;
  if (gx && n > 0) {
    prelu_grad_input_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, weight, g, gx, channels, inner, n);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
  if (!grad_weight || channels == 0) return;
  if (n == 0) {
    SCEALD_CUDA_OK(cudaMemsetAsync(grad_weight, 0, static_cast<std::size_t>(channels) * sizeof(T), stream));
    return;
  }
  if (outer > 1 && scratch == nullptr)
    throw std::runtime_error(
        "prelu_backward: the weight gradient needs a scratch buffer (prelu_grad_weight_scratch_bytes)");
  // One block per (outer, channel) plane, then each channel's planes in order.
  plane_sums_kernel<T, NegativePartTerm<T>><<<grid_for(outer * channels, 1), kThreads, 0, stream>>>(
      NegativePartTerm<T>{x, g}, grad_weight, scratch, outer, channels, inner);
  SCEALD_CUDA_LAUNCH_CHECK();
  if (outer > 1) {
    channel_partials_kernel<T><<<grid_for(channels), kThreads, 0, stream>>>(scratch, grad_weight, outer, channels);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
}

template <typename T>
void dropout_forward(const T* x, T* y, T* mask, std::int64_t n, std::uint64_t seed, std::uint64_t start, double p,
                     cudaStream_t stream) {
  if (n == 0) return;
  const T scale = static_cast<T>(1.0 / (1.0 - p));  // as the CPU kernel computes it
  dropout_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, y, mask, n, seed, start, p, scale);
  SCEALD_CUDA_LAUNCH_CHECK();
}

#define SCEALD_INSTANTIATE(T)                                                                                     \
  template void relu_forward<T>(const T*, T*, std::int64_t, cudaStream_t);                                        \
  template void relu_backward<T>(const T*, const T*, T*, std::int64_t, cudaStream_t);                             \
  template void sigmoid_forward<T>(const T*, T*, std::int64_t, cudaStream_t);                                     \
  template void sigmoid_backward<T>(const T*, const T*, T*, std::int64_t, cudaStream_t);                          \
  template void prelu_forward<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, cudaStream_t); \
  template void prelu_backward<T>(const T*, const T*, const T*, T*, T*, std::int64_t, std::int64_t, std::int64_t, \
                                  double*, cudaStream_t);                                                         \
  template void dropout_forward<T>(const T*, T*, T*, std::int64_t, std::uint64_t, std::uint64_t, double, cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
