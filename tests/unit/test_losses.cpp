// Analytic values of softmax, the losses, batch normalisation, dropout and
// cosine similarity, and the errors they give on bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "engine/ops/activation.h"
#include "engine/ops/batch_norm.h"
#include "engine/ops/conv.h"
#include "engine/ops/loss.h"
#include "engine/ops/similarity.h"
#include "engine/ops/softmax.h"
#include "support/error_checks.h"
#include "support/tolerance.h"

using namespace sceald;
using namespace sceald::testing;

namespace {

using sceald::testing::throws_with;

Tensor vec(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Tensor::from_vector(v, {n});
}

}  // namespace

TEST(Softmax, KnownValues) {
  Tensor x = Tensor::from_vector<double>({0.0, std::log(2.0), std::log(3.0)}, {1, 3});
  EXPECT_TRUE(all_close(softmax(x, 1), Tensor::from_vector<double>({1.0 / 6, 2.0 / 6, 3.0 / 6}, {1, 3})));
  EXPECT_TRUE(all_close(log_softmax(x, -1),
                        Tensor::from_vector<double>({std::log(1.0 / 6), std::log(2.0 / 6), std::log(3.0 / 6)}, {1, 3})));
  // Along axis 0 of the transpose: the same numbers.
  EXPECT_TRUE(all_close(softmax(x.transpose(0, 1), 0), Tensor::from_vector<double>({1.0 / 6, 2.0 / 6, 3.0 / 6}, {3, 1})));
}

TEST(Softmax, StableForLargeLogits) {
  Tensor big = Tensor::from_vector<float>({1000.f, 1000.f}, {2});
  EXPECT_TRUE(all_close(softmax(big, 0), Tensor::from_vector<float>({0.5f, 0.5f}, {2})));
  Tensor small = Tensor::from_vector<float>({-1000.f, 0.f}, {2});
  const std::vector<float> ls = log_softmax(small, 0).to_vector<float>();
  EXPECT_TRUE(std::isfinite(ls[0]) && std::isfinite(ls[1]));
  EXPECT_NEAR(ls[0], -1000.f, 1e-3);
  EXPECT_NEAR(ls[1], 0.f, 1e-6);
}

TEST(Softmax, SumsToOneAlongTheAxis) {
  Generator gen(3);
  Tensor x = gen.normal({2, 3, 4}, 0.0, 5.0, DType::Float64);
  const std::vector<double> y = softmax(x, 1).to_vector<double>();
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 4; ++i) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += y[(o * 3 + k) * 4 + i];
      EXPECT_NEAR(s, 1.0, 1e-12);
    }
}

TEST(CrossEntropy, UniformLogitsGiveLogC) {
  Tensor logits = Tensor::full({4, 10}, 2.5, DType::Float64);
  Tensor labels = Tensor::from_vector<std::int64_t>({0, 9, 4, 4}, {4});
  EXPECT_NEAR(cross_entropy(logits, labels).item<double>(), std::log(10.0), 1e-12);
}

TEST(CrossEntropy, KnownValueAndGradient) {
  // One row [0, ln 2, ln 3], label 2: loss = -ln(3/6) = ln 2; gradient softmax - onehot.
  Tensor logits = Tensor::from_vector<double>({0.0, std::log(2.0), std::log(3.0)}, {1, 3});
  logits.set_requires_grad(true);
  Tensor loss = cross_entropy(logits, Tensor::from_vector<std::int64_t>({2}, {1}));
  EXPECT_NEAR(loss.item<double>(), std::log(2.0), 1e-12);
  loss.backward();
  EXPECT_TRUE(all_close(logits.grad(), Tensor::from_vector<double>({1.0 / 6, 2.0 / 6, -0.5}, {1, 3})));
}

TEST(CrossEntropy, SoftWithOneHotTargetEqualsHard) {
  Generator gen(5);
  Tensor logits = gen.normal({3, 4}, 0.0, 2.0, DType::Float64);
  Tensor labels = Tensor::from_vector<std::int64_t>({1, 3, 0}, {3});
  Tensor onehot = Tensor::from_vector<double>({0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, {3, 4});
  EXPECT_NEAR(soft_cross_entropy(logits, onehot).item<double>(), cross_entropy(logits, labels).item<double>(), 1e-12);

  Tensor a = logits.detach().clone(), b = logits.detach().clone();
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  soft_cross_entropy(a, onehot).backward();
  cross_entropy(b, labels).backward();
  EXPECT_TRUE(all_close(a.grad(), b.grad()));
}

TEST(CrossEntropy, NoGradientFlowsToTheTarget) {
  Tensor logits = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor target = Tensor::from_vector<double>({0.5, 0.5, 0.2, 0.8}, {2, 2});
  logits.set_requires_grad(true);
  target.set_requires_grad(true);
  soft_cross_entropy(logits, target).backward();
  EXPECT_TRUE(logits.grad().defined());
  EXPECT_FALSE(target.grad().defined());
}

TEST(CrossEntropy, BadInputsNameTheOp) {
  Tensor logits = Tensor::zeros({3, 5});
  EXPECT_TRUE(throws_with([&] { cross_entropy(logits, Tensor::from_vector<std::int64_t>({0, 5, 1}, {3})); },
                            {"cross_entropy", "label 5", "index 1", "[0, 5)"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(logits, Tensor::from_vector<std::int64_t>({0, -1, 1}, {3})); },
                            {"cross_entropy", "label -1", "index 1"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(logits, Tensor::from_vector<float>({0, 1, 1}, {3})); },
                            {"cross_entropy", "int64", "float32"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(logits, Tensor::from_vector<std::int64_t>({0, 1}, {2})); },
                            {"cross_entropy", "[3]"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(Tensor::zeros({15}), Tensor::zeros({3}, DType::Int64)); },
                            {"cross_entropy", "[N, C]"}));
  EXPECT_TRUE(throws_with([&] { soft_cross_entropy(logits, Tensor::zeros({3, 4})); },
                            {"soft_cross_entropy", "[3, 4]", "[3, 5]"}));
  EXPECT_TRUE(throws_with([&] { soft_cross_entropy(logits, Tensor::zeros({3, 5}, DType::Float64)); },
                            {"soft_cross_entropy", "dtypes differ"}));
}

TEST(MseLoss, KnownVectorsAndGradients) {
  Tensor a = vec({1, 2, 3, 4}), b = vec({1, 0, 4, 1});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor loss = mse_loss(a, b);
  EXPECT_NEAR(loss.item<double>(), (0 + 4 + 1 + 9) / 4.0, 1e-15);
  loss.backward();
  // d/da = 2 (a - b) / 4
  EXPECT_TRUE(all_close(a.grad(), vec({0, 1, -0.5, 1.5})));
  EXPECT_TRUE(all_close(b.grad(), vec({0, -1, 0.5, -1.5})));
  EXPECT_TRUE(throws_with([&] { mse_loss(vec({1, 2}), vec({1, 2, 3})); }, {"mse_loss", "same shape"}));
}

TEST(BatchNorm, RunningStatsAfterOneTrainingStep) {
  // Channel 0: {1, 2, 3, 6}, mean 3, biased var 3.5, unbiased 14/3.
  // Channel 1: {0, 0, 4, 4}, mean 2, biased var 4, unbiased 16/3.
  Tensor x = Tensor::from_vector<double>({1, 0, 2, 0, 3, 4, 6, 4}, {4, 2});
  Tensor rm = vec({0.5, -1.0}), rv = vec({1.0, 2.0});
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  EXPECT_TRUE(all_close(rm, vec({0.9 * 0.5 + 0.1 * 3, 0.9 * -1.0 + 0.1 * 2})));
  EXPECT_TRUE(all_close(rv, vec({0.9 * 1.0 + 0.1 * 14.0 / 3, 0.9 * 2.0 + 0.1 * 16.0 / 3})));
  // The output uses the biased variance.
  const double s0 = 1 / std::sqrt(3.5 + 1e-5), s1 = 1 / std::sqrt(4.0 + 1e-5);
  EXPECT_TRUE(all_close(y, Tensor::from_vector<double>({-2 * s0, -2 * s1, -1 * s0, -2 * s1, 0, 2 * s1, 3 * s0, 2 * s1},
                                                       {4, 2})));
}

TEST(BatchNorm, EvaluationUsesRunningStatsAndAffine) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor rm = Tensor::from_vector<float>({1, 2}, {2}), rv = Tensor::from_vector<float>({4, 0.25f}, {2});
  Tensor w = Tensor::from_vector<float>({2, 3}, {2}), b = Tensor::from_vector<float>({0.5f, -1}, {2});
  Tensor y = batch_norm(x, w, b, rm, rv, false, 0.1, 1e-12);
  std::vector<float> expect;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 4; ++i) {
      const float v = static_cast<float>(c * 4 + i + 1);
      expect.push_back(c == 0 ? (v - 1) / 2 * 2 + 0.5f : (v - 2) / 0.5f * 3 - 1);
    }
  EXPECT_TRUE(all_close(y, Tensor::from_vector(expect, {1, 2, 2, 2})));
  // Evaluation leaves the running statistics alone, even with one value per channel.
  EXPECT_EQ(rm.to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_NO_THROW(batch_norm(Tensor::ones({1, 2}), w, b, rm, rv, false));
}

TEST(BatchNorm, BadInputsNameTheOp) {
  EXPECT_TRUE(throws_with([] { batch_norm(Tensor::ones({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
                            {"batch_norm", "Expected more than 1 value per channel when training"}));
  EXPECT_TRUE(throws_with(
      [] { batch_norm(Tensor::ones({1, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
      {"Expected more than 1 value per channel when training"}));
  EXPECT_TRUE(throws_with([] { batch_norm(Tensor::ones({2, 3}), Tensor::ones({4}), Tensor(), Tensor(), Tensor(), true); },
                            {"batch_norm", "weight", "[3]", "[4]"}));
  EXPECT_TRUE(throws_with([] { batch_norm(Tensor::ones({2, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false); },
                            {"batch_norm", "running_mean"}));
  EXPECT_TRUE(throws_with([] { batch_norm(Tensor::ones({6}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
                            {"batch_norm", "[N, C]"}));
}

TEST(Dropout, KeepsAboutHalfAndScalesByTwo) {
  const std::int64_t n = 20000;
  Tensor x = Tensor::full({n}, 3.0, DType::Float64);
  Generator gen(7);
  const std::vector<double> y = dropout(x, 0.5, true, gen).to_vector<double>();
  std::int64_t kept = 0;
  for (double v : y) {
    EXPECT_TRUE(v == 0.0 || v == 6.0) << v;
    kept += v != 0.0;
  }
  EXPECT_NEAR(static_cast<double>(kept) / n, 0.5, 0.02);
}

TEST(Dropout, MaskIsPhiloxWordIOfOneReservedRange) {
  // The contract the CUDA kernel reproduces: element i is kept iff
  // uniform_from_word(word(seed, start, i)) >= p, start being the generator's offset.
  // 40,001 elements run on threads, four words per Philox block.
  for (const std::int64_t n : {std::int64_t{37}, std::int64_t{40001}}) {
    const double p = 0.3;
    Generator gen(123);
    gen.reserve(10);  // a used generator: the draw starts at its current offset
    const std::uint64_t start = gen.offset();
    const std::vector<double> y = dropout(Tensor::ones({n}, DType::Float64), p, true, gen).to_vector<double>();
    for (std::int64_t i = 0; i < n; ++i) {
      const bool keep = uniform_from_word(Philox4x32::word(123, start, static_cast<std::uint64_t>(i))) >= p;
      ASSERT_EQ(y[i], keep ? 1.0 / (1.0 - p) : 0.0) << "element " << i << " of " << n;
    }
    EXPECT_EQ(gen.offset(), start + (n + 3) / 4);
  }
}

TEST(Dropout, SameSeedSameMaskAndEvalIsIdentity) {
  Tensor x = Tensor::ones({100});
  Generator g1(9), g2(9);
  const std::vector<float> a = dropout(x, 0.4, true, g1).to_vector<float>();
  EXPECT_EQ(a, dropout(x, 0.4, true, g2).to_vector<float>());
  EXPECT_NE(a, dropout(x, 0.4, true, g1).to_vector<float>());  // the generator moved on
  Generator g3(9);
  EXPECT_TRUE(dropout(x, 0.4, false, g3).same(x));
  EXPECT_EQ(g3.offset(), 0u);  // evaluation draws nothing
  EXPECT_TRUE(throws_with([&] { dropout(x, 1.0, true, g3); }, {"dropout", "[0, 1)"}));
  EXPECT_TRUE(throws_with([&] { dropout(x, -0.1, true, g3); }, {"dropout"}));
}

TEST(Dropout, BackwardUsesTheSameMask) {
  Tensor x = Tensor::full({50}, 2.0, DType::Float64);
  x.set_requires_grad(true);
  Generator gen(4);
  Tensor y = dropout(x, 0.25, true, gen);
  y.backward(Tensor::ones({50}, DType::Float64));
  const std::vector<double> yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (std::size_t i = 0; i < yv.size(); ++i) EXPECT_DOUBLE_EQ(gv[i], yv[i] / 2.0);
}

TEST(Activations, KnownValues) {
  Tensor x = vec({-2, -0.5, 0, 1.5});
  EXPECT_TRUE(all_close(relu(x), vec({0, 0, 0, 1.5})));
  EXPECT_TRUE(all_close(sigmoid(vec({0, 1000, -1000})), vec({0.5, 1, 0})));
  EXPECT_TRUE(all_close(prelu(x, vec({0.25})), vec({-0.5, -0.125, 0, 1.5})));
  Tensor x2 = Tensor::from_vector<double>({-1, -1, 2, -4}, {2, 2});
  EXPECT_TRUE(all_close(prelu(x2, vec({0.1, 0.5})), Tensor::from_vector<double>({-0.1, -0.5, 2, -2}, {2, 2})));
  EXPECT_TRUE(throws_with([&] { prelu(x2, vec({0.1, 0.2, 0.3})); }, {"prelu", "[3]", "[2, 2]"}));
}

// As in PyTorch, NaN goes through ReLU (alone and fused into a convolution)
// and its gradient flows there: a diverged network must not turn into a
// healthy-looking one with zero activations.
TEST(Activations, ReluKeepsNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = vec({-1, nan, 2});
  x.set_requires_grad(true);
  Tensor y = relu(x);
  const std::vector<double> yv = y.to_vector<double>();
  EXPECT_EQ(yv[0], 0.0);
  EXPECT_TRUE(std::isnan(yv[1]));
  EXPECT_EQ(yv[2], 2.0);
  y.backward(vec({10, 20, 30}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 20, 30}));

  Tensor image = Tensor::from_vector<double>({1, nan, -3, 4}, {1, 1, 2, 2});
  Tensor weight = Tensor::from_vector<double>({1}, {1, 1, 1, 1});
  const std::vector<double> conv = conv2d_relu(image, weight, Tensor(), Conv2dParams{}).to_vector<double>();
  EXPECT_EQ(conv[0], 1.0);
  EXPECT_TRUE(std::isnan(conv[1]));
  EXPECT_EQ(conv[2], 0.0);
}

TEST(CosineSimilarity, ParallelOrthogonalOpposite) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 1, 0, 0, 1, -2, 0.5}, {3, 3});
  Tensor b = Tensor::from_vector<double>({2, 4, 6, 0, 5, 0, -3, 6, -1.5}, {3, 3});
  EXPECT_TRUE(all_close(cosine_similarity(a, b, 1), vec({1, 0, -1})));
  // Broadcast [1, 3] against [3, 3] and the zero vector (clamped by eps: 0, not NaN).
  Tensor e = Tensor::from_vector<double>({1, 0, 0}, {1, 3});
  EXPECT_TRUE(all_close(cosine_similarity(a, e, 1), vec({1 / std::sqrt(14.0), 1, 1 / std::sqrt(5.25)})));
  EXPECT_TRUE(all_close(cosine_similarity(Tensor::zeros({1, 3}, DType::Float64), e, 1), vec({0})));
  EXPECT_TRUE(throws_with([] { cosine_similarity(Tensor::zeros({2, 3}), Tensor::zeros({2, 4}), 1); },
                            {"cosine_similarity", "[2, 3]", "[2, 4]"}));
}

TEST(L2Normalize, UnitNormsAndZeroVector) {
  Tensor x = Tensor::from_vector<double>({3, 4, 0, 0}, {2, 2});
  EXPECT_TRUE(all_close(l2_normalize(x, 1), Tensor::from_vector<double>({0.6, 0.8, 0, 0}, {2, 2})));
  EXPECT_TRUE(all_close(l2_normalize(x, 0), Tensor::from_vector<double>({1, 1, 0, 0}, {2, 2})));
}
