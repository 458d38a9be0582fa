// The CUDA entry points in a build without CUDA: each one says so. No CUDA
// tensor can exist in such a build (device memory cannot be allocated), so
// the ops never reach these; they exist so that the engine links.
#ifndef SCEALD_WITH_CUDA

#include "engine/cuda/ops.h"
#include "engine/error.h"

namespace sceald::cuda_ops {

namespace {
[[noreturn]] void no_cuda(const char* op) {
  throw Error(
      str_cat(op, ": this build of sceald has no CUDA backend (configured with -DSCEALD_CUDA=OFF); use --device cpu"));
}
}  // namespace
void copy(const Tensor&, const Tensor&) { no_cuda("copy"); }
void binary(Binary, const Tensor&, const Shape&, const Tensor&, const Shape&, const Tensor&) { no_cuda("binary"); }
void unary(Unary, double, const Tensor&, const Tensor&) { no_cuda("unary"); }
void sum_middle_axis(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t) {
  no_cuda("sum_middle_axis");
}
void gemm(std::int64_t, std::int64_t, std::int64_t, std::int64_t, const Tensor&, bool, std::int64_t, std::int64_t,
          const Tensor&, bool, std::int64_t, std::int64_t, const Tensor&, bool) {
  no_cuda("gemm");
}
void fill_rows_with_bias(const Tensor&, const Tensor&) { no_cuda("fill_rows_with_bias"); }
void sum_rows(const Tensor&, const Tensor&) { no_cuda("sum_rows"); }
void conv2d_forward(const Tensor&, const Tensor&, const Tensor&, const ConvGeometry&, const Tensor&) {
  no_cuda("conv2d_forward");
}
void conv2d_backward_data(const Tensor&, const Tensor&, const ConvGeometry&, const Tensor&) {
  no_cuda("conv2d_backward_data");
}
void conv2d_backward_filter(const Tensor&, const Tensor&, const ConvGeometry&, const Tensor&) {
  no_cuda("conv2d_backward_filter");
}
void conv2d_backward_bias(const Tensor&, const Tensor&) { no_cuda("conv2d_backward_bias"); }
void set_conv_workspace_cap(std::size_t) {}
std::size_t conv_workspace_cap() { return 0; }
void relu_forward(const Tensor&, const Tensor&) { no_cuda("relu_forward"); }
void relu_backward(const Tensor&, const Tensor&, const Tensor&) { no_cuda("relu_backward"); }
void sigmoid_forward(const Tensor&, const Tensor&) { no_cuda("sigmoid_forward"); }
void sigmoid_backward(const Tensor&, const Tensor&, const Tensor&) { no_cuda("sigmoid_backward"); }
void prelu_forward(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t) {
  no_cuda("prelu_forward");
}
void prelu_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, std::int64_t,
                    std::int64_t, std::int64_t) {
  no_cuda("prelu_backward");
}
void dropout_forward(const Tensor&, const Tensor&, const Tensor&, std::uint64_t, std::uint64_t, double) {
  no_cuda("dropout_forward");
}
void softmax_forward(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t, bool) {
  no_cuda("softmax_forward");
}
void softmax_backward(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t, bool) {
  no_cuda("softmax_backward");
}
void cross_entropy_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("cross_entropy_forward");
}
void cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("cross_entropy_backward");
}
void soft_cross_entropy_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("soft_cross_entropy_forward");
}
void soft_cross_entropy_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("soft_cross_entropy_backward");
}
void max_pool2d_forward(const Tensor&, const PoolGeometry&, const Tensor&, const Tensor&) {
  no_cuda("max_pool2d_forward");
}
void max_pool2d_backward(const Tensor&, const Tensor&, const PoolGeometry&, const Tensor&) {
  no_cuda("max_pool2d_backward");
}
void adaptive_avg_pool2d_forward(const Tensor&, const Tensor&) { no_cuda("adaptive_avg_pool2d_forward"); }
void adaptive_avg_pool2d_backward(const Tensor&, const Tensor&) { no_cuda("adaptive_avg_pool2d_backward"); }
void upsample_nearest2d_forward(const Tensor&, const Tensor&) { no_cuda("upsample_nearest2d_forward"); }
void upsample_nearest2d_backward(const Tensor&, const Tensor&) { no_cuda("upsample_nearest2d_backward"); }
void batch_norm_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, double, double,
                        const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("batch_norm_forward");
}
void batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, const Tensor&,
                         const Tensor&, const Tensor&) {
  no_cuda("batch_norm_backward");
}
void cosine_similarity_forward(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t,
                               double) {
  no_cuda("cosine_similarity_forward");
}
void cosine_similarity_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, std::int64_t,
                                std::int64_t, std::int64_t, double) {
  no_cuda("cosine_similarity_backward");
}
void l2_normalize_forward(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t, double) {
  no_cuda("l2_normalize_forward");
}
void l2_normalize_backward(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t,
                           double) {
  no_cuda("l2_normalize_backward");
}
void sgd_update(const Tensor&, const Tensor&, const Tensor&, bool, double, double, double, double, bool) {
  no_cuda("sgd_update");
}
void adam_update(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AdamScalars&) {
  no_cuda("adam_update");
}

}  // namespace sceald::cuda_ops

#endif  // no CUDA backend
