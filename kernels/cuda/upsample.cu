#include "kernels/cuda/index_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/upsample.cuh"

namespace sceald::kernels::cuda {

namespace {

template <typename T>
__global__ void upsample_forward_kernel(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                                        std::int64_t oh, std::int64_t ow, T* out) {
  const std::int64_t total = planes * oh * ow;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / (oh * ow), i = (item / ow) % oh, j = item % ow;
    out[item] = x[(p * H + nearest_source(i, H, oh)) * W + nearest_source(j, W, ow)];
  }
}

// One thread per input (h, w): the outputs i with source h form the range
// [first(h), first(h + 1)), visited row by row as the CPU adds them.
template <typename T>
__global__ void upsample_backward_kernel(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                         std::int64_t oh, std::int64_t ow, T* grad_x) {
  const std::int64_t total = planes * H * W;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / (H * W), h = (item / W) % H, w = item % W;
    const std::int64_t i0 = first_output_at_or_after(h, H, oh), i1 = first_output_at_or_after(h + 1, H, oh);
    const std::int64_t j0 = first_output_at_or_after(w, W, ow), j1 = first_output_at_or_after(w + 1, W, ow);
    const T* gp = grad_out + p * oh * ow;
    T acc = T(0);
    for (std::int64_t i = i0; i < i1; ++i)
      for (std::int64_t j = j0; j < j1; ++j) acc += gp[i * ow + j];
    grad_x[item] = acc;
  }
}

}  // namespace

template <typename T>
void upsample_nearest2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                std::int64_t ow, T* out, cudaStream_t stream) {
  const std::int64_t total = planes * oh * ow;
  if (total == 0) return;
  upsample_forward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(x, planes, H, W, oh, ow, out);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void upsample_nearest2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                 std::int64_t oh, std::int64_t ow, T* grad_x, cudaStream_t stream) {
  const std::int64_t total = planes * H * W;
  if (total == 0) return;
  upsample_backward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(grad_out, planes, H, W, oh, ow, grad_x);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template void upsample_nearest2d_forward<float>(const float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                                std::int64_t, float*, cudaStream_t);
template void upsample_nearest2d_forward<double>(const double*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                                 std::int64_t, double*, cudaStream_t);
template void upsample_nearest2d_backward<float>(const float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                                 std::int64_t, float*, cudaStream_t);
template void upsample_nearest2d_backward<double>(const double*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                                  std::int64_t, double*, cudaStream_t);

}  // namespace sceald::kernels::cuda
