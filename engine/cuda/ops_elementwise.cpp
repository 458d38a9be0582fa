// CUDA entry points: strided copies, element-wise maps and sums.
#ifdef SCEALD_WITH_CUDA

#include "engine/cuda/op_support.h"
#include "engine/cuda/ops.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/reduce.cuh"

namespace sceald::cuda_ops {

namespace {

namespace kc = kernels::cuda;

kc::StridedLayout layout_of(const char* op, const Shape& shape, const Shape& a_strides, const Shape& b_strides) {
  kc::StridedLayout layout;
  SCEALD_CHECK(kc::make_strided_layout(shape, a_strides, b_strides, layout), op, ": the shape ", shape_str(shape),
               " has more than ", kc::kMaxDims, " axes that cannot be merged; the CUDA kernels take at most ",
               kc::kMaxDims);
  return layout;
}

kc::BinaryOp to_kernel(Binary op) {
  switch (op) {
    case Binary::Add:
      return kc::BinaryOp::Add;
    case Binary::Sub:
      return kc::BinaryOp::Sub;
    case Binary::Mul:
      return kc::BinaryOp::Mul;
    case Binary::Div:
      return kc::BinaryOp::Div;
  }
  return kc::BinaryOp::Add;
}

kc::UnaryOp to_kernel(Unary op) {
  switch (op) {
    case Unary::Neg:
      return kc::UnaryOp::Neg;
    case Unary::Exp:
      return kc::UnaryOp::Exp;
    case Unary::Log:
      return kc::UnaryOp::Log;
    case Unary::Sqrt:
      return kc::UnaryOp::Sqrt;
    case Unary::Pow:
      return kc::UnaryOp::Pow;
    case Unary::Scale:
      return kc::UnaryOp::Scale;
    case Unary::Shift:
      return kc::UnaryOp::Shift;
  }
  return kc::UnaryOp::Neg;
}

}  // namespace

void copy(const Tensor& src, const Tensor& dst) {
  OpContext ctx("copy", {&src, &dst});
  SCEALD_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(), "copy: ", src.str(), " into ", dst.str(),
               " needs equal shapes and dtypes");
  const kc::StridedLayout layout = layout_of("copy", src.shape(), src.strides(), dst.strides());
  kc::copy_strided(src.raw_data(), dst.raw_data(), dtype_size(src.dtype()), layout, src.numel(), ctx.stream());
  ctx.finish();
}

void binary(Binary op, const Tensor& a, const Shape& a_strides, const Tensor& b, const Shape& b_strides,
            const Tensor& out) {
  OpContext ctx("binary element-wise op", {&a, &b, &out});
  const kc::StridedLayout layout = layout_of("binary element-wise op", out.shape(), a_strides, b_strides);
  dispatch_floating(out.dtype(), "binary element-wise op", [&](auto tag) {
    using T = decltype(tag);
    kc::binary_broadcast<T>(to_kernel(op), ptr<const T>(a), ptr<const T>(b), ptr<T>(out), layout, out.numel(),
                            ctx.stream());
  });
  ctx.finish();
}

void unary(Unary op, double value, const Tensor& x, const Tensor& out) {
  OpContext ctx("unary element-wise op", {&x, &out});
  dispatch_floating(out.dtype(), "unary element-wise op", [&](auto tag) {
    using T = decltype(tag);
    kc::unary_map<T>(to_kernel(op), static_cast<T>(value), ptr<const T>(x), ptr<T>(out), out.numel(), ctx.stream());
  });
  ctx.finish();
}

void sum_middle_axis(const Tensor& x, const Tensor& out, std::int64_t outer, std::int64_t reduce, std::int64_t inner) {
  OpContext ctx("sum", {&x, &out});
  const std::size_t scratch_bytes = kc::sum_middle_axis_scratch_bytes(outer, reduce, inner);
  Tensor scratch;
  if (scratch_bytes > 0)
    scratch = scratch_doubles(static_cast<std::int64_t>(scratch_bytes / sizeof(double)), ctx.device());
  dispatch_floating(out.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    kc::sum_middle_axis<T>(ptr<const T>(x), ptr<T>(out), outer, reduce, inner, ptr<double>(scratch), ctx.stream());
  });
  ctx.finish();
}

void sum_rows(const Tensor& g, const Tensor& out) { sum_middle_axis(g, out, 1, g.size(0), out.numel()); }

}  // namespace sceald::cuda_ops

#endif  // SCEALD_WITH_CUDA
