#include "kernels/cuda/bias.cuh"
#include "kernels/cuda/launch.cuh"

namespace sceald::kernels::cuda {

namespace {

template <typename T>
__global__ void fill_rows_kernel(const T* bias, T* y, std::int64_t cols, std::int64_t total) {
  for (std::int64_t j = global_index(); j < total; j += global_stride()) y[j] = bias[j % cols];
}

template <typename T>
__global__ void add_channel_bias_kernel(T* y, const T* bias, std::int64_t channels, std::int64_t inner,
                                        std::int64_t total) {
  for (std::int64_t j = global_index(); j < total; j += global_stride()) y[j] += bias[(j / inner) % channels];
}

}  // namespace

template <typename T>
void fill_rows_with_bias(const T* bias, T* y, std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
  const std::int64_t total = rows * cols;
  if (total == 0) return;
  fill_rows_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(bias, y, cols, total);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void add_channel_bias(T* y, const T* bias, std::int64_t n, std::int64_t channels, std::int64_t inner,
                      cudaStream_t stream) {
  const std::int64_t total = n * channels * inner;
  if (total == 0) return;
  add_channel_bias_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(y, bias, channels, inner, total);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template void fill_rows_with_bias<float>(const float*, float*, std::int64_t, std::int64_t, cudaStream_t);
template void fill_rows_with_bias<double>(const double*, double*, std::int64_t, std::int64_t, cudaStream_t);
template void add_channel_bias<float>(float*, const float*, std::int64_t, std::int64_t, std::int64_t, cudaStream_t);
template void add_channel_bias<double>(double*, const double*, std::int64_t, std::int64_t, std::int64_t, cudaStream_t);

}  // namespace sceald::kernels::cuda
