#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/philox.h"

namespace sceald::kernels::cuda {

namespace {

__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }

template <typename T>
__global__ void relu_forward_kernel(const T* x, T* y, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <typename T>
__global__ void relu_backward_kernel(const T* y, const T* g, T* gx, std::int64_t n) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) gx[i] = y[i] > T(0) ? g[i] : T(0);
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

// One block per channel: sum over (o, i) of g x where x <= 0.
template <typename T>
__global__ void prelu_grad_weight_kernel(const T* x, const T* g, T* grad_weight, std::int64_t outer,
                                         std::int64_t channels, std::int64_t inner) {
  __shared__ double shared[kThreads];
  for (std::int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    double acc = 0.0;
    for (std::int64_t k = threadIdx.x; k < outer * inner; k += kThreads) {
      const std::int64_t j = ((k / inner) * channels + c) * inner + k % inner;
      if (!(x[j] > T(0))) acc += static_cast<double>(g[j]) * static_cast<double>(x[j]);
    }
    const double total = block_sum(acc, shared);
    if (threadIdx.x == 0) grad_weight[c] = static_cast<T>(total);
  }
}

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

template <typename T>
void prelu_backward(const T* x, const T* weight, const T* g, T* gx, T* grad_weight, std::int64_t outer,
                    std::int64_t channels, std::int64_t inner, cudaStream_t stream) {
  const std::int64_t n = outer * channels * inner;
  if (gx && n > 0) {
    prelu_grad_input_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(x, weight, g, gx, channels, inner, n);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
  if (grad_weight && channels > 0) {
    prelu_grad_weight_kernel<T>
        <<<grid_for(channels, 1), kThreads, 0, stream>>>(x, g, grad_weight, outer, channels, inner);
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
                                  cudaStream_t);                                                                  \
  template void dropout_forward<T>(const T*, T*, T*, std::int64_t, std::uint64_t, std::uint64_t, double, cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
