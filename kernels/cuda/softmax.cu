#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/softmax.cuh"

namespace sceald::kernels::cuda {

namespace {

// One line (o, i) per thread: lines are strided by `inner`, so neighbouring
// threads read neighbouring elements. For inner == 1 a block takes each line.
template <typename T>
__global__ void softmax_lines_kernel(const T* x, T* y, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                                     bool log_output) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * axis * inner + line % inner;
    T m = -INFINITY;
    for (std::int64_t k = 0; k < axis; ++k) m = x[base + k * inner] > m ? x[base + k * inner] : m;
    double s = 0.0;
    for (std::int64_t k = 0; k < axis; ++k) s += exp(static_cast<double>(x[base + k * inner] - m));
    const double log_sum = log(s);
    for (std::int64_t k = 0; k < axis; ++k) {
      const double shifted = static_cast<double>(x[base + k * inner] - m) - log_sum;
      y[base + k * inner] = static_cast<T>(log_output ? shifted : exp(shifted));
    }
  }
}

// inner == 1: one block per row; the max is taken the CPU's way (NaN is
// ignored by `>`, as in its sequential loop), the sum in double.
template <typename T>
__global__ void softmax_rows_kernel(const T* x, T* y, std::int64_t rows, std::int64_t axis, bool log_output) {
  __shared__ double shared[kThreads];
  __shared__ T shared_max[kThreads];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * axis;
    T m = -INFINITY;
    for (std::int64_t k = threadIdx.x; k < axis; k += kThreads) m = xr[k] > m ? xr[k] : m;
    shared_max[threadIdx.x] = m;
    __syncthreads();
    for (int s = kThreads / 2; s > 0; s >>= 1) {
      if (static_cast<int>(threadIdx.x) < s && shared_max[threadIdx.x + s] > shared_max[threadIdx.x])
        shared_max[threadIdx.x] = shared_max[threadIdx.x + s];
      __syncthreads();
    }
    m = shared_max[0];
    double s = 0.0;
    for (std::int64_t k = threadIdx.x; k < axis; k += kThreads) s += exp(static_cast<double>(xr[k] - m));
    const double log_sum = log(block_sum(s, shared));
    for (std::int64_t k = threadIdx.x; k < axis; k += kThreads) {
      const double shifted = static_cast<double>(xr[k] - m) - log_sum;
      y[r * axis + k] = static_cast<T>(log_output ? shifted : exp(shifted));
    }
  }
}

template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, std::int64_t outer, std::int64_t axis,
                                        std::int64_t inner, bool log_output) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * axis * inner + line % inner;
    double s = 0.0;
    for (std::int64_t k = 0; k < axis; ++k) {
      const std::int64_t j = base + k * inner;
      s += log_output ? static_cast<double>(g[j]) : static_cast<double>(g[j]) * static_cast<double>(y[j]);
    }
    for (std::int64_t k = 0; k < axis; ++k) {
      const std::int64_t j = base + k * inner;
      gx[j] =
          log_output ? static_cast<T>(g[j] - exp(static_cast<double>(y[j])) * s) : static_cast<T>(y[j] * (g[j] - s));
    }
  }
}

// One block: loss[0] = (sum_r -log_probs[r, labels[r]]) / n.
template <typename T>
__global__ void nll_mean_kernel(const T* log_probs, const std::int64_t* labels, T* loss, std::int64_t n,
                                std::int64_t c) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += kThreads) acc -= static_cast<double>(log_probs[r * c + labels[r]]);
  const double total = block_sum(acc, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<T>(total / static_cast<double>(n));
}

// One block: loss[0] = (sum_j -target[j] log_probs[j]) / n.
template <typename T>
__global__ void soft_nll_mean_kernel(const T* log_probs, const T* target, T* loss, std::int64_t n, std::int64_t c) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (std::int64_t j = threadIdx.x; j < n * c; j += kThreads)
    acc -= static_cast<double>(target[j]) * static_cast<double>(log_probs[j]);
  const double total = block_sum(acc, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<T>(total / static_cast<double>(n));
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* log_probs, const std::int64_t* labels, const T* grad_loss,
                                              T* grad, std::int64_t n, std::int64_t c) {
  const double scale = static_cast<double>(grad_loss[0]) / static_cast<double>(n);
  for (std::int64_t j = global_index(); j < n * c; j += global_stride()) {
    const double onehot = j % c == labels[j / c] ? 1.0 : 0.0;
    grad[j] = static_cast<T>(scale * (exp(static_cast<double>(log_probs[j])) - onehot));
  }
}

// One thread per row: the row's target mass, then its gradient.
template <typename T>
__global__ void soft_cross_entropy_backward_kernel(const T* log_probs, const T* target, const T* grad_loss, T* grad,
                                                   std::int64_t n, std::int64_t c) {
  const double scale = static_cast<double>(grad_loss[0]) / static_cast<double>(n);
  for (std::int64_t r = global_index(); r < n; r += global_stride()) {
    double mass = 0.0;
    for (std::int64_t k = 0; k < c; ++k) mass += static_cast<double>(target[r * c + k]);
    for (std::int64_t k = 0; k < c; ++k) {
      const std::int64_t j = r * c + k;
      grad[j] = static_cast<T>(scale * (exp(static_cast<double>(log_probs[j])) * mass - target[j]));
    }
  }
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t outer, std::int64_t axis, std::int64_t inner, bool log_output,
                     cudaStream_t stream) {
  if (outer * axis * inner == 0) return;
  if (inner == 1)
    softmax_rows_kernel<T><<<grid_for(outer, 1), kThreads, 0, stream>>>(x, y, outer, axis, log_output);
  else
    softmax_lines_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(x, y, outer, axis, inner, log_output);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void softmax_backward(const T* y, const T* g, T* gx, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                      bool log_output, cudaStream_t stream) {
  if (outer * axis * inner == 0) return;
  softmax_backward_kernel<T>
      <<<grid_for(outer * inner), kThreads, 0, stream>>>(y, g, gx, outer, axis, inner, log_output);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void cross_entropy_forward(const T* logits, const std::int64_t* labels, T* log_probs, T* loss, std::int64_t n,
                           std::int64_t c, cudaStream_t stream) {
  softmax_forward(logits, log_probs, n, c, std::int64_t{1}, true, stream);
  nll_mean_kernel<T><<<1, kThreads, 0, stream>>>(log_probs, labels, loss, n, c);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void cross_entropy_backward(const T* log_probs, const std::int64_t* labels, const T* grad_loss, T* grad, std::int64_t n,
                            std::int64_t c, cudaStream_t stream) {
  if (n * c == 0) return;
  cross_entropy_backward_kernel<T><<<grid_for(n * c), kThreads, 0, stream>>>(log_probs, labels, grad_loss, grad, n, c);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void soft_cross_entropy_forward(const T* logits, const T* target, T* log_probs, T* loss, std::int64_t n, std::int64_t c,
                                cudaStream_t stream) {
  softmax_forward(logits, log_probs, n, c, std::int64_t{1}, true, stream);
  soft_nll_mean_kernel<T><<<1, kThreads, 0, stream>>>(log_probs, target, loss, n, c);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void soft_cross_entropy_backward(const T* log_probs, const T* target, const T* grad_loss, T* grad, std::int64_t n,
                                 std::int64_t c, cudaStream_t stream) {
  if (n * c == 0) return;
  soft_cross_entropy_backward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(log_probs, target, grad_loss, grad, n, c);
  SCEALD_CUDA_LAUNCH_CHECK();
}

#define SCEALD_INSTANTIATE(T)                                                                                        \
  template void softmax_forward<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t, bool, cudaStream_t);      \
  template void softmax_backward<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, bool,          \
                                    cudaStream_t);                                                                   \
  template void cross_entropy_forward<T>(const T*, const std::int64_t*, T*, T*, std::int64_t, std::int64_t,          \
                                         cudaStream_t);                                                              \
  template void cross_entropy_backward<T>(const T*, const std::int64_t*, const T*, T*, std::int64_t, std::int64_t,   \
                                          cudaStream_t);                                                             \
  template void soft_cross_entropy_forward<T>(const T*, const T*, T*, T*, std::int64_t, std::int64_t, cudaStream_t); \
  template void soft_cross_entropy_backward<T>(const T*, const T*, const T*, T*, std::int64_t, std::int64_t,         \
                                               cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
