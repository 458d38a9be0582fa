// Initialisation: PyTorch's default rules for the layers, the bounds and
// statistics of the init functions, seeding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/nn/init.h"
#include "engine/nn/layers.h"

namespace sceald::nn {
namespace {

struct Stats {
  double mean, stddev, min, max;
};

Stats stats(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  const double n = static_cast<double>(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / n), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
}

// A uniform U(-b, b) sample: inside the bounds, reaching close to both, with
// the right standard deviation b / sqrt(3).
void expect_uniform(const Tensor& t, double bound) {
  const Stats s = stats(t);
  const double n = static_cast<double>(t.numel());
  const double slack = 1 + 1e-7;  // float32 rounding of a draw next to the bound
  EXPECT_GE(s.min, -bound * slack);
  EXPECT_LE(s.max, bound * slack);
  EXPECT_LT(s.min, -bound * (1 - 20 / n)) << "the lower part of the range is never drawn";
  EXPECT_GT(s.max, bound * (1 - 20 / n)) << "the upper part of the range is never drawn";
  EXPECT_NEAR(s.mean, 0.0, 4 * bound / std::sqrt(3 * n));
  EXPECT_NEAR(s.stddev, bound / std::sqrt(3.0), 0.05 * bound / std::sqrt(3.0));
}

void expect_normal(const Tensor& t, double mean, double stddev) {
  const Stats s = stats(t);
  const double n = static_cast<double>(t.numel());
  EXPECT_NEAR(s.mean, mean, 4 * stddev / std::sqrt(n));
  EXPECT_NEAR(s.stddev, stddev, 4 * stddev / std::sqrt(2 * n));  // the standard error of a sample std
}

TEST(Init, Conv2dAndLinearDefaultsArePyTorchs) {
  Generator gen(11);
  Conv2d conv(16, 32, 3, 1, 1, 1, true, gen);  // fan_in = 16 * 9 = 144: bound 1/12
  expect_uniform(conv.weight, 1.0 / 12.0);
  const Stats b = stats(conv.bias);
  EXPECT_GE(b.min, -1.0 / 12.0 * (1 + 1e-7));
  EXPECT_LE(b.max, 1.0 / 12.0 * (1 + 1e-7));

  Linear fc(400, 300, true, gen);  // bound 1/20
  expect_uniform(fc.weight, 1.0 / 20.0);
  expect_uniform(fc.bias, 1.0 / 20.0);
}

TEST(Init, BatchNormAndPReLUDefaults) {
  BatchNorm2d bn(3);
  EXPECT_EQ(bn.weight.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(bn.bias.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(bn.running_mean.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(bn.running_var.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(bn.num_batches_tracked.item<std::int64_t>(), 0);
  EXPECT_EQ(PReLU(2).weight.to_vector<float>(), (std::vector<float>{0.25f, 0.25f}));
  EXPECT_EQ(PReLU(1, 0.1).weight.to_vector<float>(), (std::vector<float>{0.1f}));
}

TEST(Init, KaimingAndXavier) {
  Generator gen(5);
  Tensor w = Tensor::empty({64, 32, 3, 3}, DType::Float64);  // fan_in 288, fan_out 576
  init::kaiming_normal_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, gen);
  expect_normal(w, 0.0, std::sqrt(2.0 / 288));
  init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, gen);
  expect_normal(w, 0.0, std::sqrt(2.0 / 576));
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, gen);
  expect_uniform(w, std::sqrt(6.0 / 288));
  init::kaiming_uniform_(w, 0.2, init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
  expect_uniform(w, std::sqrt(2.0 / 1.04) * std::sqrt(3.0 / 288));
  init::xavier_uniform_(w, 1.0, gen);
  expect_uniform(w, std::sqrt(6.0 / (288 + 576)));
  init::xavier_normal_(w, 2.0, gen);
  expect_normal(w, 0.0, 2.0 * std::sqrt(2.0 / (288 + 576)));
}

TEST(Init, PlainFills) {
  Generator gen(9);
  Tensor t = Tensor::empty({100, 100});
  init::uniform_(t, 2.0, 4.0, gen);
  const Stats u = stats(t);
  EXPECT_GE(u.min, 2.0);
  EXPECT_LT(u.max, 4.0);
  EXPECT_NEAR(u.mean, 3.0, 0.03);
  init::normal_(t, -1.0, 0.5, gen);
  expect_normal(t, -1.0, 0.5);
  init::constant_(t, 0.75);
  EXPECT_EQ(stats(t).min, 0.75f);
  EXPECT_EQ(stats(t).max, 0.75f);
  init::ones_(t);
  EXPECT_EQ(stats(t).mean, 1.0);
  init::zeros_(t);
  EXPECT_EQ(stats(t).max, 0.0);
}

TEST(Init, GainsAndFans) {
  using init::Nonlinearity;
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(Nonlinearity::SELU), 0.75);
  EXPECT_EQ(init::fan_in_and_fan_out(Tensor::empty({7, 5})), (std::pair<std::int64_t, std::int64_t>{5, 7}));
  EXPECT_EQ(init::fan_in_and_fan_out(Tensor::empty({8, 4, 3, 2})), (std::pair<std::int64_t, std::int64_t>{24, 48}));
  Tensor vec = Tensor::empty({4});
  EXPECT_THROW(init::kaiming_uniform_(vec), Error);
  Tensor labels = Tensor::zeros({4}, DType::Int64);
  EXPECT_THROW(init::zeros_(labels), Error);
}

TEST(Init, LeavesStayLeavesWithoutHistory) {
  Linear fc(3, 3);
  init::normal_(fc.weight);
  EXPECT_TRUE(fc.weight.is_leaf());
  EXPECT_TRUE(fc.weight.requires_grad());
}

TEST(Init, SeedingReproduces) {
  manual_seed(42);
  Conv2d a(3, 8, 3);
  Dropout da;
  manual_seed(42);
  Conv2d b(3, 8, 3);
  Dropout db;
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_EQ(a.bias.to_vector<float>(), b.bias.to_vector<float>());
  EXPECT_EQ(da.generator.seed(), db.generator.seed());
  Conv2d c(3, 8, 3);  // the stream moved on
  EXPECT_NE(a.weight.to_vector<float>(), c.weight.to_vector<float>());
  Generator g1(3), g2(3);
  EXPECT_EQ(Linear(4, 4, true, g1).weight.to_vector<float>(), Linear(4, 4, true, g2).weight.to_vector<float>());
}

}  // namespace
}  // namespace sceald::nn
