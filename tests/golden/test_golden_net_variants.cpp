// The network variants the FERPlus recipe chose between, against their
// PyTorch twins (tests/golden/make_net_fixtures.py): VGG16 with batch norm in
// torchvision's vgg16_bn layout (the generator checks the names against
// torchvision's own), and ResNet-18 with the small and cifar stems
// (nets/resnet18.h). As in test_golden_nets.cpp: strict loading by name,
// evaluation in float64 and float32, one training step in float64 with its
// loss, gradients and running statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/loss.h"
#include "golden/golden.h"
#include "nets/resnet18.h"
#include "nets/vgg16.h"

namespace sceald::golden {
namespace {

std::int64_t config(const io::SafetensorsFile& file, const std::string& key) {
  return file.at("config." + key).to_vector<std::int64_t>().at(0);
}
double width(const io::SafetensorsFile& file) { return 1.0 / static_cast<double>(config(file, "width_inverse")); }

void load_state(nn::Module& net, const io::SafetensorsFile& file) {
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : file.tensors)
    if (name.rfind("state.", 0) == 0) state[name.substr(6)] = t;
  net.load_state_dict(state, /*strict=*/true);
}

// Evaluation mode in float64 (1e-10) and float32 (1e-4 rel + 1e-5 abs of the largest |value|).
template <typename Net>
void expect_eval(Net& net, const GoldenCase& c) {
  net.eval();
  for (DType dtype : {DType::Float64, DType::Float32}) {
    const std::string suffix = dtype == DType::Float64 ? "_f64" : "_f32";
    SCOPED_TRACE(suffix);
    net.to(dtype);
    NoGradGuard no_grad;
    const nets::LogitsAndFeature out = net.forward_with_feature(c.tensor("x").to(dtype));
    const std::vector<std::pair<std::string, Tensor>> outputs = {{"logits", out.logits}, {"feature", out.feature}};
    for (const auto& [key, value] : outputs) {
      const std::string name = key + suffix;
      if (dtype == DType::Float64) {
        EXPECT_TRUE(matches(value, c, name));
        continue;
      }
      double largest = 1.0;
      for (double v : c.expected(name).to_vector<double>()) largest = std::max(largest, std::abs(v));
      EXPECT_TRUE(testing::all_close(value, c.expected(name), {1e-5 * largest, 1e-4})) << name;
    }
  }
}

// One training-mode step in float64: outputs, loss, every stored gradient and running statistic.
template <typename Net>
void expect_train_step(Net& net, const GoldenCase& c, const io::SafetensorsFile& file) {
  net.to(DType::Float64);
  net.train();
  auto out = net.forward_with_feature(c.tensor("x").to(DType::Float64));
  Tensor loss = cross_entropy(out.logits, c.tensor("labels"));
  loss.backward();
  EXPECT_TRUE(matches(out.logits, c, "logits"));
  EXPECT_TRUE(matches(out.feature, c, "feature"));
  EXPECT_TRUE(matches(loss, c, "loss"));
  std::map<std::string, Tensor> params, state;
  for (const auto& [name, t] : net.named_parameters()) params[name] = t;
  for (const auto& [name, t] : net.state_dict()) state[name] = t;
  int grads = 0, stats = 0;
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind("train.grad.", 0) == 0) {
      const std::string name = key.substr(11);
      ASSERT_TRUE(params.count(name)) << name;
      EXPECT_TRUE(matches(params.at(name).grad(), c, "grad." + name)) << name;
      ++grads;
    } else if (key.rfind("train.after.", 0) == 0) {
      const std::string name = key.substr(12);
      ASSERT_TRUE(state.count(name)) << name;
      if (t.dtype() == DType::Int64)
        EXPECT_EQ(state.at(name).to_vector<std::int64_t>(), c.ints("after." + name)) << name;
      else
        EXPECT_TRUE(matches(state.at(name), c, "after." + name)) << name;
      ++stats;
    }
  }
  EXPECT_GE(grads, 6);
  EXPECT_GE(stats, 3);
}

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
      expect_train_step(train_net, c, file);
    else
      expect_eval(net, c);
  });
}

void check_resnet_stem(const std::string& fixture, nets::ResNetStem stem) {
  const auto file = load_fixture(fixture);
  nets::ResNet18 net({.num_classes = config(file, "num_classes"), .in_channels = config(file, "in_channels"),
                      .width = width(file), .stem = stem});
  load_state(net, file);
  for_each_case(file, {"eval48", "train"}, [&](const GoldenCase& c) {
    if (c.name() == "train")
      expect_train_step(net, c, file);
    else
      expect_eval(net, c);
  });
}

TEST(GoldenNets, ResNet18SmallStem) { check_resnet_stem("net_resnet18_small.safetensors", nets::ResNetStem::Small); }
TEST(GoldenNets, ResNet18CifarStem) { check_resnet_stem("net_resnet18_cifar.safetensors", nets::ResNetStem::Cifar); }

}  // namespace
}  // namespace sceald::golden
