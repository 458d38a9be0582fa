// Float64 gradient checks of the activations, dropout, softmax and log-softmax.
#include <gtest/gtest.h>

#include "engine/ops/activation.h"
#include "engine/ops/softmax.h"
#include "support/gradcheck.h"

using namespace sceald;
using namespace sceald::testing;

TEST(GradcheckActivation, Relu) {
  // distinct_input keeps every element at least gap/2 from the kink at 0.
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}}) {
    SCOPED_TRACE(shape_str(s));
    EXPECT_TRUE(gradcheck([](const auto& v) { return relu(v[0]); }, {distinct_input(s, 11, 0.05)}));
  }
}

TEST(GradcheckActivation, Sigmoid) {
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}}) {
    SCOPED_TRACE(shape_str(s));
    EXPECT_TRUE(gradcheck([](const auto& v) { return sigmoid(v[0]); }, {random_input(s, 12, -6.0, 6.0)}));
  }
}

TEST(GradcheckActivation, PreluPerChannelAndShared) {
  struct Case {
    Shape x, w;
  };
  for (const Case& c : {Case{{5, 3}, {3}}, Case{{2, 3, 4, 5}, {3}}, Case{{2, 3, 5}, {1}}, Case{{7}, {1}}}) {
    SCOPED_TRACE(shape_str(c.x) + " with weight " + shape_str(c.w));
    Tensor x = distinct_input(c.x, 13, 0.05);
    Tensor w = random_input(c.w, 14, 0.05, 0.6);
    EXPECT_TRUE(gradcheck([](const auto& v) { return prelu(v[0], v[1]); }, {x, w}));
  }
}

TEST(GradcheckActivation, PreluWeightOnlyAndInputOnly) {
  Tensor x = distinct_input({4, 3, 2}, 15, 0.05);
  Tensor w = random_input({3}, 16, 0.05, 0.6);
  Tensor x_fixed = x.detach().clone();
  Tensor w_fixed = w.detach().clone();
  EXPECT_TRUE(gradcheck([&](const auto& v) { return prelu(x_fixed, v[0]); }, {w}));
  EXPECT_TRUE(gradcheck([&](const auto& v) { return prelu(v[0], w_fixed); }, {x}));
}

TEST(GradcheckActivation, DropoutWithAFixedMask) {
  // A fresh generator of one seed inside f: every evaluation draws the same mask.
  for (double p : {0.0, 0.3, 0.75}) {
    SCOPED_TRACE(p);
    Tensor x = random_input({3, 7, 5}, 17);
    EXPECT_TRUE(gradcheck(
        [p](const auto& v) {
          Generator gen(99);
          return dropout(v[0], p, true, gen);
        },
        {x}));
  }
}

TEST(GradcheckSoftmax, AlongEveryAxisOf3D) {
  Tensor x = random_input({3, 4, 5}, 18, -3.0, 3.0);
  for (std::int64_t axis : {0, 1, 2, -1}) {
    SCOPED_TRACE(axis);
    EXPECT_TRUE(gradcheck([axis](const auto& v) { return softmax(v[0], axis); }, {x}));
    EXPECT_TRUE(gradcheck([axis](const auto& v) { return log_softmax(v[0], axis); }, {x}));
  }
}

TEST(GradcheckSoftmax, RowsAndStridedInput) {
  Tensor x = random_input({5, 7}, 19, -3.0, 3.0);
  EXPECT_TRUE(gradcheck([](const auto& v) { return softmax(v[0], 1); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return log_softmax(v[0], -1); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return softmax(v[0].transpose(0, 1), 1); }, {x}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return log_softmax(v[0].transpose(0, 1), 0); }, {x}));
  // A length-1 axis: softmax is constant 1, its gradient 0.
  EXPECT_TRUE(gradcheck([](const auto& v) { return softmax(v[0], 1); }, {random_input({4, 1}, 20)}));
}
