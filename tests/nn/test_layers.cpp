// Each layer's forward against plain reference loops or analytic values, and
// the mode-dependent ones (BatchNorm2d, Dropout) in both modes.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/layers.h"
#include "engine/ops/conv.h"
#include "support/tolerance.h"

namespace sceald::nn {
namespace {

using testing::all_close;

Tensor random(const Shape& shape, std::uint64_t seed, DType dtype = DType::Float64) {
  Generator gen(seed);
  return gen.uniform(shape, -1.0, 1.0, dtype);
}

TEST(Layers, Conv2dUsesItsParametersAndSettings) {
  Conv2d conv(2, 3, 3, /*stride=*/2, /*padding=*/1, /*dilation=*/2);
  conv.to(DType::Float64);
  Tensor x = random({2, 2, 9, 9}, 1);
  Tensor y = conv(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4, 4}));  // (9 + 2 - 2*2 - 1) / 2 + 1
  Conv2dParams p;
  p.stride = {2, 2};
  p.padding = {1, 1};
  p.dilation = {2, 2};
  EXPECT_TRUE(all_close(y, conv2d(x, conv.weight, conv.bias, p)));
}

TEST(Layers, LinearMatchesLoops) {
  Linear fc(3, 2);
  fc.to(DType::Float64);
  Tensor x = random({4, 3}, 2);
  const auto xv = x.to_vector<double>(), w = fc.weight.to_vector<double>(), b = fc.bias.to_vector<double>();
  std::vector<double> expected(8);
  for (int n = 0; n < 4; ++n)
    for (int o = 0; o < 2; ++o) {
      double s = b[o];
      for (int i = 0; i < 3; ++i) s += xv[n * 3 + i] * w[o * 3 + i];
      expected[n * 2 + o] = s;
    }
  EXPECT_TRUE(all_close(fc(x), Tensor::from_vector(expected, {4, 2})));
  Linear no_bias(3, 2, false);
  no_bias.to(DType::Float64);
  EXPECT_EQ(no_bias(x).shape(), (Shape{4, 2}));
}

// Per-channel mean and biased variance of [N, C, H, W].
std::pair<std::vector<double>, std::vector<double>> channel_stats(const Tensor& x) {
  const auto v = x.to_vector<double>();
  const std::int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  std::vector<double> mean(C, 0.0), var(C, 0.0);
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) mean[c] += v[(n * C + c) * HW + i];
    mean[c] /= static_cast<double>(N * HW);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) var[c] += std::pow(v[(n * C + c) * HW + i] - mean[c], 2);
    var[c] /= static_cast<double>(N * HW);
  }
  return {mean, var};
}

TEST(Layers, BatchNorm2dTrainingUpdatesRunningStatistics) {
  BatchNorm2d bn(3);
  bn.to(DType::Float64);
  Tensor x = random({4, 3, 2, 2}, 3);
  auto [mean, var] = channel_stats(x);
  const double m = 16;  // elements per channel: the running variance is unbiased
  Tensor y = bn(x);
  std::vector<double> rm(3), rv(3);
  for (int c = 0; c < 3; ++c) {
    rm[c] = 0.1 * mean[c];
    rv[c] = 0.9 + 0.1 * var[c] * m / (m - 1);
  }
  EXPECT_TRUE(all_close(bn.running_mean, Tensor::from_vector(rm, {3})));
  EXPECT_TRUE(all_close(bn.running_var, Tensor::from_vector(rv, {3})));
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 1);
  // The output is normalised with the batch statistics.
  auto [out_mean, out_var] = channel_stats(y);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(out_mean[c], 0.0, 1e-12);
    EXPECT_NEAR(out_var[c], var[c] / (var[c] + 1e-5), 1e-12);
  }

  // Evaluation: the running statistics, and nothing is updated.
  bn.eval();
  bn.weight.fill_(2.0);
  bn.bias.fill_(0.5);
  Tensor y_eval = bn(x);
  const auto xv = x.to_vector<double>();
  std::vector<double> expected(xv.size());
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const std::size_t c = (i / 4) % 3;
    expected[i] = 2.0 * (xv[i] - rm[c]) / std::sqrt(rv[c] + 1e-5) + 0.5;
  }
  EXPECT_TRUE(all_close(y_eval, Tensor::from_vector(expected, x.shape())));
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 1);
  EXPECT_TRUE(all_close(bn.running_mean, Tensor::from_vector(rm, {3})));
}

TEST(Layers, BatchNorm2dCumulativeAverageAndNoTracking) {
  BatchNorm2d cumulative(2, 1e-5, std::nullopt);
  cumulative.to(DType::Float64);
  Tensor a = random({2, 2, 3, 3}, 4), b = random({2, 2, 3, 3}, 5);
  cumulative(a);
  cumulative(b);
  auto [ma, va] = channel_stats(a);
  auto [mb, vb] = channel_stats(b);
  // Factor 1 for the first batch, 1/2 for the second: the plain mean of both.
  const std::vector<double> expected_mean = {(ma[0] + mb[0]) / 2, (ma[1] + mb[1]) / 2};
  EXPECT_TRUE(all_close(cumulative.running_mean, Tensor::from_vector(expected_mean, {2})));

  BatchNorm2d untracked(2, 1e-5, 0.1, /*affine=*/false, /*track_running_stats=*/false);
  untracked.to(DType::Float64);
  EXPECT_TRUE(untracked.state_dict().empty());
  untracked.eval();  // still the batch statistics: there are no others
  auto [mean, var] = channel_stats(untracked(a));
  EXPECT_NEAR(mean[0], 0.0, 1e-12);
  EXPECT_NEAR(var[1], va[1] / (va[1] + 1e-5), 1e-12);
  EXPECT_THROW(untracked(Tensor::zeros({2, 2}, DType::Float64)), Error);
}

TEST(Layers, PoolingActivationsAndReshaping) {
  Tensor x = random({2, 3, 6, 6}, 6);
  EXPECT_EQ(MaxPool2d(2)(x).shape(), (Shape{2, 3, 3, 3}));
  EXPECT_EQ(MaxPool2d(3, 1, 1)(x).shape(), (Shape{2, 3, 6, 6}));
  Tensor pooled = AdaptiveAvgPool2d(1)(x);
  EXPECT_EQ(pooled.shape(), (Shape{2, 3, 1, 1}));
  auto [mean, var] = channel_stats(x.reshape({1, 6, 6, 6}));
  EXPECT_NEAR(pooled.to_vector<double>()[4], mean[4], 1e-12);
  EXPECT_EQ(Flatten()(x).shape(), (Shape{2, 108}));
  EXPECT_EQ(Flatten(2)(x).shape(), (Shape{2, 3, 36}));

  Tensor v = Tensor::from_vector<double>({-2, -0.5, 0.5, 3}, {1, 1, 2, 2});
  EXPECT_EQ(ReLU()(v).to_vector<double>(), (std::vector<double>{0, 0, 0.5, 3}));
  EXPECT_TRUE(all_close(Sigmoid()(v), Tensor::from_vector<double>({1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(0.5)),
                                                                   1 / (1 + std::exp(-0.5)), 1 / (1 + std::exp(-3.0))},
                                                                  {1, 1, 2, 2})));
  PReLU prelu;
  prelu.to(DType::Float64);
  EXPECT_EQ(prelu(v).to_vector<double>(), (std::vector<double>{-0.5, -0.125, 0.5, 3}));
}

TEST(Layers, UpsampleBySizeAndFactor) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_EQ(Upsample()(x).shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(Upsample(std::array<std::int64_t, 2>{3, 5})(x).shape(), (Shape{1, 1, 3, 5}));
  Tensor y = Upsample(3)(x);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 6, 6}));
  const auto v = y.to_vector<double>();
  EXPECT_EQ(v[0 * 6 + 2], 1);  // row 0, column 2 comes from (0, 0)
  EXPECT_EQ(v[2 * 6 + 3], 2);  // (2, 3) from (0, 1)
  EXPECT_EQ(v[5 * 6 + 0], 3);
  EXPECT_EQ(v[3 * 6 + 5], 4);
  EXPECT_THROW(Upsample(0), Error);
}

TEST(Layers, DropoutIsSeededAndOnlyActsInTraining) {
  Tensor x = Tensor::ones({100, 100});
  Dropout a(0.3, 7), b(0.3, 7);
  Tensor ya = a(x), yb = b(x);
  EXPECT_EQ(ya.to_vector<float>(), yb.to_vector<float>());
  const auto v = ya.to_vector<float>();
  int zeros = 0;
  for (float e : v) {
    if (e == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(e, 1.0f / 0.7f);
  }
  EXPECT_NEAR(zeros / 1e4, 0.3, 0.02);
  EXPECT_NE(a(x).to_vector<float>(), v) << "a second draw must give a new mask";
  a.seed(7);
  EXPECT_EQ(a(x).to_vector<float>(), v) << "reseeding replays the masks";
  a.eval();
  EXPECT_EQ(a(x).to_vector<float>(), x.to_vector<float>());
  EXPECT_THROW(Dropout(1.5), Error);
}

}  // namespace
}  // namespace sceald::nn
