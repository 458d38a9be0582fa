#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/optim.cuh"

namespace sceald::kernels::cuda {

namespace {

__device__ inline float sqrt_of(float x) { return sqrtf(x); }
__device__ inline double sqrt_of(double x) { return sqrt(x); }

template <typename T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, bool first_step, std::int64_t n, T lr, T momentum, T keep, T wd,
                           bool use_weight_decay, bool nesterov) {
  for (std::int64_t j = global_index(); j < n; j += global_stride()) {
    T d = g[j];
    if (use_weight_decay) d = d + wd * p[j];
    if (buf) {
      buf[j] = first_step ? d : buf[j] * momentum + keep * d;
      d = nesterov ? d + momentum * buf[j] : buf[j];
    }
    p[j] = p[j] - lr * d;
  }
}

template <typename T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, std::int64_t n, T step_size, T bias_correction2_sqrt, T b1,
                            T b2, T one_minus_b1, T one_minus_b2, T eps, T wd, T decay, bool decoupled,
                            bool use_weight_decay) {
  for (std::int64_t j = global_index(); j < n; j += global_stride()) {
    T grad = g[j];
    if (decoupled)
      p[j] = p[j] * decay;
    else if (use_weight_decay)
      grad = grad + wd * p[j];
    m[j] = m[j] * b1 + one_minus_b1 * grad;
    v[j] = v[j] * b2 + one_minus_b2 * grad * grad;
    const T denom = sqrt_of(v[j]) / bias_correction2_sqrt + eps;
    p[j] = p[j] - step_size * (m[j] / denom);
  }
}

}  // namespace

template <typename T>
void sgd_update(T* p, const T* g, T* buf, bool first_step, std::int64_t n, double lr, double momentum, double dampening,
                double weight_decay, bool nesterov, cudaStream_t stream) {
  if (n == 0) return;
  sgd_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(p, g, buf, first_step, n, static_cast<T>(lr),
                                                      static_cast<T>(momentum), static_cast<T>(1.0 - dampening),
                                                      static_cast<T>(weight_decay), weight_decay != 0.0, nesterov);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, std::int64_t n, const AdamStep& s, cudaStream_t stream) {
  if (n == 0) return;
  adam_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(
      p, g, m, v, n, static_cast<T>(s.step_size), static_cast<T>(s.bias_correction2_sqrt), static_cast<T>(s.beta1),
      static_cast<T>(s.beta2), static_cast<T>(1.0 - s.beta1), static_cast<T>(1.0 - s.beta2), static_cast<T>(s.eps),
      static_cast<T>(s.weight_decay), static_cast<T>(s.decay), s.decoupled, s.weight_decay != 0.0);
  SCEALD_CUDA_LAUNCH_CHECK();
}

template void sgd_update<float>(float*, const float*, float*, bool, std::int64_t, double, double, double, double, bool,
                                cudaStream_t);
template void sgd_update<double>(double*, const double*, double*, bool, std::int64_t, double, double, double, double,
                                 bool, cudaStream_t);
template void adam_update<float>(float*, const float*, float*, float*, std::int64_t, const AdamStep&, cudaStream_t);
template void adam_update<double>(double*, const double*, double*, double*, std::int64_t, const AdamStep&,
                                  cudaStream_t);

}  // namespace sceald::kernels::cuda
