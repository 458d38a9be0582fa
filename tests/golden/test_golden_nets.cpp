// The networks against their PyTorch twins (fixtures written by
// tests/golden/make_net_fixtures.py, at reduced widths): the state_dict loads
// strictly by name; evaluation outputs agree in float64 (to 1e-10 abs + 1e-8
// rel; PyTorch ran in float64 on the same float32-exact weights) and in
// float32 (1e-4 rel + 1e-5 abs times the largest |output|); one
// training-mode step in float64 gives the same loss, the same parameter
// gradients and (with batch norm) the same running statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduction.h"
#include "engine/ops/similarity.h"
#include "golden/golden.h"
#include "nets/resnet18.h"
#include "nets/sceald/semantic_loss.h"
#include "nets/vgg10_autoencoder.h"
#include "nets/vgg16.h"

namespace sceald::golden {
namespace {

std::int64_t config(const io::SafetensorsFile& file, const std::string& key) {
  return file.at("config." + key).to_vector<std::int64_t>().at(0);
}
double width(const io::SafetensorsFile& file) { return 1.0 / static_cast<double>(config(file, "width_inverse")); }

// Float32 outputs of ~20 layers: rounding errors grow with the size of the
// values summed, so the absolute part scales with the output's largest magnitude.
::testing::AssertionResult matches_f32(const Tensor& actual, const GoldenCase& c, const std::string& key) {
  double largest = 1.0;
  for (double v : c.expected(key).to_vector<double>()) largest = std::max(largest, std::abs(v));
  auto result = testing::all_close(actual, c.expected(key), {1e-5 * largest, 1e-4});
  if (!result) result << "\n(tensor " << key << " of case " << c.name() << ")";
  return result;
}

// Loads the fixture's "state.*" tensors strictly (every name must match both ways).
void load_state(nn::Module& net, const io::SafetensorsFile& file) {
  std::map<std::string, Tensor> state;
  const std::string prefix = "state.";
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = t;
  net.load_state_dict(state, /*strict=*/true);
}

// Compares the named gradients ("grad.<parameter>") of the case.
void expect_gradients(const nn::Module& net, const GoldenCase& c, const io::SafetensorsFile& file) {
  std::map<std::string, Tensor> params;
  for (const auto& [name, t] : net.named_parameters()) params[name] = t;
  const std::string prefix = c.name() + ".grad.";
  int checked = 0;
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string name = key.substr(prefix.size());
    ASSERT_TRUE(params.count(name)) << name;
    EXPECT_TRUE(matches(params.at(name).grad(), c, "grad." + name));
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

// One training-mode step in float64 with cross-entropy (batch statistics,
// running statistics updated): outputs, loss, the stored gradients, and every
// stored state after the step ("after.<name>", at least `min_after`).
template <typename Net>
void expect_train_step(Net& net, const GoldenCase& c, const io::SafetensorsFile& file, int min_after) {
  net.to(DType::Float64);
  net.train();
  auto out = net.forward_with_feature(c.tensor("x").to(DType::Float64));
  Tensor loss = cross_entropy(out.logits, c.tensor("labels"));
  loss.backward();
  EXPECT_TRUE(matches(out.logits, c, "logits"));
  EXPECT_TRUE(matches(out.feature, c, "feature"));
  EXPECT_TRUE(matches(loss, c, "loss"));
  expect_gradients(net, c, file);
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : net.state_dict()) state[name] = t;
  const std::string after = c.name() + ".after.";
  int stats = 0;
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind(after, 0) != 0) continue;
    const std::string name = key.substr(after.size());
    ASSERT_TRUE(state.count(name)) << name;
    if (t.dtype() == DType::Int64)
      EXPECT_EQ(state.at(name).to_vector<std::int64_t>(), c.ints("after." + name)) << name;
    else
      EXPECT_TRUE(matches(state.at(name), c, "after." + name)) << name;
    ++stats;
  }
  EXPECT_GE(stats, min_after);
}

// Runs `out(net, x)` in float64 and float32 and compares with the case's "<key>_f64" / "<key>_f32".
template <typename Net, typename Run>
void expect_eval_case(Net& net, const GoldenCase& c, Run run) {
  net.eval();
  for (DType dtype : {DType::Float64, DType::Float32}) {
    const std::string suffix = dtype == DType::Float64 ? "_f64" : "_f32";
    SCOPED_TRACE(suffix);
    net.to(dtype);  // float32 -> float64 -> float32 is exact: the weights are float32 values
    NoGradGuard no_grad;
    for (const auto& [key, value] : run(net, c.tensor("x").to(dtype))) {
      if (dtype == DType::Float64)
        EXPECT_TRUE(matches(value, c, key + suffix));
      else
        EXPECT_TRUE(matches_f32(value, c, key + suffix));
    }
  }
}

template <typename Net>
std::map<std::string, Tensor> logits_and_feature(Net& net, const Tensor& x) {
  auto out = net.forward_with_feature(x);
  return {{"logits", out.logits}, {"feature", out.feature}};
}

TEST(GoldenNets, VGG16) {
  const auto file = load_fixture("net_vgg16.safetensors");
  nets::VGG16Options options{.num_classes = config(file, "num_classes"),
                             .in_channels = config(file, "in_channels"), .width = width(file)};
  nets::VGG16 net(options);
  load_state(net, file);
  options.dropout = 0.0;  // the training case: dropout masks cannot be reproduced across libraries
  nets::VGG16 train_net(options);
  load_state(train_net, file);
  for_each_case(file, {"eval48", "eval64x96", "train"}, [&](const GoldenCase& c) {
    if (c.name() != "train") {
      expect_eval_case(net, c, logits_and_feature<nets::VGG16>);
      return;
    }
    expect_train_step(train_net, c, file, 0);
  });
}

TEST(GoldenNets, ResNet18) {
  const auto file = load_fixture("net_resnet18.safetensors");
  nets::ResNet18 net({.num_classes = config(file, "num_classes"), .in_channels = config(file, "in_channels"),
                      .width = width(file)});
  load_state(net, file);
  for_each_case(file, {"eval40", "eval64x48", "train"}, [&](const GoldenCase& c) {
    if (c.name() != "train") {
      expect_eval_case(net, c, logits_and_feature<nets::ResNet18>);
      return;
    }
    expect_train_step(net, c, file, 7);  // bn1, layer3.0.downsample.1 and layer4.1.bn2 statistics
  });
}

TEST(GoldenNets, VGG10AutoEncoder) {
  const auto file = load_fixture("net_vgg10_autoencoder.safetensors");
  nets::VGG10AutoEncoder ae({.side = config(file, "side"), .in_channels = config(file, "in_channels"),
                             .code_dim = config(file, "code_dim"), .hidden = config(file, "hidden"),
                             .width = width(file)});
  load_state(ae, file);
  for_each_case(file, {"eval50", "train"}, [&](const GoldenCase& c) {
    if (c.name() != "train") {
      expect_eval_case(ae, c, [](nets::VGG10AutoEncoder& n, const Tensor& x) {
        auto out = n.forward_with_code(x);
        return std::map<std::string, Tensor>{{"code", out.code}, {"reconstruction", out.reconstruction}};
      });
      return;
    }
    // SPEC Eq. 1 with gamma = 1: mse(x, x^) + mean_i (1 - cos(v_i, g(x_i))).
    ae.to(DType::Float64);
    ae.train();
    Tensor x = c.tensor("x").to(DType::Float64);
    auto out = ae.forward_with_code(x);
    Tensor loss = method::semantic_loss(x, out.reconstruction, out.code, c.tensor("targets"), 1.0).loss;
    loss.backward();
    EXPECT_TRUE(matches(out.code, c, "code"));
    EXPECT_TRUE(matches(loss, c, "loss"));
    expect_gradients(ae, c, file);
  });
}

// The variants the FERPlus recipe chose between: vgg16_bn (the generator
// checks its names against torchvision's own) and ResNet-18's small and cifar stems.
TEST(GoldenNets, VGG16BN) {
  const auto file = load_fixture("net_vgg16_bn.safetensors");
  nets::VGG16Options options{.num_classes = config(file, "num_classes"), .in_channels = config(file, "in_channels"),
                             .width = width(file), .batch_norm = true};
  nets::VGG16 net(options);
  load_state(net, file);
  options.dropout = 0.0;  // dropout masks cannot be reproduced across libraries
  nets::VGG16 train_net(options);
  load_state(train_net, file);
  for_each_case(file, {"eval48", "train"}, [&](const GoldenCase& c) {
    if (c.name() == "train")
      expect_train_step(train_net, c, file, 5);
    else
      expect_eval_case(net, c, logits_and_feature<nets::VGG16>);
  });
}

void check_resnet_stem(const std::string& fixture, nets::ResNetStem stem) {
  const auto file = load_fixture(fixture);
  nets::ResNet18 net({.num_classes = config(file, "num_classes"), .in_channels = config(file, "in_channels"),
                      .width = width(file), .stem = stem});
  load_state(net, file);
  for_each_case(file, {"eval48", "train"}, [&](const GoldenCase& c) {
    if (c.name() == "train")
      expect_train_step(net, c, file, 3);
    else
      expect_eval_case(net, c, logits_and_feature<nets::ResNet18>);
  });
}

TEST(GoldenNets, ResNet18SmallStem) { check_resnet_stem("net_resnet18_small.safetensors", nets::ResNetStem::Small); }
TEST(GoldenNets, ResNet18CifarStem) { check_resnet_stem("net_resnet18_cifar.safetensors", nets::ResNetStem::Cifar); }

}  // namespace
}  // namespace sceald::golden
