#include "kernels/cuda/batch_norm.cuh"
#include "kernels/cuda/launch.cuh"

namespace sceald::kernels::cuda {

namespace {

// Element k of channel c in [n, channels, inner]: k walks n then inner.
__device__ inline std::int64_t channel_element(std::int64_t k, std::int64_t c, std::int64_t channels,
                                               std::int64_t inner) {
  return ((k / inner) * channels + c) * inner + k % inner;
}

template <typename T>
__global__ void statistics_kernel(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, T* mean,
                                  T* biased_var) {
  __shared__ double shared[kThreads];
  const std::int64_t count = n * inner;
  for (std::int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    double s = 0.0;
    for (std::int64_t k = threadIdx.x; k < count; k += kThreads)
      s += static_cast<double>(x[channel_element(k, c, channels, inner)]);
    const double m = block_sum(s, shared) / static_cast<double>(count);
    double sq = 0.0;
    for (std::int64_t k = threadIdx.x; k < count; k += kThreads) {
      const double d = static_cast<double>(x[channel_element(k, c, channels, inner)]) - m;
      sq += d * d;
    }
    const double var = block_sum(sq, shared) / static_cast<double>(count);
    if (threadIdx.x == 0) {
      mean[c] = static_cast<T>(m);
      biased_var[c] = static_cast<T>(var);
    }
  }
}

template <typename T>
__global__ void update_running_kernel(const T* mean, const T* biased_var, std::int64_t channels, double unbias,
                                      double momentum, T* running_mean, T* running_var) {
  for (std::int64_t c = global_index(); c < channels; c += global_stride()) {
    running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * biased_var[c] * unbias);
  }
}

template <typename T>
__global__ void inverse_std_kernel(T* var, std::int64_t channels, double eps) {
  for (std::int64_t c = global_index(); c < channels; c += global_stride())
    var[c] = static_cast<T>(1.0 / sqrt(static_cast<double>(var[c]) + eps));
}

template <typename T>
__global__ void forward_kernel(const T* x, std::int64_t channels, std::int64_t inner, std::int64_t total, const T* mean,
                               const T* inv_std, const T* weight, const T* bias, T* y) {
  for (std::int64_t j = global_index(); j < total; j += global_stride()) {
    const std::int64_t c = (j / inner) % channels;
    const T scale = inv_std[c] * (weight ? weight[c] : T(1));
    const T shift = (bias ? bias[c] : T(0)) - mean[c] * scale;
    y[j] = x[j] * scale + shift;
  }
}

// One block per channel: sum g and sum g x_hat (needed by grad_weight,
// grad_bias and, with batch statistics, grad_x), stored per channel.
template <typename T>
__global__ void backward_sums_kernel(const T* g, const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner,
                                     const T* mean, const T* inv_std, double* sum_g, double* sum_g_xhat, T* grad_weight,
                                     T* grad_bias) {
  __shared__ double shared[kThreads];
  const std::int64_t count = n * inner;
  for (std::int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const double m = static_cast<double>(mean[c]), is = static_cast<double>(inv_std[c]);
    double sg = 0.0, sgx = 0.0;
    for (std::int64_t k = threadIdx.x; k < count; k += kThreads) {
      const std::int64_t j = channel_element(k, c, channels, inner);
      const double gv = static_cast<double>(g[j]);
      sg += gv;
      sgx += gv * (static_cast<double>(x[j]) - m) * is;
    }
    const double total_g = block_sum(sg, shared), total_gx = block_sum(sgx, shared);
    if (threadIdx.x == 0) {
      sum_g[c] = total_g;
      sum_g_xhat[c] = total_gx;
      if (grad_bias) grad_bias[c] = static_cast<T>(total_g);
      if (grad_weight) grad_weight[c] = static_cast<T>(total_gx);
    }
  }
}

template <typename T>
__global__ void grad_input_kernel(const T* g, const T* x, std::int64_t channels, std::int64_t inner, std::int64_t total,
                                  double count, const T* mean, const T* inv_std, const T* weight, bool batch_stats,
                                  const double* sum_g, const double* sum_g_xhat, T* grad_x) {
  for (std::int64_t j = global_index(); j < total; j += global_stride()) {
    const std::int64_t c = (j / inner) % channels;
    const double m = static_cast<double>(mean[c]), is = static_cast<double>(inv_std[c]);
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    const double mean_g = batch_stats ? sum_g[c] / count : 0.0;
    const double mean_g_xhat = batch_stats ? sum_g_xhat[c] / count : 0.0;
    const double x_hat = (static_cast<double>(x[j]) - m) * is;
    grad_x[j] = static_cast<T>(w * is * (static_cast<double>(g[j]) - mean_g - x_hat * mean_g_xhat));
  }
}

}  // namespace

template <typename T>
void batch_norm_statistics(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, T* mean,
                           T* biased_var, cudaStream_t stream) {
  if (channels == 0) return;
  statistics_kernel<T><<<grid_for(channels, 1), kThreads, 0, stream>>>(x, n, channels, inner, mean, biased_var);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void batch_norm_update_running(const T* mean, const T* biased_var, std::int64_t channels, std::int64_t count,
                               double momentum, T* running_mean, T* running_var, cudaStream_t stream) {
  if (channels == 0) return;
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  update_running_kernel<T><<<grid_for(channels), kThreads, 0, stream>>>(mean, biased_var, channels, unbias, momentum,
                                                                        running_mean, running_var);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void batch_norm_inverse_std(T* var, std::int64_t channels, double eps, cudaStream_t stream) {
  if (channels == 0) return;
  inverse_std_kernel<T><<<grid_for(channels), kThreads, 0, stream>>>(var, channels, eps);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void batch_norm_forward(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, const T* mean,
                        const T* inv_std, const T* weight, const T* bias, T* y, cudaStream_t stream) {
  const std::int64_t total = n * channels * inner;
  if (total == 0) return;
  forward_kernel<T>
      <<<grid_for(total), kThreads, 0, stream>>>(x, channels, inner, total, mean, inv_std, weight, bias, y);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void batch_norm_backward(const T* g, const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner,
                         const T* mean, const T* inv_std, const T* weight, bool batch_stats, T* grad_x, T* grad_weight,
                         T* grad_bias, double* sums, cudaStream_t stream) {
  const std::int64_t total = n * channels * inner;
  if (channels == 0) return;
  backward_sums_kernel<T><<<grid_for(channels, 1), kThreads, 0, stream>>>(g, x, n, channels, inner, mean, inv_std, sums,
                                                                          sums + channels, grad_weight, grad_bias);
  SCEALD_CUDA_LAUNCH_CHECK();
  if (grad_x && total > 0) {
    grad_input_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(g, x, channels, inner, total,
                                                                   static_cast<double>(n * inner), mean, inv_std,
                                                                   weight, batch_stats, sums, sums + channels, grad_x);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
}

#define SCEALD_INSTANTIATE(T)                                                                                       \
  template void batch_norm_statistics<T>(const T*, std::int64_t, std::int64_t, std::int64_t, T*, T*, cudaStream_t); \
  template void batch_norm_update_running<T>(const T*, const T*, std::int64_t, std::int64_t, double, T*, T*,        \
                                             cudaStream_t);                                                         \
  template void batch_norm_inverse_std<T>(T*, std::int64_t, double, cudaStream_t);                                  \
  template void batch_norm_forward<T>(const T*, std::int64_t, std::int64_t, std::int64_t, const T*, const T*,       \
                                      const T*, const T*, T*, cudaStream_t);                                        \
  template void batch_norm_backward<T>(const T*, const T*, std::int64_t, std::int64_t, std::int64_t, const T*,      \
                                       const T*, const T*, bool, T*, T*, T*, double*, cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
