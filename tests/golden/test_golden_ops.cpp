// Golden tests: each op's output and the gradients of all its inputs and
// parameters against PyTorch 1.13 (fixtures from tests/golden/make_fixtures.py).
// Every case runs backward with the fixture's upstream gradient g, which is
// what PyTorch's (out * g).sum().backward() propagated.
#include <gtest/gtest.h>

#include "engine/ops/activation.h"
#include "engine/ops/batch_norm.h"
#include "engine/ops/conv.h"
#include "engine/ops/linalg.h"
#include "engine/ops/loss.h"
#include "engine/ops/pooling.h"
#include "engine/ops/similarity.h"
#include "engine/ops/softmax.h"
#include "engine/ops/upsample.h"
#include "golden/golden.h"

namespace sceald::golden {
namespace {

TEST(GoldenOps, Conv2d) {
  const auto file = load_fixture("ops_conv2d.safetensors");
  for_each_case(file,
                {"k3_s1_p1", "k3_s1_p1_nobias", "k3_s2_p0_7x9", "k2x3_d2_p1x2", "k2x3_d2_p1x2_nobias",
                 "k3_s2x1_p1x0_d1x2", "k1", "k1_nobias", "k3_s1_p1_f32"},
                [](const GoldenCase& c) {
                  Tensor x = c.leaf("x"), weight = c.leaf("weight"), bias = c.optional_leaf("bias");
                  const Conv2dParams params{c.pair("stride"), c.pair("padding"), c.pair("dilation")};
                  Tensor out = conv2d(x, weight, bias, params);
                  EXPECT_TRUE(matches(out, c, "out"));
                  out.backward(c.tensor("g"));
                  EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
                  EXPECT_TRUE(matches(weight.grad(), c, "grad_weight"));
                  if (bias.defined()) EXPECT_TRUE(matches(bias.grad(), c, "grad_bias"));
                });
}

// Inputs have no ties, so each window's arg-max (and so the gradient) is unique.
TEST(GoldenOps, MaxPool2d) {
  const auto file = load_fixture("ops_max_pool2d.safetensors");
  for_each_case(file,
                {"k2_s2_6x8", "k3_s2_p1_7x7", "k3_s2_p1_6x5", "k3_s1_d2_7x7", "k2_s2_ceil_7x7", "k3_s2_ceil_7x7",
                 "k2_s2_ceil_5x6", "k3_s2_ceil_5x6", "k2_s2_p1_ceil_5x5"},
                [](const GoldenCase& c) {
                  Tensor x = c.leaf("x");
                  const MaxPool2dParams params{c.pair("kernel"), c.pair("stride"), c.pair("padding"),
                                               c.pair("dilation"), c.int_value("ceil_mode") != 0};
                  Tensor out = max_pool2d(x, params);
                  EXPECT_TRUE(matches(out, c, "out"));
                  out.backward(c.tensor("g"));
                  EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
                });
}

TEST(GoldenOps, AdaptiveAvgPool2d) {
  const auto file = load_fixture("ops_adaptive_avg_pool2d.safetensors");
  for_each_case(file, {"5x9_to_3x4", "7x7_to_7x7", "1x1_to_7x7", "6x6_to_4x4", "7x5_to_2x3"},
                [](const GoldenCase& c) {
                  Tensor x = c.leaf("x");
                  Tensor out = adaptive_avg_pool2d(x, c.pair("output_size"));
                  EXPECT_TRUE(matches(out, c, "out"));
                  out.backward(c.tensor("g"));
                  EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
                });
}

// momentum 0.1, eps 1e-5 (the generator's values). Training updates the
// running statistics in place; evaluation must leave them as they were.
TEST(GoldenOps, BatchNorm) {
  const auto file = load_fixture("ops_batch_norm.safetensors");
  for_each_case(file, {"train_4d", "train_2d", "eval_4d", "train_4d_f32"}, [](const GoldenCase& c) {
    Tensor x = c.leaf("x"), weight = c.leaf("weight"), bias = c.leaf("bias");
    Tensor running_mean = c.tensor("running_mean"), running_var = c.tensor("running_var");
    Tensor out = batch_norm(x, weight, bias, running_mean, running_var, c.int_value("training") != 0, 0.1, 1e-5);
    EXPECT_TRUE(matches(out, c, "out"));
    EXPECT_TRUE(matches(running_mean, c, "running_mean_after"));
    EXPECT_TRUE(matches(running_var, c, "running_var_after"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
    EXPECT_TRUE(matches(weight.grad(), c, "grad_weight"));
    EXPECT_TRUE(matches(bias.grad(), c, "grad_bias"));
  });
}

// "labels*" cases: int64 class indices; "probs*" cases: probability targets
// (PyTorch's F.cross_entropy with a float target). Mean over the batch.
TEST(GoldenOps, CrossEntropy) {
  const auto file = load_fixture("ops_cross_entropy.safetensors");
  for_each_case(file,
                {"labels", "labels_large_logits", "labels_f32", "probs", "probs_large_logits", "probs_f32"},
                [](const GoldenCase& c) {
                  Tensor logits = c.leaf("logits");
                  Tensor out = c.has("labels") ? cross_entropy(logits, c.tensor("labels"))
                                               : soft_cross_entropy(logits, c.tensor("target"));
                  EXPECT_TRUE(matches(out, c, "out"));
                  out.backward(c.tensor("g"));
                  EXPECT_TRUE(matches(logits.grad(), c, "grad_logits"));
                });
}

TEST(GoldenOps, MseLoss) {
  const auto file = load_fixture("ops_mse_loss.safetensors");
  for_each_case(file, {"2d", "4d"}, [](const GoldenCase& c) {
    Tensor a = c.leaf("a"), b = c.leaf("b");
    Tensor out = mse_loss(a, b);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(a.grad(), c, "grad_a"));
    EXPECT_TRUE(matches(b.grad(), c, "grad_b"));
  });
}

TEST(GoldenOps, Linear) {
  const auto file = load_fixture("ops_linear.safetensors");
  for_each_case(file, {"bias", "nobias", "bias_f32"}, [](const GoldenCase& c) {
    Tensor x = c.leaf("x"), weight = c.leaf("weight"), bias = c.optional_leaf("bias");
    Tensor out = linear(x, weight, bias);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
    EXPECT_TRUE(matches(weight.grad(), c, "grad_weight"));
    if (bias.defined()) EXPECT_TRUE(matches(bias.grad(), c, "grad_bias"));
  });
}

// Each case holds softmax (out, g, grad_x) and log-softmax (log_out, log_g,
// log_grad_x) of the same x; "2d_large" has logits of a few hundred.
TEST(GoldenOps, SoftmaxAndLogSoftmax) {
  const auto file = load_fixture("ops_softmax.safetensors");
  for_each_case(file, {"2d_axis1", "3d_axis1", "3d_axis_last", "2d_axis0", "2d_large"}, [](const GoldenCase& c) {
    const std::int64_t axis = c.int_value("axis");
    Tensor x = c.leaf("x");
    Tensor out = softmax(x, axis);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));

    Tensor x2 = c.leaf("x");
    Tensor log_out = log_softmax(x2, axis);
    EXPECT_TRUE(matches(log_out, c, "log_out"));
    log_out.backward(c.tensor("log_g"));
    EXPECT_TRUE(matches(x2.grad(), c, "log_grad_x"));
  });
}

// F.interpolate(mode="nearest"); the exact doublings also go through upsample_nearest2x.
TEST(GoldenOps, UpsampleNearest) {
  const auto file = load_fixture("ops_upsample_nearest.safetensors");
  for_each_case(file, {"1x1_to_3x3", "3x3_to_6x6", "2x3_to_5x4", "4x3_to_8x6"}, [](const GoldenCase& c) {
    const auto size = c.pair("output_size");
    Tensor x = c.leaf("x");
    Tensor out = upsample_nearest2d(x, size);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));

    const Tensor& input = c.expected("x");
    if (size[0] == 2 * input.size(2) && size[1] == 2 * input.size(3)) {
      SCOPED_TRACE("upsample_nearest2x");
      Tensor x2 = c.leaf("x");
      Tensor out2 = upsample_nearest2x(x2);
      EXPECT_TRUE(matches(out2, c, "out"));
      out2.backward(c.tensor("g"));
      EXPECT_TRUE(matches(x2.grad(), c, "grad_x"));
    }
  });
}

TEST(GoldenOps, Prelu) {
  const auto file = load_fixture("ops_prelu.safetensors");
  for_each_case(file, {"per_channel_4d", "shared_4d", "per_channel_2d"}, [](const GoldenCase& c) {
    Tensor x = c.leaf("x"), weight = c.leaf("weight");
    Tensor out = prelu(x, weight);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
    EXPECT_TRUE(matches(weight.grad(), c, "grad_weight"));
  });
}

// eps 1e-8 (PyTorch's default); "broadcast_b" compares [4, 6] with [1, 6].
TEST(GoldenOps, CosineSimilarity) {
  const auto file = load_fixture("ops_cosine_similarity.safetensors");
  for_each_case(file, {"2d_axis1", "3d_axis1", "3d_axis_last", "broadcast_b"}, [](const GoldenCase& c) {
    Tensor a = c.leaf("a"), b = c.leaf("b");
    Tensor out = cosine_similarity(a, b, c.int_value("axis"), 1e-8);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(a.grad(), c, "grad_a"));
    EXPECT_TRUE(matches(b.grad(), c, "grad_b"));
  });
}

// F.normalize(p=2, eps=1e-12).
TEST(GoldenOps, L2Normalize) {
  const auto file = load_fixture("ops_normalize.safetensors");
  for_each_case(file, {"2d_axis1", "3d_axis1", "3d_axis_last"}, [](const GoldenCase& c) {
    Tensor x = c.leaf("x");
    Tensor out = l2_normalize(x, c.int_value("axis"), 1e-12);
    EXPECT_TRUE(matches(out, c, "out"));
    out.backward(c.tensor("g"));
    EXPECT_TRUE(matches(x.grad(), c, "grad_x"));
  });
}

// The fixtures are what the generator says they are.
TEST(GoldenOps, FixturesRecordTheirOrigin) {
  for (const char* name : {"ops_conv2d.safetensors", "ops_batch_norm.safetensors"}) {
    SCOPED_TRACE(name);
    const auto file = load_fixture(name);
    ASSERT_TRUE(file.metadata.count("torch_version"));
    EXPECT_EQ(file.metadata.at("torch_version").rfind("1.13", 0), 0u) << file.metadata.at("torch_version");
    EXPECT_EQ(file.metadata.at("generator"), "tests/golden/make_fixtures.py");
  }
}

}  // namespace
}  // namespace sceald::golden
