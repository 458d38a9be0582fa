// Cosine similarity and L2 normalisation: the emulated CUDA kernels
// (kernels/cuda/similarity.cu) against the engine's CPU ops
// (engine/ops/similarity.cpp), forward and, through autograd, backward. Sums
// in double in the same order, but with the GPU's licence to fuse: the
// reduction tolerance.
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "emulated_kernels.h"
#include "engine/ops/similarity.h"
#include "engine/tensor.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

// `shape` seen as [outer, dim, inner] around `axis`.
struct Lines {
  std::int64_t outer = 1, dim = 1, inner = 1;
};

Lines lines_around(const Shape& shape, std::size_t axis) {
  Lines l;
  for (std::size_t d = 0; d < shape.size(); ++d) (d < axis ? l.outer : d == axis ? l.dim : l.inner) *= shape[d];
  return l;
}

template <typename T>
Tensor leaf(const std::vector<T>& values, const Shape& shape) {
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(true);
  return t;
}

template <typename T>
void expect_cosine_matches(const std::vector<T>& a, const std::vector<T>& b, const Shape& shape, std::size_t axis) {
  SCOPED_TRACE(shape_str(shape) + " along axis " + std::to_string(axis));
  const Tolerance tol = reduction(dtype_v<T>);
  const double eps = 1e-8;
  const Lines l = lines_around(shape, axis);
  Tensor at = leaf(a, shape), bt = leaf(b, shape);
  Tensor out_cpu = cosine_similarity(at, bt, static_cast<std::int64_t>(axis), eps);
  const std::vector<T> g = random_values<T>(l.outer * l.inner, 3);
  out_cpu.backward(Tensor::from_vector(g, out_cpu.shape()));

  std::vector<T> out = poisoned<T>(l.outer * l.inner);
  emulated::cosine_similarity_forward(a.data(), b.data(), out.data(), l.outer, l.dim, l.inner, eps, nullptr);
  EXPECT_TRUE(matches_twin(out, out_cpu.to_vector<T>(), tol));
  std::vector<T> ga = poisoned<T>(a.size()), gb = poisoned<T>(b.size());
  emulated::cosine_similarity_backward(a.data(), b.data(), g.data(), ga.data(), gb.data(), l.outer, l.dim, l.inner, eps,
                                       nullptr);
  EXPECT_TRUE(matches_twin(ga, at.grad().to_vector<T>(), tol));
  EXPECT_TRUE(matches_twin(gb, bt.grad().to_vector<T>(), tol));
  std::vector<T> ga_alone = poisoned<T>(a.size());  // only one gradient wanted
  emulated::cosine_similarity_backward(a.data(), b.data(), g.data(), ga_alone.data(), static_cast<T*>(nullptr), l.outer,
                                       l.dim, l.inner, eps, nullptr);
  EXPECT_TRUE(matches_twin(ga_alone, ga, exact()));
}

template <typename T>
void expect_l2_normalize_matches(const std::vector<T>& x, const Shape& shape, std::size_t axis) {
  SCOPED_TRACE(shape_str(shape) + " along axis " + std::to_string(axis));
  const Tolerance tol = reduction(dtype_v<T>);
  const double eps = 1e-12;
  const Lines l = lines_around(shape, axis);
  Tensor xt = leaf(x, shape);
  Tensor y_cpu = l2_normalize(xt, static_cast<std::int64_t>(axis), eps);
  const std::vector<T> g = random_values<T>(x.size(), 4);
  y_cpu.backward(Tensor::from_vector(g, shape));

  std::vector<T> y = poisoned<T>(x.size()), gx = poisoned<T>(x.size());
  emulated::l2_normalize_forward(x.data(), y.data(), l.outer, l.dim, l.inner, eps, nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu.to_vector<T>(), tol));
  emulated::l2_normalize_backward(x.data(), g.data(), gx.data(), l.outer, l.dim, l.inner, eps, nullptr);
  EXPECT_TRUE(matches_twin(gx, xt.grad().to_vector<T>(), tol));
}

// (shape, axis) pairs: the axis first, in the middle, last, and of length one.
const std::vector<std::pair<Shape, std::size_t>> kLines = {
    {{7, 33}, 1}, {{3, 5, 4, 6}, 1}, {{3, 5, 4, 6}, 3}, {{300, 4}, 0}, {{2, 1, 9}, 1}};

template <typename T>
class EmulatedSimilarity : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedSimilarity, FloatTypes);

TYPED_TEST(EmulatedSimilarity, CosineSimilarity) {
  using T = TypeParam;
  for (const auto& [shape, axis] : kLines) {
    const std::int64_t n = shape_numel(shape);
    expect_cosine_matches(random_values<T>(n, 1), random_values<T>(n, 2), shape, axis);
  }
  // A zero line: |a|^2 |b|^2 below eps^2, the clamped branch.
  std::vector<T> a = random_values<T>(7 * 33, 5);
  std::fill(a.begin() + 2 * 33, a.begin() + 3 * 33, T(0));
  expect_cosine_matches(a, random_values<T>(7 * 33, 6), {7, 33}, 1);
}

TYPED_TEST(EmulatedSimilarity, L2Normalisation) {
  using T = TypeParam;
  for (const auto& [shape, axis] : kLines) {
    expect_l2_normalize_matches(random_values<T>(shape_numel(shape), 7), shape, axis);
  }
  std::vector<T> x = random_values<T>(7 * 33, 8);
  std::fill(x.begin() + 4 * 33, x.begin() + 5 * 33, T(0));  // the clamped branch: a zero line
  expect_l2_normalize_matches(x, {7, 33}, 1);
}

// A NaN in a line makes the line's norm NaN, and max(NaN, eps) keeps it as
// std::max does on the CPU (CUDA's fmax returned eps and hid it): the whole
// line is NaN, its neighbours are not.
TYPED_TEST(EmulatedSimilarity, NanInALineGivesANanLine) {
  using T = TypeParam;
  const Shape shape{4, 9};
  std::vector<T> x = random_values<T>(36, 9);
  x[2 * 9 + 5] = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> y = poisoned<T>(36);
  emulated::l2_normalize_forward(x.data(), y.data(), 4, 9, 1, 1e-12, nullptr);
  std::vector<int> nans_per_row(4, 0);
  for (std::int64_t i = 0; i < 36; ++i) nans_per_row[i / 9] += std::isnan(y[i]) ? 1 : 0;
  EXPECT_EQ(nans_per_row, (std::vector<int>{0, 0, 9, 0}));
  expect_l2_normalize_matches(x, shape, 1);
  expect_cosine_matches(x, random_values<T>(36, 10), shape, 1);
}

}  // namespace
}  // namespace sceald::emulation_testing
