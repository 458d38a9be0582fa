// Float64 gradient checks of the element-wise, reduction and layout ops.
#include <gtest/gtest.h>

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/reduction.h"
#include "support/gradcheck.h"

using namespace sceald;
using namespace sceald::testing;

TEST(GradcheckElementwise, BinaryOpsWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 5}, {3, 5}},           // same shape
      {{2, 3, 4, 5}, {}},         // scalar
      {{2, 3, 4, 5}, {1, 3, 1, 1}},  // per channel
      {{4, 1, 3}, {5, 1}},        // both sides broadcast
      {{7}, {1}},
  };
  for (const auto& [sa, sb] : cases) {
    SCOPED_TRACE(shape_str(sa) + " with " + shape_str(sb));
    Tensor a = random_input(sa, 1), b = random_input(sb, 2, 0.5, 1.5);  // b away from 0 for div
    EXPECT_TRUE(gradcheck([](const auto& x) { return add(x[0], x[1]); }, {a, b}));
    EXPECT_TRUE(gradcheck([](const auto& x) { return sub(x[0], x[1]); }, {a, b}));
    EXPECT_TRUE(gradcheck([](const auto& x) { return mul(x[0], x[1]); }, {a, b}));
    EXPECT_TRUE(gradcheck([](const auto& x) { return div(x[0], x[1]); }, {a, b}));
    EXPECT_TRUE(gradcheck([](const auto& x) { return div(x[1], x[0] * x[0] + 1.0); }, {a, b}));
  }
}

TEST(GradcheckElementwise, UnaryOps) {
  Tensor x = random_input({3, 7}, 3, 0.2, 2.0);  // positive for log, sqrt, pow
  EXPECT_TRUE(gradcheck([](const auto& v) { return neg(v[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return exp(v[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return log(v[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return sqrt(v[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return pow(v[0], 2.5); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return pow(v[0], -1.0); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return v[0] * 3.0 + 1.0; }, {x}));
}

TEST(GradcheckReduction, SumAndMeanOverAxes) {
  Tensor x = random_input({2, 3, 4, 5}, 4);
  EXPECT_TRUE(gradcheck([](const auto& v) { return sum(v[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return mean(v[0]); }, {x}));
  for (const std::vector<std::int64_t>& axes : std::vector<std::vector<std::int64_t>>{{0}, {1}, {3}, {-1}, {0, 2}, {1, 2}, {0, 1, 3}}) {
    for (bool keep : {false, true}) {
      EXPECT_TRUE(gradcheck([&](const auto& v) { return sum(v[0], axes, keep); }, {x}));
      EXPECT_TRUE(gradcheck([&](const auto& v) { return mean(v[0], axes, keep); }, {x}));
    }
  }
}

TEST(Reduction, ValuesOnStridedInput) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(x, {0}).to_vector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(x, {1}).to_vector<double>(), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum(x.transpose(0, 1), {1}).to_vector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(mean(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(mean(x).item<double>(), 3.5);
  EXPECT_THROW(sum(x, {2}), Error);
  EXPECT_THROW(sum(x, {0, 0}), Error);
}

TEST(GradcheckLayout, ViewTransposePermuteConcatFlatten) {
  Tensor x = random_input({2, 3, 4}, 5);
  Tensor y = random_input({2, 5, 4}, 6);
  EXPECT_TRUE(gradcheck([](const auto& v) { return v[0].view({6, 4}) * 2.0; }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return v[0].transpose(0, 2) * v[0].transpose(0, 2); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return v[0].transpose(1, 2).reshape({2, 12}); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return permute(v[0], {2, 0, 1}) * 1.5; }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return concat({v[0], v[1], v[0]}, 1); }, {x, y}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return flatten(v[0]) * 1.0; }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return broadcast_to(v[0], {3, 2, 3, 4}); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return v[0].clone().to(DType::Float32).to(DType::Float64); },
                        {random_input({3}, 7)}, {1e-3, 1e-4, 1e-3}));
}

TEST(Layout, ConcatValuesAndErrors) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6}, {2, 1});
  EXPECT_EQ(concat({a, b}, 1).to_vector<float>(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(permute(a, {1, 0}).to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
  try {
    (void)concat({a, b}, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("concat"), std::string::npos);
  }
  EXPECT_THROW(add(a, Tensor::zeros({3})), Error);
  EXPECT_THROW(add(a, Tensor::zeros({2, 2}, DType::Float64)), Error);
}
