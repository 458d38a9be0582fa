// Element-wise kernels: the emulated CUDA kernels (kernels/cuda/elementwise.cu,
// with the host's make_strided_layout) against kernels/cpu/elementwise.h and
// strided.h, with the engine's element functions. One IEEE operation per
// element (+ - * /, negation, sqrt, scale, shift) and copies are exact on
// any IEEE device; exp, log and pow differ between libraries: the
// elementwise tolerance.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "emulated_kernels.h"
#include "engine/shape.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/strided.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

// The strides that read a contiguous `shape` as the broadcast `out` (0 on broadcast axes).
Shape broadcast_strides(const Shape& shape, const Shape& out) {
  const Shape own = contiguous_strides(shape);
  Shape s(out.size(), 0);
  for (std::size_t d = 0; d < shape.size(); ++d) s[out.size() - shape.size() + d] = shape[d] == 1 ? 0 : own[d];
  return s;
}

template <typename T>
class EmulatedElementwise : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedElementwise, FloatTypes);

// a op b for the four operators, through the engine's lambdas on the CPU.
template <typename T>
void expect_binary_matches(const std::vector<T>& a, const Shape& a_strides, const std::vector<T>& b,
                           const Shape& b_strides, const Shape& shape) {
  emulated::StridedLayout layout;
  ASSERT_TRUE(emulated::make_strided_layout(shape, a_strides, b_strides, layout));
  const std::int64_t n = shape_numel(shape);
  const std::pair<emulated::BinaryOp, T (*)(T, T)> ops[] = {
      {emulated::BinaryOp::Add, [](T x, T y) { return x + y; }},
      {emulated::BinaryOp::Sub, [](T x, T y) { return x - y; }},
      {emulated::BinaryOp::Mul, [](T x, T y) { return x * y; }},
      {emulated::BinaryOp::Div, [](T x, T y) { return x / y; }},
  };
  for (const auto& [op, f] : ops) {
    SCOPED_TRACE("operator " + std::to_string(static_cast<int>(op)));
    std::vector<T> out_cpu(static_cast<std::size_t>(n)), out = poisoned<T>(static_cast<std::size_t>(n));
    kernels::cpu::binary_map_broadcast(a.data(), a_strides, b.data(), b_strides, out_cpu.data(), shape, f);
    emulated::binary_broadcast(op, a.data(), b.data(), out.data(), layout, n, nullptr);
    EXPECT_TRUE(matches_twin(out, out_cpu));
  }
}

TYPED_TEST(EmulatedElementwise, BinaryOpsWithBroadcasting) {
  using T = TypeParam;
  struct Operands {
    Shape a, b;
  };
  // Same shapes (the flat kernel), a scalar (the scalar kernel), broadcasts
  // on either side and in the middle (the strided kernel), up to 5 axes.
  for (const Operands& c : {Operands{{37, 5}, {37, 5}}, Operands{{11}, {}}, Operands{{3, 7, 5, 9}, {1, 7, 1, 1}},
                            Operands{{6, 1, 13}, {5, 1}}, Operands{{2, 3, 4, 5, 6}, {6}}, Operands{{1, 9}, {7, 1}},
                            Operands{{4, 6, 5}, {6, 1}}, Operands{{300, 1}, {1, 7}}, Operands{{1, 1}, {1}}}) {
    const Shape shape = broadcast_shapes(c.a, c.b, "test");
    SCOPED_TRACE(shape_str(c.a) + " and " + shape_str(c.b) + " -> " + shape_str(shape));
    const std::vector<T> a = random_values<T>(shape_numel(c.a), 1), b = random_values<T>(shape_numel(c.b), 2, 0.5, 2.0);
    expect_binary_matches(a, broadcast_strides(c.a, shape), b, broadcast_strides(c.b, shape), shape);
    expect_binary_matches(b, broadcast_strides(c.b, shape), a, broadcast_strides(c.a, shape), shape);
  }
}

TYPED_TEST(EmulatedElementwise, BinaryOpsOnATransposedView) {
  using T = TypeParam;
  const Shape shape{13, 7};
  const std::vector<T> a = random_values<T>(91, 3), b = random_values<T>(91, 4, 0.5, 2.0);
  expect_binary_matches(a, Shape{7, 1}, b, Shape{1, 13}, shape);  // b read as the transpose of a [7, 13]
}

TYPED_TEST(EmulatedElementwise, UnaryMaps) {
  using T = TypeParam;
  const std::int64_t n = 1000;
  // Negative values too: log and sqrt give NaN there on both devices.
  const std::vector<T> x = random_values<T>(n, 5, -0.5, 3.0);
  struct Map {
    emulated::UnaryOp op;
    T value;
    bool exact;
  };
  for (const Map& m : {Map{emulated::UnaryOp::Neg, T(0), true}, Map{emulated::UnaryOp::Exp, T(0), false},
                       Map{emulated::UnaryOp::Log, T(0), false}, Map{emulated::UnaryOp::Sqrt, T(0), true},
                       Map{emulated::UnaryOp::Pow, T(2.5), false}, Map{emulated::UnaryOp::Pow, T(-3), false},
                       Map{emulated::UnaryOp::Scale, T(-0.3), true}, Map{emulated::UnaryOp::Shift, T(1.7), true}}) {
    SCOPED_TRACE("unary op " + std::to_string(static_cast<int>(m.op)) + ", value " + std::to_string(m.value));
    const T v = m.value;
    std::vector<T> out_cpu(n), out = poisoned<T>(n);
    using kernels::cpu::unary_map;
    switch (m.op) {  // engine/ops/elementwise.cpp's functions
      case emulated::UnaryOp::Neg:
        unary_map(x.data(), out_cpu.data(), n, [](T a) { return -a; });
        break;
      case emulated::UnaryOp::Exp:
        unary_map(x.data(), out_cpu.data(), n, [](T a) { return std::exp(a); });
        break;
      case emulated::UnaryOp::Log:
        unary_map(x.data(), out_cpu.data(), n, [](T a) { return std::log(a); });
        break;
      case emulated::UnaryOp::Sqrt:
        unary_map(x.data(), out_cpu.data(), n, [](T a) { return std::sqrt(a); });
        break;
      case emulated::UnaryOp::Pow:
        unary_map(x.data(), out_cpu.data(), n, [v](T a) { return std::pow(a, v); });
        break;
      case emulated::UnaryOp::Scale:
        unary_map(x.data(), out_cpu.data(), n, [v](T a) { return a * v; });
        break;
      case emulated::UnaryOp::Shift:
        unary_map(x.data(), out_cpu.data(), n, [v](T a) { return a + v; });
        break;
    }
    emulated::unary_map(m.op, v, x.data(), out.data(), n, nullptr);
    EXPECT_TRUE(matches_twin(out, out_cpu, m.exact ? exact() : elementwise(dtype_v<T>)));
  }
}

// copy_strided moves bits: the same 4- or 8-byte words, whatever the dtype.
template <typename T>
void expect_copy_matches(const std::vector<T>& src, const Shape& src_strides, const Shape& dst_strides,
                         const Shape& shape, std::size_t dst_size) {
  SCOPED_TRACE(shape_str(shape) + " from strides " + shape_str(src_strides) + " to " + shape_str(dst_strides));
  emulated::StridedLayout layout;
  ASSERT_TRUE(emulated::make_strided_layout(shape, src_strides, dst_strides, layout));
  std::vector<T> dst_cpu = poisoned<T>(dst_size), dst = poisoned<T>(dst_size);
  kernels::cpu::copy_strided(src.data(), src_strides, dst_cpu.data(), dst_strides, shape);
  emulated::copy_strided(src.data(), dst.data(), sizeof(T), layout, shape_numel(shape), nullptr);
  EXPECT_TRUE(std::memcmp(dst.data(), dst_cpu.data(), dst_size * sizeof(T)) == 0);  // poison where neither writes
}

TYPED_TEST(EmulatedElementwise, StridedCopies) {
  using T = TypeParam;
  const std::vector<T> src = random_values<T>(2 * 3 * 257, 6);
  expect_copy_matches(src, {3 * 257, 257, 1}, {3 * 257, 257, 1}, {2, 3, 257}, src.size());  // contiguous: a memcpy
  expect_copy_matches(src, {1, 3 * 257}, {2, 1}, {3 * 257, 2}, src.size());                 // a transpose
  expect_copy_matches(src, {0, 3 * 257, 257, 1}, contiguous_strides({4, 2, 3, 257}), {4, 2, 3, 257},
                      4 * src.size());                                                                   // an expand
  expect_copy_matches(src, {2 * 257, 1, 2}, contiguous_strides({3, 2, 128}), {3, 2, 128}, 3 * 2 * 128);  // a slice
  expect_copy_matches(src, {3 * 257, 257, 1}, {1, 2, 6}, {2, 3, 257}, src.size());  // scattered destination
}

TEST(EmulatedCopies, OnlyFourAndEightByteWords) {
  emulated::StridedLayout layout;
  ASSERT_TRUE(emulated::make_strided_layout({3, 2}, {1, 3}, {2, 1}, layout));
  std::vector<std::uint16_t> src(6), dst(6);
  EXPECT_THROW(emulated::copy_strided(src.data(), dst.data(), 2, layout, 6, nullptr), std::runtime_error);
}

}  // namespace
}  // namespace sceald::emulation_testing
