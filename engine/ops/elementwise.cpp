#include "engine/ops/elementwise.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/cuda/ops.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduction.h"
#include "kernels/cpu/elementwise.h"

namespace sceald {

namespace {

enum class BinaryKind { Add, Sub, Mul, Div };

const char* binary_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::Add: return "add";
    case BinaryKind::Sub: return "sub";
    case BinaryKind::Mul: return "mul";
    case BinaryKind::Div: return "div";
  }
  return "?";
}

cuda_ops::Binary cuda_binary(BinaryKind k) {
  switch (k) {
    case BinaryKind::Add: return cuda_ops::Binary::Add;
    case BinaryKind::Sub: return cuda_ops::Binary::Sub;
    case BinaryKind::Mul: return cuda_ops::Binary::Mul;
    case BinaryKind::Div: return cuda_ops::Binary::Div;
  }
  return cuda_ops::Binary::Add;
}

Tensor binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b) {
  const char* op = binary_name(kind);
  check_floating(op, a, "the first operand");
  check_floating(op, b, "the second operand");
  check_same_dtype_device(op, a, b);
  const bool cuda = runs_on_cuda(op, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  if (cuda) {
    cuda_ops::binary(cuda_binary(kind), a, sa, b, sb, out);
    return out;
  }
  dispatch_floating(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = out.data<T>();
    using namespace kernels::cpu;
    switch (kind) {
      case BinaryKind::Add: binary_map_broadcast(pa, sa, pb, sb, po, shape, [](T x, T y) { return x + y; }); break;
      case BinaryKind::Sub: binary_map_broadcast(pa, sa, pb, sb, po, shape, [](T x, T y) { return x - y; }); break;
      case BinaryKind::Mul: binary_map_broadcast(pa, sa, pb, sb, po, shape, [](T x, T y) { return x * y; }); break;
      case BinaryKind::Div: binary_map_broadcast(pa, sa, pb, sb, po, shape, [](T x, T y) { return x / y; }); break;
    }
  });
  return out;
}

// Gradients of a broadcast op flow back summed over the broadcast axes.
class BinaryBackward final : public Node {
 public:
  BinaryBackward(BinaryKind kind, const Tensor& a, const Tensor& b) : kind_(kind), a_shape_(a.shape()), b_shape_(b.shape()) {
    // add/sub need no inputs; mul saves both; div saves b and the output is rebuilt from a / b.
    if (kind == BinaryKind::Mul || kind == BinaryKind::Div) {
      a_ = a.detach();
      b_ = b.detach();
    }
  }
  const char* name() const override { return "BinaryBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    switch (kind_) {
      case BinaryKind::Add:
        if (needs_input_grad(0)) ga = g;
        if (needs_input_grad(1)) gb = g;
        break;
      case BinaryKind::Sub:
        if (needs_input_grad(0)) ga = g;
        if (needs_input_grad(1)) gb = neg(g);
        break;
      case BinaryKind::Mul:
        if (needs_input_grad(0)) ga = mul(g, b_);
        if (needs_input_grad(1)) gb = mul(g, a_);
        break;
      case BinaryKind::Div:
        // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2
        if (needs_input_grad(0)) ga = div(g, b_);
        if (needs_input_grad(1)) gb = neg(div(mul(g, a_), mul(b_, b_)));
        break;
    }
    if (ga.defined()) ga = sum_to_shape(ga, a_shape_);
    if (gb.defined()) gb = sum_to_shape(gb, b_shape_);
    return {ga, gb};
  }
  void release_saved() override { a_ = b_ = Tensor(); }

 private:
  BinaryKind kind_;
  Shape a_shape_, b_shape_;
  Tensor a_, b_;
};

Tensor binary(BinaryKind kind, const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(kind, a, b);
  record<BinaryBackward>(out, {&a, &b}, kind, a, b);
  return out;
}

enum class UnaryKind { Neg, Exp, Log, Sqrt, Pow, Scale, Shift };

struct UnaryParams {
  UnaryKind kind;
  double value = 0.0;  // exponent, scale factor or shift
};

const char* unary_name(UnaryKind k) {
  switch (k) {
    case UnaryKind::Neg: return "neg";
    case UnaryKind::Exp: return "exp";
    case UnaryKind::Log: return "log";
    case UnaryKind::Sqrt: return "sqrt";
    case UnaryKind::Pow: return "pow";
    case UnaryKind::Scale: return "mul";
    case UnaryKind::Shift: return "add";
  }
  return "?";
}

cuda_ops::Unary cuda_unary(UnaryKind k) {
  switch (k) {
    case UnaryKind::Neg: return cuda_ops::Unary::Neg;
    case UnaryKind::Exp: return cuda_ops::Unary::Exp;
    case UnaryKind::Log: return cuda_ops::Unary::Log;
    case UnaryKind::Sqrt: return cuda_ops::Unary::Sqrt;
    case UnaryKind::Pow: return cuda_ops::Unary::Pow;
    case UnaryKind::Scale: return cuda_ops::Unary::Scale;
    case UnaryKind::Shift: return cuda_ops::Unary::Shift;
  }
  return cuda_ops::Unary::Neg;
}

Tensor unary_forward(const UnaryParams& p, const Tensor& x) {
  const char* op = unary_name(p.kind);
  check_floating(op, x, "the input");
  const bool cuda = runs_on_cuda(op, {&x});
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (cuda) {
    cuda_ops::unary(cuda_unary(p.kind), p.value, xc, out);
    return out;
  }
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = xc.data<T>();
    T* po = out.data<T>();
    const std::int64_t n = x.numel();
    const T v = static_cast<T>(p.value);
    using kernels::cpu::unary_map;
    switch (p.kind) {
      case UnaryKind::Neg: unary_map(px, po, n, [](T a) { return -a; }); break;
      case UnaryKind::Exp: unary_map(px, po, n, [](T a) { return std::exp(a); }); break;
      case UnaryKind::Log: unary_map(px, po, n, [](T a) { return std::log(a); }); break;
      case UnaryKind::Sqrt: unary_map(px, po, n, [](T a) { return std::sqrt(a); }); break;
      case UnaryKind::Pow: unary_map(px, po, n, [v](T a) { return std::pow(a, v); }); break;
      case UnaryKind::Scale: unary_map(px, po, n, [v](T a) { return a * v; }); break;
      case UnaryKind::Shift: unary_map(px, po, n, [v](T a) { return a + v; }); break;
    }
  });
  return out;
}

class UnaryBackward final : public Node {
 public:
  UnaryBackward(UnaryParams p, const Tensor& x, const Tensor& out) : p_(p) {
    switch (p.kind) {
      case UnaryKind::Exp:
      case UnaryKind::Sqrt: out_ = out.detach(); break;
      case UnaryKind::Log:
      case UnaryKind::Pow: x_ = x.detach(); break;
      default: break;
    }
  }
  const char* name() const override { return "UnaryBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    switch (p_.kind) {
      case UnaryKind::Neg: return {neg(g)};
      case UnaryKind::Exp: return {mul(g, out_)};                         // d e^x = e^x
      case UnaryKind::Log: return {div(g, x_)};                           // d log x = 1/x
      case UnaryKind::Sqrt: return {div(mul(g, 0.5), out_)};              // d sqrt x = 1 / (2 sqrt x)
      case UnaryKind::Pow: return {mul(mul(g, pow(x_, p_.value - 1.0)), p_.value)};  // d x^p = p x^(p-1)
      case UnaryKind::Scale: return {mul(g, p_.value)};
      case UnaryKind::Shift: return {g};
    }
    return {};
  }
  void release_saved() override { x_ = out_ = Tensor(); }

 private:
  UnaryParams p_;
  Tensor x_, out_;
};

Tensor unary(UnaryParams p, const Tensor& x) {
  Tensor out = unary_forward(p, x);
  record<UnaryBackward>(out, {&x}, p, x, out);
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryKind::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryKind::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryKind::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryKind::Div, a, b); }
Tensor add(const Tensor& a, double b) { return unary({UnaryKind::Shift, b}, a); }
Tensor mul(const Tensor& a, double b) { return unary({UnaryKind::Scale, b}, a); }
Tensor neg(const Tensor& x) { return unary({UnaryKind::Neg}, x); }
Tensor exp(const Tensor& x) { return unary({UnaryKind::Exp}, x); }
Tensor log(const Tensor& x) { return unary({UnaryKind::Log}, x); }
Tensor sqrt(const Tensor& x) { return unary({UnaryKind::Sqrt}, x); }
Tensor pow(const Tensor& x, double exponent) { return unary({UnaryKind::Pow, exponent}, x); }

void add_(Tensor& dst, const Tensor& src) {
  check_floating("add_", dst, "the destination");
  check_floating("add_", src, "the source");
  check_same_dtype_device("add_", dst, src);
  const bool cuda = runs_on_cuda("add_", {&dst, &src});
  SCEALD_CHECK(dst.is_contiguous(), "add_: the destination ", dst.str(), " must be contiguous");
  SCEALD_CHECK(broadcast_shapes(dst.shape(), src.shape(), "add_") == dst.shape(), "add_: the source ", src.str(),
               " does not broadcast to the destination ", dst.str());
  const Shape sd = dst.strides(), ss = broadcast_strides(src, dst.shape());
  if (cuda) {
    cuda_ops::binary(cuda_ops::Binary::Add, dst, sd, src, ss, dst);  // out aliases the contiguous dst
    return;
  }
  dispatch_floating(dst.dtype(), "add_", [&](auto tag) {
    using T = decltype(tag);
    kernels::cpu::binary_map_broadcast(static_cast<const T*>(dst.raw_data()), sd, static_cast<const T*>(src.raw_data()),
                                       ss, dst.data<T>(), dst.shape(), [](T x, T y) { return x + y; });
  });
}

}  // namespace sceald
