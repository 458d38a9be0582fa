// CUDA entry points: GEMM (cuBLAS), convolutions (cuDNN) and their biases.
#ifdef SCEALD_WITH_CUDA

#include <cstdlib>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/math_mode.h"
#include "engine/cuda/op_support.h"
#include "engine/cuda/ops.h"
#include "kernels/cuda/bias.cuh"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/reduce.cuh"

namespace sceald::cuda_ops {

namespace {

namespace kc = kernels::cuda;

bool tf32_allowed() { return cuda::math_mode() == cuda::MathMode::Fast; }

// cuDNN's workspace from the caching allocator; every block goes back to the
// cache when the call is over (stream order keeps the reuse safe).
class CachedWorkspace final : public kc::ConvWorkspace {
 public:
  explicit CachedWorkspace(int device) : device_(device) {}
  ~CachedWorkspace() override {
    for (void* p : blocks_) cuda::caching_free(p);
  }
  void* get(std::size_t bytes) override {
    void* p = cuda::try_caching_alloc(bytes, device_);
    if (p) blocks_.push_back(p);
    return p;
  }

 private:
  int device_;
  std::vector<void*> blocks_;
};

std::size_t default_workspace_cap() {
  if (const char* v = std::getenv("SCEALD_CUDNN_WORKSPACE_MB")) {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(v, &end, 10);
    if (end != v && *end == '\0') return static_cast<std::size_t>(mb) << 20;
  }
  return std::size_t{1} << 30;
}

std::size_t& workspace_cap_slot() {
  static std::size_t cap = default_workspace_cap();
  return cap;
}

kc::ConvProblem problem(const Tensor& x_or_gx, std::int64_t O, const ConvGeometry& g) {
  kc::ConvProblem p{};
  p.N = x_or_gx.size(0);
  p.C = g.C;
  p.H = g.H;
  p.W = g.W;
  p.O = O;
  p.kh = g.kh;
  p.kw = g.kw;
  p.sh = g.sh;
  p.sw = g.sw;
  p.ph = g.ph;
  p.pw = g.pw;
  p.dh = g.dh;
  p.dw = g.dw;
  p.Ho = g.Ho;
  p.Wo = g.Wo;
  p.is_double = x_or_gx.dtype() == DType::Float64;
  return p;
}

kc::ConvSettings settings(int device) {
  return kc::ConvSettings{cuda::math_mode() == cuda::MathMode::Precise, conv_workspace_cap(), device};
}

}  // namespace

void set_conv_workspace_cap(std::size_t bytes) { workspace_cap_slot() = bytes; }
std::size_t conv_workspace_cap() { return workspace_cap_slot(); }

void gemm(std::int64_t batch, std::int64_t M, std::int64_t N, std::int64_t K, const Tensor& a, bool trans_a,
          std::int64_t lda, std::int64_t stride_a, const Tensor& b, bool trans_b, std::int64_t ldb,
          std::int64_t stride_b, const Tensor& c, bool accumulate) {
  OpContext ctx("matmul", {&a, &b, &c});
  cublasHandle_t handle = cuda::cublas_for(ctx.device());
  const std::int64_t ldc = N > 0 ? N : 1;
  dispatch_floating(c.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    kc::gemm<T>(handle, tf32_allowed(), trans_a, trans_b, M, N, K, T(1), ptr<const T>(a), lda, stride_a,
                ptr<const T>(b), ldb, stride_b, accumulate ? T(1) : T(0), ptr<T>(c), ldc, M * N, batch);
  });
  ctx.finish();
}

void fill_rows_with_bias(const Tensor& bias, const Tensor& y) {
  OpContext ctx("linear bias", {&bias, &y});
  dispatch_floating(y.dtype(), "linear bias", [&](auto tag) {
    using T = decltype(tag);
    kc::fill_rows_with_bias<T>(ptr<const T>(bias), ptr<T>(y), y.size(0), y.size(1), ctx.stream());
  });
  ctx.finish();
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g, const Tensor& y) {
  OpContext ctx("conv2d", {&x, &w, &bias, &y});
  if (y.numel() == 0) return;  // an empty batch: cuDNN rejects zero extents
  cudnnHandle_t handle = cuda::cudnn_for(ctx.device());
  CachedWorkspace workspace(ctx.device());
  kc::conv2d_forward(handle, problem(x, w.size(0), g), settings(ctx.device()), x.raw_data(), w.raw_data(), y.raw_data(),
                     workspace);
  if (bias.defined()) {
    dispatch_floating(y.dtype(), "conv2d bias", [&](auto tag) {
      using T = decltype(tag);
      kc::add_channel_bias<T>(ptr<T>(y), ptr<const T>(bias), y.size(0), y.size(1), y.size(2) * y.size(3), ctx.stream());
    });
  }
  ctx.finish();
}

void conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const ConvGeometry& g, const Tensor& grad_x) {
  OpContext ctx("conv2d backward (input)", {&grad_y, &w, &grad_x});
  if (grad_x.numel() == 0) return;
  cudnnHandle_t handle = cuda::cudnn_for(ctx.device());
  CachedWorkspace workspace(ctx.device());
  kc::conv2d_backward_data(handle, problem(grad_x, w.size(0), g), settings(ctx.device()), grad_y.raw_data(),
                           w.raw_data(), grad_x.raw_data(), workspace);
  ctx.finish();
}

void conv2d_backward_filter(const Tensor& grad_y, const Tensor& x, const ConvGeometry& g, const Tensor& grad_w) {
  OpContext ctx("conv2d backward (weight)", {&grad_y, &x, &grad_w});
  if (x.size(0) == 0) {  // no images: the gradient is zero
    SCEALD_CUDA_CALL(cudaMemsetAsync(
        grad_w.raw_data(), 0, static_cast<std::size_t>(grad_w.numel()) * dtype_size(grad_w.dtype()), ctx.stream()));
    ctx.finish();
    return;
  }
  cudnnHandle_t handle = cuda::cudnn_for(ctx.device());
  CachedWorkspace workspace(ctx.device());
  kc::conv2d_backward_filter(handle, problem(x, grad_w.size(0), g), settings(ctx.device()), x.raw_data(),
                             grad_y.raw_data(), grad_w.raw_data(), workspace);
  ctx.finish();
}

void conv2d_backward_bias(const Tensor& grad_y, const Tensor& grad_bias) {
  OpContext ctx("conv2d backward (bias)", {&grad_y, &grad_bias});
  const std::int64_t n = grad_y.size(0), channels = grad_y.size(1), inner = grad_y.size(2) * grad_y.size(3);
  const std::size_t scratch_bytes = kc::sum_per_channel_scratch_bytes(n, channels, inner);
  Tensor scratch;
  if (scratch_bytes > 0)
    scratch = scratch_doubles(static_cast<std::int64_t>(scratch_bytes / sizeof(double)), ctx.device());
  dispatch_floating(grad_y.dtype(), "conv2d backward (bias)", [&](auto tag) {
    using T = decltype(tag);
    kc::sum_per_channel<T>(ptr<const T>(grad_y), ptr<T>(grad_bias), n, channels, inner, ptr<double>(scratch),
                           ctx.stream());
  });
  ctx.finish();
}

}  // namespace sceald::cuda_ops

#endif  // SCEALD_WITH_CUDA
