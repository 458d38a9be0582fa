#include "kernels/cuda/batch_norm.cuh"
#include "kernels/cuda/launch.cuh"

namespace sceald::kernels::cuda {

namespace {

// One block per (image, channel) plane of [n, channels, inner], whose inner
// values are contiguous: the sum of x (center null) or of (x - center[c])^2,
// into partial[c * n + b]. Planes, not channels, spread the work over the GPU
// (a ResNet layer has 16 to 512 channels; the GPU runs ~2,000 blocks at once).
template <typename T>
__global__ void plane_sums_kernel(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner,
                                  const double* center, double* partial) {
  __shared__ double shared[kThreads];
  for (std::int64_t plane = blockIdx.x; plane < n * channels; plane += gridDim.x) {
    const std::int64_t b = plane / channels, c = plane % channels;
    const T* p = x + plane * inner;
    const double m = center ? center[c] : 0.0;
    double acc = 0.0;
    for (std::int64_t i = threadIdx.x; i < inner; i += kThreads) {
      const double v = static_cast<double>(p[i]) - m;
      acc += center ? v * v : v;
    }
    const double total = block_sum(acc, shared);
    if (threadIdx.x == 0) partial[c * n + b] = total;
  }
}

// Per channel: the planes' sums in image order, divided by `count`; into
// out[c] and, where given, exact[c] (the double that the next pass centres on).
template <typename T>
__global__ void channel_means_kernel(const double* partial, std::int64_t n, std::int64_t channels, double count,
                                     T* out, double* exact) {
  for (std::int64_t c = global_index(); c < channels; c += global_stride()) {
    double acc = 0.0;
    for (std::int64_t b = 0; b < n; ++b) acc += partial[c * n + b];
    const double value = acc / count;
    out[c] = static_cast<T>(value);
    if (exact) exact[c] = value;
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

// One block per (image, channel) plane: the sums of g and of g x_hat (needed
// by grad_weight, grad_bias and, with batch statistics, grad_x), into
// partial_g[c * n + b] and partial_g_xhat[c * n + b].
template <typename T>
__global__ void backward_plane_sums_kernel(const T* g, const T* x, std::int64_t n, std::int64_t channels,
                                           std::int64_t inner, const T* mean, const T* inv_std, double* partial_g,
                                           double* partial_g_xhat) {
  __shared__ double shared[kThreads];
  for (std::int64_t plane = blockIdx.x; plane < n * channels; plane += gridDim.x) {
    const std::int64_t b = plane / channels, c = plane % channels;
    const double m = static_cast<double>(mean[c]), is = static_cast<double>(inv_std[c]);
    double sg = 0.0, sgx = 0.0;
    for (std::int64_t i = threadIdx.x; i < inner; i += kThreads) {
      const std::int64_t j = plane * inner + i;
      const double gv = static_cast<double>(g[j]);
      sg += gv;
      sgx += gv * (static_cast<double>(x[j]) - m) * is;
    }
    const double total_g = block_sum(sg, shared), total_gx = block_sum(sgx, shared);
    if (threadIdx.x == 0) {
      partial_g[c * n + b] = total_g;
      partial_g_xhat[c * n + b] = total_gx;
    }
  }
}

// Per channel: the planes' two sums in image order, into sum_g, sum_g_xhat
// and the gradients of bias and weight that they are.
template <typename T>
__global__ void backward_channel_sums_kernel(const double* partial_g, const double* partial_g_xhat, std::int64_t n,
                                             std::int64_t channels, double* sum_g, double* sum_g_xhat,
                                             T* grad_weight, T* grad_bias) {
  for (std::int64_t c = global_index(); c < channels; c += global_stride()) {
    double sg = 0.0, sgx = 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      sg += partial_g[c * n + b];
      sgx += partial_g_xhat[c * n + b];
    }
    sum_g[c] = sg;
    sum_g_xhat[c] = sgx;
    if (grad_bias) grad_bias[c] = static_cast<T>(sg);
    if (grad_weight) grad_weight[c] = static_cast<T>(sgx);
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

std::size_t batch_norm_scratch_bytes(std::int64_t n, std::int64_t channels) {
  return static_cast<std::size_t>(2 * channels + 2 * n * channels) * sizeof(double);
}

template <typename T>
void batch_norm_statistics(const T* x, std::int64_t n, std::int64_t channels, std::int64_t inner, T* mean,
                           T* biased_var, double* scratch, cudaStream_t stream) {
  if (channels == 0) return;
  // scratch: [channels] the mean in double, then [channels, n] the planes' sums.
  double* exact_mean = scratch;
  double* partial = scratch + channels;
  const double count = static_cast<double>(n * inner);
  const unsigned planes = grid_for(n * channels, 1), per_channel = grid_for(channels);
  // Two passes over x, as on the CPU: the mean, then the squares about it.
  plane_sums_kernel<T><<<planes, kThreads, 0, stream>>>(x, n, channels, inner, nullptr, partial);
  SCEALD_CUDA_LAUNCH_CHECK();
  channel_means_kernel<T><<<per_channel, kThreads, 0, stream>>>(partial, n, channels, count, mean, exact_mean);
  SCEALD_CUDA_LAUNCH_CHECK();
  plane_sums_kernel<T><<<planes, kThreads, 0, stream>>>(x, n, channels, inner, exact_mean, partial);
  SCEALD_CUDA_LAUNCH_CHECK();
  channel_means_kernel<T><<<per_channel, kThreads, 0, stream>>>(partial, n, channels, count, biased_var, nullptr);
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
                         T* grad_bias, double* scratch, cudaStream_t stream) {
  const std::int64_t total = n * channels * inner;
  if (channels == 0) return;
  // scratch: [channels] sum g, [channels] sum g x_hat, then the planes' sums of each, [channels, n] twice.
  double* sum_g = scratch;
  double* sum_g_xhat = scratch + channels;
  double* partial_g = scratch + 2 * channels;
  double* partial_g_xhat = partial_g + n * channels;
  backward_plane_sums_kernel<T><<<grid_for(n * channels, 1), kThreads, 0, stream>>>(g, x, n, channels, inner, mean,
                                                                                     inv_std, partial_g, partial_g_xhat);
  SCEALD_CUDA_LAUNCH_CHECK();
  backward_channel_sums_kernel<T><<<grid_for(channels), kThreads, 0, stream>>>(
      partial_g, partial_g_xhat, n, channels, sum_g, sum_g_xhat, grad_weight, grad_bias);
  SCEALD_CUDA_LAUNCH_CHECK();
  if (grad_x && total > 0) {
    grad_input_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(g, x, channels, inner, total,
                                                                   static_cast<double>(n * inner), mean, inv_std,
                                                                   weight, batch_stats, sum_g, sum_g_xhat, grad_x);
    SCEALD_CUDA_LAUNCH_CHECK();
  }
}

#define SCEALD_INSTANTIATE(T)                                                                                       \
  template void batch_norm_statistics<T>(const T*, std::int64_t, std::int64_t, std::int64_t, T*, T*, double*,       \
                                         cudaStream_t);                                                             \
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
