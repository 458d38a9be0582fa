// Float64 gradient checks of batch normalisation, the losses, cosine
// similarity and L2 normalisation.
#include <gtest/gtest.h>

#include "engine/ops/batch_norm.h"
#include "engine/ops/loss.h"
#include "engine/ops/similarity.h"
#include "support/gradcheck.h"

using namespace sceald;
using namespace sceald::testing;

namespace {

Tensor fixed(const Shape& shape, std::uint64_t seed, double low, double high) {
  Generator gen(seed);
  return gen.uniform(shape, low, high, DType::Float64);
}

}  // namespace

TEST(GradcheckBatchNorm, TrainingWithAndWithoutAffine) {
  for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 4, 5}}) {
    SCOPED_TRACE(shape_str(s));
    Tensor x = random_input(s, 21, -2.0, 2.0);
    Tensor w = random_input({3}, 22, 0.5, 1.5), b = random_input({3}, 23);
    Tensor rm = Tensor::zeros({3}, DType::Float64), rv = Tensor::ones({3}, DType::Float64);
    EXPECT_TRUE(gradcheck([&](const auto& v) { return batch_norm(v[0], v[1], v[2], rm, rv, true); }, {x, w, b}));
    EXPECT_TRUE(gradcheck([](const auto& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
                          {x}));
    // The gradient of x alone (weight and bias constants), and of the weight alone.
    Tensor w_fixed = w.detach().clone(), x_fixed = x.detach().clone();
    EXPECT_TRUE(gradcheck([&](const auto& v) { return batch_norm(v[0], w_fixed, Tensor(), rm, rv, true); }, {x}));
    EXPECT_TRUE(gradcheck([&](const auto& v) { return batch_norm(x_fixed, v[0], Tensor(), rm, rv, true); }, {w}));
  }
}

TEST(GradcheckBatchNorm, Evaluation) {
  for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 4, 5}}) {
    SCOPED_TRACE(shape_str(s));
    Tensor x = random_input(s, 24, -2.0, 2.0);
    Tensor w = random_input({3}, 25, 0.5, 1.5), b = random_input({3}, 26);
    Tensor rm = fixed({3}, 27, -0.5, 0.5), rv = fixed({3}, 28, 0.5, 2.0);
    EXPECT_TRUE(gradcheck([&](const auto& v) { return batch_norm(v[0], v[1], v[2], rm, rv, false); }, {x, w, b}));
    EXPECT_TRUE(gradcheck([&](const auto& v) { return batch_norm(v[0], Tensor(), Tensor(), rm, rv, false); }, {x}));
  }
}

TEST(GradcheckLoss, CrossEntropy) {
  Tensor logits = random_input({5, 7}, 31, -3.0, 3.0);
  Tensor labels = Tensor::from_vector<std::int64_t>({0, 6, 3, 3, 1}, {5});
  // gradcheck seeds a random dL/dloss, so the scale of the backward is checked too.
  EXPECT_TRUE(gradcheck([&](const auto& v) { return cross_entropy(v[0], labels); }, {logits}));
}

TEST(GradcheckLoss, SoftCrossEntropy) {
  Tensor logits = random_input({5, 7}, 32, -3.0, 3.0);
  // Rows that are distributions, and rows that are not (the sum_k t_k term).
  Tensor raw = fixed({5, 7}, 33, 0.0, 1.0);
  Tensor rows = Tensor::zeros({5, 7}, DType::Float64);
  {
    std::vector<double> r = raw.to_vector<double>();
    for (int i = 0; i < 5; ++i) {
      double s = 0;
      for (int k = 0; k < 7; ++k) s += r[i * 7 + k];
      for (int k = 0; k < 7; ++k) r[i * 7 + k] /= s;
    }
    rows = Tensor::from_vector(r, {5, 7});
  }
  EXPECT_TRUE(gradcheck([&](const auto& v) { return soft_cross_entropy(v[0], rows); }, {logits}));
  EXPECT_TRUE(gradcheck([&](const auto& v) { return soft_cross_entropy(v[0], raw); }, {logits}));
}

TEST(GradcheckLoss, MseToBothOperands) {
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}}) {
    SCOPED_TRACE(shape_str(s));
    EXPECT_TRUE(gradcheck([](const auto& v) { return mse_loss(v[0], v[1]); }, {random_input(s, 34), random_input(s, 35)}));
  }
}

TEST(GradcheckSimilarity, CosineRowsAndBroadcast) {
  Tensor a = random_input({4, 6}, 41), b = random_input({4, 6}, 42), b1 = random_input({1, 6}, 43);
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], 1); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], 1); }, {a, b1}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], -1); }, {b1, a}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], 0); }, {a, b}));
  // [3, 4, 5] with [4, 1] broadcast to it, reduced along the middle axis.
  Tensor c = random_input({3, 4, 5}, 44), d = random_input({4, 1}, 45);
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], 1); }, {c, d}));
}

TEST(GradcheckSimilarity, CosineClampedByEps) {
  // |a|^2 |b|^2 far below eps^2: the denominator is the constant eps.
  Tensor a = random_input({3, 5}, 46, -0.1, 0.1), b = random_input({3, 5}, 47, -0.1, 0.1);
  EXPECT_TRUE(gradcheck([](const auto& v) { return cosine_similarity(v[0], v[1], 1, 0.5); }, {a, b}));
}

TEST(GradcheckSimilarity, L2Normalize) {
  EXPECT_TRUE(gradcheck([](const auto& v) { return l2_normalize(v[0], 1); }, {random_input({4, 6}, 51)}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return l2_normalize(v[0], 0); }, {random_input({3, 4, 5}, 52)}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return l2_normalize(v[0], -1); }, {random_input({3, 4, 5}, 53)}));
  // Clamped: norms below eps, x / eps.
  EXPECT_TRUE(gradcheck([](const auto& v) { return l2_normalize(v[0], 1, 5.0); }, {random_input({3, 4}, 54)}));
}
