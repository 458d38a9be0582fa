// CUDA entry points: pooling, nearest up-sampling and batch normalisation.
#ifdef SCEALD_WITH_CUDA

#include "engine/cuda/op_support.h"
#include "engine/cuda/ops.h"
#include "kernels/cuda/batch_norm.cuh"
#include "kernels/cuda/pooling.cuh"
#include "kernels/cuda/upsample.cuh"

namespace sceald::cuda_ops {

namespace kc = kernels::cuda;

void max_pool2d_forward(const Tensor& x, const PoolGeometry& g, const Tensor& y, const Tensor& argmax) {
  run_op("max_pool2d", x.dtype(), {&x, &y, &argmax}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::max_pool2d_forward<T>(ptr<const T>(x), x.size(0) * x.size(1), g, ptr<T>(y), ptr<std::int64_t>(argmax), stream);
  });
}

void max_pool2d_backward(const Tensor& grad_y, const Tensor& argmax, const PoolGeometry& g, const Tensor& grad_x) {
  run_op("max_pool2d backward", grad_y.dtype(), {&grad_y, &argmax, &grad_x}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::max_pool2d_backward<T>(ptr<const T>(grad_y), ptr<const std::int64_t>(argmax), grad_x.size(0) * grad_x.size(1),
                               g, ptr<T>(grad_x), stream);
  });
}

void adaptive_avg_pool2d_forward(const Tensor& x, const Tensor& y) {
  run_op("adaptive_avg_pool2d", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::adaptive_avg_pool2d_forward<T>(ptr<const T>(x), x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2),
                                       y.size(3), ptr<T>(y), stream);
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_y, const Tensor& grad_x) {
  run_op("adaptive_avg_pool2d backward", grad_y.dtype(), {&grad_y, &grad_x}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::adaptive_avg_pool2d_backward<T>(ptr<const T>(grad_y), grad_x.size(0) * grad_x.size(1), grad_x.size(2),
                                        grad_x.size(3), grad_y.size(2), grad_y.size(3), ptr<T>(grad_x), stream);
  });
}

void upsample_nearest2d_forward(const Tensor& x, const Tensor& y) {
  run_op("upsample_nearest2d", x.dtype(), {&x, &y}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::upsample_nearest2d_forward<T>(ptr<const T>(x), x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2),
                                      y.size(3), ptr<T>(y), stream);
  });
}

void upsample_nearest2d_backward(const Tensor& grad_y, const Tensor& grad_x) {
  run_op("upsample_nearest2d backward", grad_y.dtype(), {&grad_y, &grad_x}, [&](auto tag, cudaStream_t stream) {
    using T = decltype(tag);
    kc::upsample_nearest2d_backward<T>(ptr<const T>(grad_y), grad_x.size(0) * grad_x.size(1), grad_x.size(2),
                                       grad_x.size(3), grad_y.size(2), grad_y.size(3), ptr<T>(grad_x), stream);
  });
}

namespace {
// x read as [n, channels, inner]; inner = H * W (1 for [N, C]).
std::int64_t inner_of(const Tensor& x) { return x.numel() / (x.size(0) * x.size(1) > 0 ? x.size(0) * x.size(1) : 1); }
}  // namespace

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                        const Tensor& running_var, bool training, double momentum, double eps, const Tensor& mean,
                        const Tensor& inv_std, const Tensor& y) {
  const std::int64_t n = x.size(0), channels = x.size(1), inner = inner_of(x);
  if (!training) {  // the running statistics, whatever their layout; inv_std holds the variance until converted
    copy(running_mean, mean);
    copy(running_var, inv_std);
  }
  Tensor scratch;
  if (training)
    scratch = scratch_doubles(static_cast<std::int64_t>(kc::batch_norm_scratch_bytes(n, channels) / sizeof(double)),
                              x.device().index);
  run_op("batch_norm", x.dtype(), {&x, &weight, &bias, &running_mean, &running_var, &mean, &inv_std, &y},
         [&](auto tag, cudaStream_t stream) {
           using T = decltype(tag);
           T* pm = ptr<T>(mean);
           T* ps = ptr<T>(inv_std);  // holds the variance until converted
           if (training) {
             kc::batch_norm_statistics<T>(ptr<const T>(x), n, channels, inner, pm, ps, ptr<double>(scratch), stream);
             if (running_mean.defined())
               kc::batch_norm_update_running<T>(pm, ps, channels, n * inner, momentum, ptr<T>(running_mean),
                                                ptr<T>(running_var), stream);
           }
           kc::batch_norm_inverse_std<T>(ps, channels, eps, stream);
           kc::batch_norm_forward<T>(ptr<const T>(x), n, channels, inner, pm, ps, ptr<const T>(weight),
                                     ptr<const T>(bias), ptr<T>(y), stream);
         });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& inv_std,
                         const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const std::int64_t n = x.size(0), channels = x.size(1), inner = inner_of(x);
  OpContext ctx("batch_norm backward", {&g, &x, &mean, &inv_std, &weight, &gx, &gw, &gb});
  const Tensor scratch =
      scratch_doubles(static_cast<std::int64_t>(kc::batch_norm_scratch_bytes(n, channels) / sizeof(double)),
                      ctx.device());
  dispatch_floating(x.dtype(), "batch_norm backward", [&](auto tag) {
    using T = decltype(tag);
    kc::batch_norm_backward<T>(ptr<const T>(g), ptr<const T>(x), n, channels, inner, ptr<const T>(mean),
                               ptr<const T>(inv_std), ptr<const T>(weight), batch_stats, ptr<T>(gx), ptr<T>(gw),
                               ptr<T>(gb), ptr<double>(scratch), ctx.stream());
  });
  ctx.finish();
}

}  // namespace sceald::cuda_ops

#endif  // SCEALD_WITH_CUDA
