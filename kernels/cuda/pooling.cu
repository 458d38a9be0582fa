#include "kernels/cuda/index_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/pooling.cuh"

namespace sceald::kernels::cuda {

namespace {

// The taps [lo, hi) of a window starting at `start` that land inside [0, in)
// (kernels::cpu::valid_taps, for the device).
__device__ inline void tap_range(std::int64_t start, std::int64_t in, std::int64_t kernel, std::int64_t dilation,
                                 std::int64_t& lo, std::int64_t& hi) {
  lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  hi = start >= in ? 0 : min(kernel, (in - start + dilation - 1) / dilation);
  if (hi < lo) hi = lo;
}

template <typename T>
__global__ void max_pool2d_forward_kernel(const T* x, std::int64_t planes, PoolGeometry g, T* out,
                                          std::int64_t* argmax) {
  const std::int64_t out_plane = g.Ho * g.Wo, total = planes * out_plane;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / out_plane, oh = (item % out_plane) / g.Wo, ow = item % g.Wo;
    const T* src = x + p * g.H * g.W;
    const std::int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
    std::int64_t rlo, rhi, clo, chi;
    tap_range(h0, g.H, g.kh, g.dh, rlo, rhi);
    tap_range(w0, g.W, g.kw, g.dw, clo, chi);
    T best = -INFINITY;
    std::int64_t best_index = -1;
    if (rlo < rhi && clo < chi) {
      best_index = (h0 + rlo * g.dh) * g.W + w0 + clo * g.dw;
      best = src[best_index];
    }
    std::int64_t last_nan = -1;
    for (std::int64_t i = rlo; i < rhi; ++i)
      for (std::int64_t j = clo; j < chi; ++j) {
        const std::int64_t k = (h0 + i * g.dh) * g.W + w0 + j * g.dw;
        const T v = src[k];
        if (v > best) {
          best = v;
          best_index = k;
        }
        if (v != v) last_nan = k;
      }
    if (last_nan >= 0) {  // PyTorch's rule: NaN propagates, the last NaN of the window wins
      best_index = last_nan;
      best = src[last_nan];
    }
    out[item] = best;
    argmax[item] = best_index;
  }
}

// One thread per input element: the windows (oh, ow) whose taps can cover
// (h, w) are visited in row-major order, adding those whose argmax is it.
template <typename T>
__global__ void max_pool2d_backward_kernel(const T* grad_out, const std::int64_t* argmax, std::int64_t planes,
                                           PoolGeometry g, T* grad_x) {
  const std::int64_t in_plane = g.H * g.W, out_plane = g.Ho * g.Wo, total = planes * in_plane;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / in_plane, flat = item % in_plane, h = flat / g.W, w = flat % g.W;
    const IndexRange rows = pool_windows_touching(h, g.kh, g.sh, g.ph, g.dh, g.Ho);
    const IndexRange cols = pool_windows_touching(w, g.kw, g.sw, g.pw, g.dw, g.Wo);
    const T* gp = grad_out + p * out_plane;
    const std::int64_t* ap = argmax + p * out_plane;
    T acc = T(0);
    for (std::int64_t oh = rows.lo; oh <= rows.hi; ++oh)
      for (std::int64_t ow = cols.lo; ow <= cols.hi; ++ow)
        if (ap[oh * g.Wo + ow] == flat) acc += gp[oh * g.Wo + ow];
    grad_x[item] = acc;
  }
}

template <typename T>
__global__ void adaptive_avg_forward_kernel(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                                            std::int64_t oh, std::int64_t ow, T* out) {
  const std::int64_t total = planes * oh * ow;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / (oh * ow), i = (item / ow) % oh, j = item % ow;
    const std::int64_t h0 = adaptive_start(i, H, oh), h1 = adaptive_end(i, H, oh);
    const std::int64_t w0 = adaptive_start(j, W, ow), w1 = adaptive_end(j, W, ow);
    const T* src = x + p * H * W;
    double acc = 0.0;
    for (std::int64_t h = h0; h < h1; ++h)
      for (std::int64_t w = w0; w < w1; ++w) acc += static_cast<double>(src[h * W + w]);
    out[item] = static_cast<T>(acc / static_cast<double>((h1 - h0) * (w1 - w0)));
  }
}

// One thread per input element: the bins holding it, in the CPU's order.
template <typename T>
__global__ void adaptive_avg_backward_kernel(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                             std::int64_t oh, std::int64_t ow, T* grad_x) {
  const std::int64_t total = planes * H * W;
  for (std::int64_t item = global_index(); item < total; item += global_stride()) {
    const std::int64_t p = item / (H * W), h = (item / W) % H, w = item % W;
    const IndexRange bins_h = adaptive_bins_holding(h, H, oh), bins_w = adaptive_bins_holding(w, W, ow);
    const T* gp = grad_out + p * oh * ow;
    T acc = T(0);
    for (std::int64_t i = bins_h.lo; i <= bins_h.hi; ++i) {
      const std::int64_t h0 = adaptive_start(i, H, oh), h1 = adaptive_end(i, H, oh);
      if (h < h0 || h >= h1) continue;  // the range is exact; the test keeps it honest
      for (std::int64_t j = bins_w.lo; j <= bins_w.hi; ++j) {
        const std::int64_t w0 = adaptive_start(j, W, ow), w1 = adaptive_end(j, W, ow);
        if (w < w0 || w >= w1) continue;
        acc += gp[i * ow + j] / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
    grad_x[item] = acc;
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, std::int64_t planes, const PoolGeometry& g, T* out, std::int64_t* argmax,
                        cudaStream_t stream) {
  const std::int64_t total = planes * g.Ho * g.Wo;
  if (total == 0) return;
  max_pool2d_forward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(x, planes, g, out, argmax);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void max_pool2d_backward(const T* grad_out, const std::int64_t* argmax, std::int64_t planes, const PoolGeometry& g,
                         T* grad_x, cudaStream_t stream) {
  const std::int64_t total = planes * g.H * g.W;
  if (total == 0) return;
  max_pool2d_backward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(grad_out, argmax, planes, g, grad_x);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void adaptive_avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W, std::int64_t oh,
                                 std::int64_t ow, T* out, cudaStream_t stream) {
  const std::int64_t total = planes * oh * ow;
  if (total == 0) return;
  adaptive_avg_forward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(x, planes, H, W, oh, ow, out);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void adaptive_avg_pool2d_backward(const T* grad_out, std::int64_t planes, std::int64_t H, std::int64_t W,
                                  std::int64_t oh, std::int64_t ow, T* grad_x, cudaStream_t stream) {
  const std::int64_t total = planes * H * W;
  if (total == 0) return;
  adaptive_avg_backward_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(grad_out, planes, H, W, oh, ow, grad_x);
  SCEALD_CUDA_LAUNCH_CHECK();
}

#define SCEALD_INSTANTIATE(T)                                                                                        \
  template void max_pool2d_forward<T>(const T*, std::int64_t, const PoolGeometry&, T*, std::int64_t*, cudaStream_t); \
  template void max_pool2d_backward<T>(const T*, const std::int64_t*, std::int64_t, const PoolGeometry&, T*,         \
                                       cudaStream_t);                                                                \
  template void adaptive_avg_pool2d_forward<T>(const T*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,     \
                                               std::int64_t, T*, cudaStream_t);                                      \
  template void adaptive_avg_pool2d_backward<T>(const T*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,    \
                                                std::int64_t, T*, cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
