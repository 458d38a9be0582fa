#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/similarity.cuh"

namespace sceald::kernels::cuda {

namespace {

// std::max's rule (a NaN first argument is kept), as the CPU twins use it;
// CUDA's fmax would return the other operand and hide the NaN.
__device__ inline double max_keeping_nan(double v, double floor) { return v < floor ? floor : v; }

struct Sums {
  double ab, aa, bb;
};

template <typename T>
__device__ inline Sums cosine_sums(const T* a, const T* b, std::int64_t base, std::int64_t stride, std::int64_t dim) {
  Sums s{0.0, 0.0, 0.0};
  for (std::int64_t k = 0; k < dim; ++k) {
    const double x = static_cast<double>(a[base + k * stride]), y = static_cast<double>(b[base + k * stride]);
    s.ab += x * y;
    s.aa += x * x;
    s.bb += y * y;
  }
  return s;
}

template <typename T>
__global__ void cosine_forward_kernel(const T* a, const T* b, T* out, std::int64_t outer, std::int64_t dim,
                                      std::int64_t inner, double eps) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * dim * inner + line % inner;
    const Sums s = cosine_sums(a, b, base, inner, dim);
    out[line] = static_cast<T>(s.ab / sqrt(max_keeping_nan(s.aa * s.bb, eps * eps)));
  }
}

// d cos/da = b / d - cos a / |a|^2 with d = sqrt(|a|^2 |b|^2); clamped: b / eps.
template <typename T>
__global__ void cosine_backward_kernel(const T* a, const T* b, const T* g, T* ga, T* gb, std::int64_t outer,
                                       std::int64_t dim, std::int64_t inner, double eps) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * dim * inner + line % inner;
    const Sums s = cosine_sums(a, b, base, inner, dim);
    const bool clamped = s.aa * s.bb <= eps * eps;
    const double denom = clamped ? eps : sqrt(s.aa * s.bb);
    const double cos = s.ab / denom, gl = static_cast<double>(g[line]);
    for (std::int64_t k = 0; k < dim; ++k) {
      const std::int64_t j = base + k * inner;
      const double x = static_cast<double>(a[j]), y = static_cast<double>(b[j]);
      if (ga) ga[j] = static_cast<T>(gl * (clamped ? y / denom : y / denom - cos * x / s.aa));
      if (gb) gb[j] = static_cast<T>(gl * (clamped ? x / denom : x / denom - cos * y / s.bb));
    }
  }
}

template <typename T>
__global__ void l2_forward_kernel(const T* x, T* y, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                                  double eps) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * dim * inner + line % inner;
    double sq = 0.0;
    for (std::int64_t k = 0; k < dim; ++k) {
      const double v = static_cast<double>(x[base + k * inner]);
      sq += v * v;
    }
    const double scale = 1.0 / max_keeping_nan(sqrt(sq), eps);
    for (std::int64_t k = 0; k < dim; ++k) y[base + k * inner] = static_cast<T>(x[base + k * inner] * scale);
  }
}

template <typename T>
__global__ void l2_backward_kernel(const T* x, const T* g, T* gx, std::int64_t outer, std::int64_t dim,
                                   std::int64_t inner, double eps) {
  for (std::int64_t line = global_index(); line < outer * inner; line += global_stride()) {
    const std::int64_t base = (line / inner) * dim * inner + line % inner;
    double sq = 0.0, gdotx = 0.0;
    for (std::int64_t k = 0; k < dim; ++k) {
      const std::int64_t j = base + k * inner;
      sq += static_cast<double>(x[j]) * x[j];
      gdotx += static_cast<double>(g[j]) * x[j];
    }
    const double norm = sqrt(sq);
    const bool clamped = norm <= eps;
    const double inv = 1.0 / (clamped ? eps : norm);
    const double along = clamped ? 0.0 : gdotx * inv * inv;
    for (std::int64_t k = 0; k < dim; ++k) {
      const std::int64_t j = base + k * inner;
      gx[j] = static_cast<T>((static_cast<double>(g[j]) - along * x[j]) * inv);
    }
  }
}

}  // namespace

template <typename T>
void cosine_similarity_forward(const T* a, const T* b, T* out, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                               double eps, cudaStream_t stream) {
  if (outer * inner == 0) return;
  cosine_forward_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(a, b, out, outer, dim, inner, eps);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void cosine_similarity_backward(const T* a, const T* b, const T* g, T* ga, T* gb, std::int64_t outer, std::int64_t dim,
                                std::int64_t inner, double eps, cudaStream_t stream) {
  if (outer * inner == 0) return;
  cosine_backward_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(a, b, g, ga, gb, outer, dim, inner, eps);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void l2_normalize_forward(const T* x, T* y, std::int64_t outer, std::int64_t dim, std::int64_t inner, double eps,
                          cudaStream_t stream) {
  if (outer * inner == 0) return;
  l2_forward_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(x, y, outer, dim, inner, eps);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void l2_normalize_backward(const T* x, const T* g, T* gx, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                           double eps, cudaStream_t stream) {
  if (outer * inner == 0) return;
  l2_backward_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(x, g, gx, outer, dim, inner, eps);
  SCEALD_CUDA_LAUNCH_CHECK();
}

#define SCEALD_INSTANTIATE(T)                                                                                          \
  template void cosine_similarity_forward<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, double, \
                                             cudaStream_t);                                                            \
  template void cosine_similarity_backward<T>(const T*, const T*, const T*, T*, T*, std::int64_t, std::int64_t,        \
                                              std::int64_t, double, cudaStream_t);                                     \
  template void l2_normalize_forward<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t, double, cudaStream_t); \
  template void l2_normalize_backward<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t, double,     \
                                         cudaStream_t);
SCEALD_INSTANTIATE(float)
SCEALD_INSTANTIATE(double)
#undef SCEALD_INSTANTIATE

}  // namespace sceald::kernels::cuda
