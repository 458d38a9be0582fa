#include "engine/ops/linalg.h"

#include <algorithm>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/reduce.h"

namespace sceald {

namespace {

using kernels::cpu::gemm;

// The trailing two axes of a tensor as a GEMM operand. Row-major matrices
// (unit column stride) and transposed views of them (unit row stride) are
// read in place with the matching trans flag; any other layout is copied
// contiguous first. `batch_stride` steps along a leading batch axis.
struct GemmOperand {
  Tensor data;  // keeps the storage alive
  bool stored_transposed = false;
  std::int64_t ld = 1;
  std::int64_t batch_stride = 0;
};

GemmOperand gemm_operand(const Tensor& t) {
  const std::int64_t d = t.dim(), rows = t.size(-2), cols = t.size(-1);
  // The stride of an axis of extent 1 never matters; normalise it.
  const std::int64_t row_stride = rows == 1 ? std::max<std::int64_t>(cols, 1) : t.strides()[d - 2];
  const std::int64_t col_stride = cols == 1 ? 1 : t.strides()[d - 1];
  const std::int64_t batch_stride = d == 3 ? t.strides()[0] : 0;
  if (col_stride == 1 && row_stride >= std::max<std::int64_t>(cols, 1)) return {t, false, row_stride, batch_stride};
  if (row_stride == 1 && cols > 1 && col_stride >= std::max<std::int64_t>(rows, 1))
    return {t, true, col_stride, batch_stride};
  Tensor c = t.contiguous();
  return {c, false, std::max<std::int64_t>(cols, 1), d == 3 ? rows * cols : 0};
}

// C[b] = op(A[b]) op(B[b]) for b < batch, C contiguous [batch, M, N] (overwritten).
// transpose_a/transpose_b are the mathematical transposes; the stored layout
// of each operand flips them as needed.
template <typename T>
void batched_gemm(std::int64_t batch, std::int64_t M, std::int64_t N, std::int64_t K, const GemmOperand& a,
                  bool transpose_a, const GemmOperand& b, bool transpose_b, T* c) {
  const T* pa = static_cast<const T*>(a.data.raw_data());
  const T* pb = static_cast<const T*>(b.data.raw_data());
  const bool ta = transpose_a != a.stored_transposed, tb = transpose_b != b.stored_transposed;
  // Many small products worth threading: one per thread (the GEMM then runs
  // single-threaded); otherwise one after another, each GEMM threading itself.
  const std::int64_t work = M * N * K;
#pragma omp parallel for if (batch > 1 && work < (1 << 18) && batch * work >= (1 << 18)) schedule(static)
  for (std::int64_t i = 0; i < batch; ++i)
    gemm(ta, tb, M, N, K, T(1), pa + i * a.batch_stride, a.ld, pb + i * b.batch_stride, b.ld, T(0), c + i * M * N,
         std::max<std::int64_t>(N, 1));
}

// The same product on the GPU (cuBLAS), into the contiguous tensor c; with
// `accumulate` the product is added to what c holds.
void device_batched_gemm(std::int64_t batch, std::int64_t M, std::int64_t N, std::int64_t K, const GemmOperand& a,
                         bool transpose_a, const GemmOperand& b, bool transpose_b, const Tensor& c,
                         bool accumulate = false) {
  const bool ta = transpose_a != a.stored_transposed, tb = transpose_b != b.stored_transposed;
  cuda_ops::gemm(batch, M, N, K, a.data, ta, a.ld, a.batch_stride, b.data, tb, b.ld, b.batch_stride, c, accumulate);
}

// y = a b (per batch). dL/da = g b^T, dL/db = a^T g: both GEMMs with
// transposed operand flags, no transposed copies.
class MatmulBackward final : public Node {
 public:
  MatmulBackward(const Tensor& a, const Tensor& b) : a_(a.detach()), b_(b.detach()) {}
  const char* name() const override { return "MatmulBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const std::int64_t batch = a_.dim() == 3 ? a_.size(0) : 1, M = a_.size(-2), K = a_.size(-1), N = b_.size(-1);
    const GemmOperand go = gemm_operand(g);
    Tensor ga, gb;
    if (g.device().is_cuda()) {
      if (needs_input_grad(0)) {
        ga = Tensor::empty(a_.shape(), a_.dtype(), a_.device());
        device_batched_gemm(batch, M, K, N, go, false, gemm_operand(b_), true, ga);
      }
      if (needs_input_grad(1)) {
        gb = Tensor::empty(b_.shape(), b_.dtype(), b_.device());
        device_batched_gemm(batch, K, N, M, gemm_operand(a_), true, go, false, gb);
      }
      return {ga, gb};
    }
    dispatch_floating(g.dtype(), "matmul backward", [&](auto tag) {
      using T = decltype(tag);
      if (needs_input_grad(0)) {
        ga = Tensor::empty(a_.shape(), a_.dtype(), a_.device());
        batched_gemm(batch, M, K, N, go, false, gemm_operand(b_), true, ga.data<T>());
      }
      if (needs_input_grad(1)) {
        gb = Tensor::empty(b_.shape(), b_.dtype(), b_.device());
        batched_gemm(batch, K, N, M, gemm_operand(a_), true, go, false, gb.data<T>());
      }
    });
    return {ga, gb};
  }
  void release_saved() override { a_ = b_ = Tensor(); }

 private:
  Tensor a_, b_;
};

// y = x W^T + b. dL/dx = g W, dL/dW = g^T x, dL/db = the column sums of g.
class LinearBackward final : public Node {
 public:
  LinearBackward(const Tensor& x, const Tensor& weight, bool has_bias)
      : x_(x.detach()), weight_(weight.detach()), has_bias_(has_bias) {}
  const char* name() const override { return "LinearBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const std::int64_t N = x_.size(0), in = x_.size(1), out = weight_.size(0);
    const GemmOperand go = gemm_operand(g);
    Tensor gx, gw, gb;
    if (g.device().is_cuda()) {
      if (needs_input_grad(0)) {
        gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
        device_batched_gemm(1, N, in, out, go, false, gemm_operand(weight_), false, gx);
      }
      if (needs_input_grad(1)) {
        gw = Tensor::empty(weight_.shape(), weight_.dtype(), weight_.device());
        device_batched_gemm(1, out, in, N, go, true, gemm_operand(x_), false, gw);
      }
      if (has_bias_ && needs_input_grad(2)) {
        gb = Tensor::empty({out}, g.dtype(), g.device());
        cuda_ops::sum_rows(g.contiguous(), gb);
      }
      return {gx, gw, gb};
    }
    dispatch_floating(g.dtype(), "linear backward", [&](auto tag) {
      using T = decltype(tag);
      if (needs_input_grad(0)) {
        gx = Tensor::empty(x_.shape(), x_.dtype(), x_.device());
        batched_gemm(1, N, in, out, go, false, gemm_operand(weight_), false, gx.data<T>());
      }
      if (needs_input_grad(1)) {
        gw = Tensor::empty(weight_.shape(), weight_.dtype(), weight_.device());
        batched_gemm(1, out, in, N, go, true, gemm_operand(x_), false, gw.data<T>());
      }
      if (has_bias_ && needs_input_grad(2)) {
        gb = Tensor::empty({out}, g.dtype(), g.device());
        const Tensor gc = g.contiguous();
        kernels::cpu::sum_middle_axis(static_cast<const T*>(gc.raw_data()), gb.data<T>(), std::int64_t{1}, N, out);
      }
    });
    return {gx, gw, gb};
  }
  void release_saved() override { x_ = weight_ = Tensor(); }

 private:
  Tensor x_, weight_;
  bool has_bias_;
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  check_floating(op, a, "the first operand");
  check_floating(op, b, "the second operand");
  check_same_dtype_device(op, a, b);
  const bool cuda = runs_on_cuda(op, {&a, &b});
  const bool plain = a.dim() == 2 && b.dim() == 2, batched = a.dim() == 3 && b.dim() == 3;
  SCEALD_CHECK(plain || batched, op, ": expects [M, K] @ [K, N] or [B, M, K] @ [B, K, N], got ",
               shape_str(a.shape()), " @ ", shape_str(b.shape()));
  SCEALD_CHECK(a.size(-1) == b.size(-2), op, ": inner dimensions differ: ", shape_str(a.shape()), " @ ",
               shape_str(b.shape()), " (", a.size(-1), " vs ", b.size(-2), ")");
  SCEALD_CHECK(plain || a.size(0) == b.size(0), op, ": batch sizes differ: ", shape_str(a.shape()), " @ ",
               shape_str(b.shape()));
  const std::int64_t batch = batched ? a.size(0) : 1, M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Tensor out = Tensor::empty(batched ? Shape{batch, M, N} : Shape{M, N}, a.dtype(), a.device());
  if (cuda) {
    device_batched_gemm(batch, M, N, K, gemm_operand(a), false, gemm_operand(b), false, out);
  } else {
    dispatch_floating(a.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      batched_gemm(batch, M, N, K, gemm_operand(a), false, gemm_operand(b), false, out.data<T>());
    });
  }
  record<MatmulBackward>(out, {&a, &b}, a, b);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_floating(op, x, "the input");
  check_floating(op, weight, "the weight");
  check_dim(op, x, 2, "the input [N, in_features]");
  check_dim(op, weight, 2, "the weight [out_features, in_features]");
  check_same_dtype_device(op, x, weight);
  SCEALD_CHECK(x.size(1) == weight.size(1), op, ": the input has ", x.size(1), " features but the weight ",
               shape_str(weight.shape()), " expects ", weight.size(1), " (input ", shape_str(x.shape()), ")");
  const std::int64_t N = x.size(0), in = x.size(1), out_features = weight.size(0);
  Tensor b;
  if (bias.defined()) {
    check_floating(op, bias, "the bias");
    check_same_dtype_device(op, x, bias);
    SCEALD_CHECK(bias.dim() == 1 && bias.size(0) == out_features, op, ": the bias must have shape [",
                 out_features, "] for weight ", shape_str(weight.shape()), ", got ", shape_str(bias.shape()));
    b = bias.contiguous();
  }
  const bool cuda = runs_on_cuda(op, {&x, &weight, &bias});
  Tensor y = Tensor::empty({N, out_features}, x.dtype(), x.device());
  if (cuda) {
    // y = x W^T (+ b): the rows of y start as copies of b and the GEMM accumulates onto them.
    if (b.defined()) cuda_ops::fill_rows_with_bias(b, y);
    device_batched_gemm(1, N, out_features, in, gemm_operand(x), false, gemm_operand(weight), true, y, b.defined());
    record<LinearBackward>(y, {&x, &weight, &bias}, x, weight, bias.defined());
    return y;
  }
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* py = y.data<T>();
    const GemmOperand gx = gemm_operand(x), gw = gemm_operand(weight);
    // y = x W^T (+ b): the rows of y start as copies of b and the GEMM accumulates onto them.
    if (b.defined()) {
      const T* pb = static_cast<const T*>(b.raw_data());
      for (std::int64_t n = 0; n < N; ++n) std::copy(pb, pb + out_features, py + n * out_features);
    }
    gemm(gx.stored_transposed, !gw.stored_transposed, N, out_features, in, T(1),
         static_cast<const T*>(gx.data.raw_data()), gx.ld, static_cast<const T*>(gw.data.raw_data()), gw.ld,
         b.defined() ? T(1) : T(0), py, std::max<std::int64_t>(out_features, 1));
  });
  record<LinearBackward>(y, {&x, &weight, &bias}, x, weight, bias.defined());
  return y;
}

}  // namespace sceald
