// The tensor-level entry points of the CUDA backend. engine/ops/*.cpp call
// these when their tensors live on a GPU, after their own checks of shapes
// and dtypes; these check that every tensor is on one CUDA device, then queue
// the kernels (kernels/cuda) on that device's stream, and end with the debug
// synchronisation (SCEALD_CUDA_SYNC=1) that names the op on a fault.
//
// Conventions: inputs are contiguous unless said otherwise; outputs are
// pre-allocated contiguous tensors of the right shape and dtype on the same
// device, overwritten (never accumulated) unless said otherwise. dtypes are
// float32 or float64 (labels and argmax int64). Optional tensors may be
// undefined. The math mode (engine/cuda/math_mode.h) decides TF32 and the
// cuDNN algorithm family at each call.
//
// Plain C++ header. In a build without CUDA every function throws (no CUDA
// tensor can exist there, so the ops never call them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor.h"
#include "kernels/cpu/im2col.h"
#include "kernels/cpu/pooling.h"

namespace sceald::cuda_ops {

using kernels::cpu::ConvGeometry;
using kernels::cpu::PoolGeometry;

// ---- layout
// dst = src element by element; same shape, dtype and device; either side
// may be any strided view (dst's elements must not overlap).
void copy(const Tensor& src, const Tensor& dst);

// ---- element-wise
enum class Binary { Add, Sub, Mul, Div };
enum class Unary { Neg, Exp, Log, Sqrt, Pow, Scale, Shift };
// out (contiguous over its shape) = a op b, with a and b read from their
// raw_data() through the given strides (0 on broadcast axes). out may be a.
void binary(Binary op, const Tensor& a, const Shape& a_strides, const Tensor& b, const Shape& b_strides,
            const Tensor& out);
// out = f(x); `value` is the exponent, factor or shift.
void unary(Unary op, double value, const Tensor& x, const Tensor& out);

// ---- reductions
// x [outer, reduce, inner] -> out [outer, inner]: the sum over the middle axis.
void sum_middle_axis(const Tensor& x, const Tensor& out, std::int64_t outer, std::int64_t reduce, std::int64_t inner);

// ---- matrix products
// For b < batch: C_b = op(A_b) op(B_b) (+ C_b when accumulate), row-major,
// with op the transpose where trans_*; C contiguous [batch, M, N]. A and B
// are read from raw_data() with leading dimensions and batch strides as given.
void gemm(std::int64_t batch, std::int64_t M, std::int64_t N, std::int64_t K, const Tensor& a, bool trans_a,
          std::int64_t lda, std::int64_t stride_a, const Tensor& b, bool trans_b, std::int64_t ldb,
          std::int64_t stride_b, const Tensor& c, bool accumulate);
// y [rows, cols]: every row a copy of bias [cols].
void fill_rows_with_bias(const Tensor& bias, const Tensor& y);
// g [n, cols] -> out [cols]: the column sums (a linear layer's bias gradient).
void sum_rows(const Tensor& g, const Tensor& out);

// ---- convolution (cuDNN); x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo]
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g, const Tensor& y);
void conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const ConvGeometry& g, const Tensor& grad_x);
void conv2d_backward_filter(const Tensor& grad_y, const Tensor& x, const ConvGeometry& g, const Tensor& grad_w);
// grad_bias [O] = the sum of grad_y over N, Ho and Wo.
void conv2d_backward_bias(const Tensor& grad_y, const Tensor& grad_bias);
// The cap on cuDNN workspace per call (default 1 GiB, or SCEALD_CUDNN_WORKSPACE_MB).
void set_conv_workspace_cap(std::size_t bytes);
std::size_t conv_workspace_cap();

// ---- activations
void relu_forward(const Tensor& x, const Tensor& y);
void relu_backward(const Tensor& y, const Tensor& g, const Tensor& gx);
void sigmoid_forward(const Tensor& x, const Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& g, const Tensor& gx);
// x, y [outer, channels, inner], weight [channels]; gx, gw optional.
void prelu_forward(const Tensor& x, const Tensor& weight, const Tensor& y, std::int64_t outer, std::int64_t channels,
                   std::int64_t inner);
void prelu_backward(const Tensor& x, const Tensor& weight, const Tensor& g, const Tensor& gx, const Tensor& gw,
                    std::int64_t outer, std::int64_t channels, std::int64_t inner);
// The CPU's mask for the same (seed, start): element i uses Philox word i.
void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, std::uint64_t seed, std::uint64_t start,
                     double p);

// ---- softmax and the fused losses
void softmax_forward(const Tensor& x, const Tensor& y, std::int64_t outer, std::int64_t axis, std::int64_t inner,
                     bool log_output);
void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& gx, std::int64_t outer, std::int64_t axis,
                      std::int64_t inner, bool log_output);
// logits [n, c]; labels int64 [n] (checked in range by the caller); loss a scalar: the batch mean.
void cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& log_probs, const Tensor& loss);
void cross_entropy_backward(const Tensor& log_probs, const Tensor& labels, const Tensor& grad_loss, const Tensor& gx);
void soft_cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& log_probs,
                                const Tensor& loss);
void soft_cross_entropy_backward(const Tensor& log_probs, const Tensor& target, const Tensor& grad_loss,
                                 const Tensor& gx);

// ---- pooling and up-sampling (NCHW, planes = N C)
void max_pool2d_forward(const Tensor& x, const PoolGeometry& g, const Tensor& y, const Tensor& argmax);
void max_pool2d_backward(const Tensor& grad_y, const Tensor& argmax, const PoolGeometry& g, const Tensor& grad_x);
void adaptive_avg_pool2d_forward(const Tensor& x, const Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& grad_y, const Tensor& grad_x);
void upsample_nearest2d_forward(const Tensor& x, const Tensor& y);
void upsample_nearest2d_backward(const Tensor& grad_y, const Tensor& grad_x);

// ---- batch normalisation over axis 1 of x [n, channels, inner...]
// Training: mean and inv_std [C] receive the batch statistics; the running
// statistics (optional) are updated in place. Evaluation: they receive the
// running mean and 1 / sqrt(running_var + eps). Then y is normalised.
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                        const Tensor& running_var, bool training, double momentum, double eps, const Tensor& mean,
                        const Tensor& inv_std, const Tensor& y);
void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& inv_std,
                         const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw, const Tensor& gb);

// ---- similarity, along the middle axis of [outer, dim, inner]
void cosine_similarity_forward(const Tensor& a, const Tensor& b, const Tensor& out, std::int64_t outer,
                               std::int64_t dim, std::int64_t inner, double eps);
void cosine_similarity_backward(const Tensor& a, const Tensor& b, const Tensor& g, const Tensor& ga, const Tensor& gb,
                                std::int64_t outer, std::int64_t dim, std::int64_t inner, double eps);
void l2_normalize_forward(const Tensor& x, const Tensor& y, std::int64_t outer, std::int64_t dim, std::int64_t inner,
                          double eps);
void l2_normalize_backward(const Tensor& x, const Tensor& g, const Tensor& gx, std::int64_t outer, std::int64_t dim,
                           std::int64_t inner, double eps);

// ---- fused optimiser updates (in place; see engine/optim/sgd.h and adam.h)
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first_step, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov);
struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  std::int64_t step;
};
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamScalars& s);

}  // namespace sceald::cuda_ops
