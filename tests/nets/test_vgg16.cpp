// VGG16: torchvision's names, shapes and parameter count, the shapes at the
// input sides the project uses, the feature f(x), and input checks. The
// numbers themselves are compared with PyTorch in golden/test_golden_nets.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/ops/activation.h"
#include "engine/ops/layout.h"
#include "nets/vgg16.h"
#include "support/tolerance.h"

namespace sceald::nets {
namespace {

Tensor random_images(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return gen.normal(shape, 0.0, 1.0);
}

TEST(VGG16, ParameterCountMatchesTorchvision) {
  // torchvision.models.vgg16(): 138,357,544 parameters.
  EXPECT_EQ(VGG16::count_parameters({}), 138357544);
  // The same network with 7 classes and grey input (counted with the PyTorch twin in make_net_fixtures.py).
  EXPECT_EQ(VGG16::count_parameters({.num_classes = 7, .in_channels = 1}), 134288071);
  // The formula agrees with what the constructor builds, at widths where it is cheap to build.
  for (double width : {1.0 / 32, 0.1, 1.0 / 8}) {
    const VGG16Options options{.num_classes = 7, .in_channels = 1, .width = width};
    EXPECT_EQ(VGG16(options).parameter_count(), VGG16::count_parameters(options)) << "width " << width;
  }
}

// vgg16_bn: a BatchNorm2d after each of the 13 convolutions, in torchvision's numbering.
TEST(VGG16, BatchNormVariantHasTorchvisionsCountAndLayout) {
  // torchvision.models.vgg16_bn(): 138,365,992 parameters (vgg16's plus 2 per convolution channel).
  EXPECT_EQ(VGG16::count_parameters({.batch_norm = true}), 138365992);
  const VGG16Options options{.num_classes = 7, .in_channels = 1, .width = 1.0 / 16, .batch_norm = true};
  VGG16 net(options);
  EXPECT_EQ(net.parameter_count(), VGG16::count_parameters(options));
  EXPECT_EQ(net.type_name(), "VGG16BN");
  ASSERT_EQ(net.features->size(), 44u);
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : net.state_dict()) shapes[name] = t.shape();
  for (int conv : {0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40}) {
    EXPECT_TRUE(shapes.count("features." + std::to_string(conv) + ".weight")) << conv;
    EXPECT_TRUE(shapes.count("features." + std::to_string(conv + 1) + ".running_mean")) << conv + 1;
  }
  for (int pool : {6, 13, 23, 33, 43}) EXPECT_EQ((*net.features)[pool].type_name(), "MaxPool2d") << pool;
  EXPECT_EQ(shapes.at("features.41.weight"), (Shape{32}));
}

// torchvision's names in torchvision's order, and its shapes divided by 8
// (building the full network takes seconds: 138M random draws); at width 1
// the count above fixes every size.
TEST(VGG16, StateDictHasTorchvisionsNamesAndShapes) {
  VGG16 net({.num_classes = 1000, .in_channels = 3, .width = 1.0 / 8});
  std::vector<std::pair<std::string, Shape>> expected;
  const std::vector<std::pair<int, std::pair<std::int64_t, std::int64_t>>> convs = {
      {0, {3, 64}},     {2, {64, 64}},    {5, {64, 128}},   {7, {128, 128}},  {10, {128, 256}},
      {12, {256, 256}}, {14, {256, 256}}, {17, {256, 512}}, {19, {512, 512}}, {21, {512, 512}},
      {24, {512, 512}}, {26, {512, 512}}, {28, {512, 512}}};
  for (const auto& [index, io] : convs) {
    const std::int64_t in = index == 0 ? 3 : io.first / 8, out = io.second / 8;
    expected.push_back({"features." + std::to_string(index) + ".weight", {out, in, 3, 3}});
    expected.push_back({"features." + std::to_string(index) + ".bias", {out}});
  }
  expected.push_back({"classifier.0.weight", {512, 64 * 7 * 7}});
  expected.push_back({"classifier.0.bias", {512}});
  expected.push_back({"classifier.3.weight", {512, 512}});
  expected.push_back({"classifier.3.bias", {512}});
  expected.push_back({"classifier.6.weight", {1000, 512}});
  expected.push_back({"classifier.6.bias", {1000}});
  const auto state = net.state_dict();  // no buffers in VGG16
  ASSERT_EQ(state.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(state[i].first, expected[i].first);
    EXPECT_EQ(state[i].second.shape(), expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(net.feature_dim(), 512);
}

TEST(VGG16, ShapesAtTheProjectsInputSides) {
  VGG16 net({.num_classes = 7, .in_channels = 1, .width = 1.0 / 16});
  net.eval();
  NoGradGuard no_grad;
  EXPECT_EQ(net.feature_dim(), 256);
  // 48 (FERPlus): 48 -> 24 -> 12 -> 6 -> 3 -> 1, spread to 7x7; 32: the smallest side;
  // 100 (RAF-DB); a non-square input.
  for (const Shape& shape : {Shape{2, 1, 48, 48}, Shape{1, 1, 32, 32}, Shape{1, 1, 100, 100}, Shape{1, 1, 40, 72}}) {
    auto out = net.forward_with_feature(random_images(shape, 1));
    EXPECT_EQ(out.logits.shape(), (Shape{shape[0], 7})) << shape_str(shape);
    EXPECT_EQ(out.feature.shape(), (Shape{shape[0], 256})) << shape_str(shape);
  }
  VGG16 rgb({.num_classes = 3, .in_channels = 3, .width = 1.0 / 64});
  NoGradGuard again;
  EXPECT_EQ(rgb.forward(random_images({1, 3, 224, 224}, 2)).shape(), (Shape{1, 3}));
}

TEST(VGG16, FeatureIsFc6AfterReluAndLogitsMatchForward) {
  VGG16 net({.num_classes = 7, .in_channels = 1, .width = 1.0 / 16});
  net.eval();
  NoGradGuard no_grad;
  Tensor x = random_images({3, 1, 48, 48}, 3);
  auto out = net.forward_with_feature(x);
  EXPECT_TRUE(testing::all_close(out.logits, net.forward(x), {0.0, 0.0}));
  // f(x) = ReLU(fc6(avgpool(features(x)))), rebuilt from the layers.
  Tensor pooled = flatten(net.avgpool->forward(net.features->forward(x)), 1);
  Tensor fc6 = net.classifier->at<nn::Linear>(0).forward(pooled);
  EXPECT_TRUE(testing::all_close(out.feature, relu(fc6), {0.0, 0.0}));
  const auto values = out.feature.to_vector<float>();
  EXPECT_GE(*std::min_element(values.begin(), values.end()), 0.0f);
  EXPECT_GT(*std::max_element(values.begin(), values.end()), 0.0f);
}

TEST(VGG16, LayerLayoutAndDropout) {
  VGG16 net({.num_classes = 7, .in_channels = 1, .width = 0.001, .dropout = 0.3});
  ASSERT_EQ(net.features->size(), 31u);  // 13 convolutions, 13 ReLUs, 5 pools
  for (std::size_t i : {4u, 9u, 16u, 23u, 30u}) EXPECT_EQ((*net.features)[i].type_name(), "MaxPool2d") << i;
  // Tiny widths round up to one channel, and the hidden widths to 4 (4096 * 0.001 = 4.096).
  EXPECT_EQ(net.features->at<nn::Conv2d>(28).out_channels, 1);
  EXPECT_EQ(net.feature_dim(), 4);
  ASSERT_EQ(net.classifier->size(), 7u);
  EXPECT_DOUBLE_EQ(net.classifier->at<nn::Dropout>(2).p, 0.3);
  EXPECT_DOUBLE_EQ(net.classifier->at<nn::Dropout>(5).p, 0.3);
  // Dropout acts in training only: evaluation is deterministic.
  VGG16 wide({.num_classes = 7, .in_channels = 1, .width = 1.0 / 16, .dropout = 0.5});
  NoGradGuard no_grad;
  Tensor x = random_images({2, 1, 32, 32}, 4);
  wide.eval();
  Tensor a = wide.forward(x), b = wide.forward(x);
  EXPECT_TRUE(testing::all_close(a, b, {0.0, 0.0}));
  wide.train();
  EXPECT_FALSE(testing::all_close(wide.forward(x), a, {1e-6, 1e-6}));
}

TEST(VGG16, TorchvisionInitialisation) {
  VGG16 net({.num_classes = 7, .in_channels = 3, .width = 1.0 / 8});
  // Biases zero; fc weights N(0, 0.01); conv weights N(0, 2 / fan_out).
  for (const auto& [name, t] : net.named_parameters()) {
    if (name.find("bias") != std::string::npos) {
      const auto v = t.to_vector<float>();
      EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float b) { return b == 0.0f; })) << name;
    }
  }
  auto stddev = [](const Tensor& t) {
    const auto v = t.to_vector<float>();
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s / static_cast<double>(v.size()));
  };
  EXPECT_NEAR(stddev(net.classifier->at<nn::Linear>(0).weight), 0.01, 0.001);
  const auto& conv = net.features->at<nn::Conv2d>(10);  // 16 -> 32 channels at this width
  EXPECT_NEAR(stddev(conv.weight), std::sqrt(2.0 / (32 * 9)), 0.006);
}

TEST(VGG16, RejectsBadInputsAndOptions) {
  VGG16 net({.num_classes = 7, .in_channels = 1, .width = 1.0 / 32});
  NoGradGuard no_grad;
  EXPECT_THROW(net.forward(random_images({1, 3, 48, 48}, 5)), Error);  // channels
  EXPECT_THROW(net.forward(random_images({1, 1, 31, 48}, 5)), Error);  // too small
  EXPECT_THROW(net.forward(random_images({1, 48, 48}, 5)), Error);     // not 4-D
  EXPECT_THROW(VGG16({.num_classes = 0}), Error);
  EXPECT_THROW(VGG16({.width = 0.0}), Error);
  EXPECT_THROW(VGG16({.dropout = 1.0}), Error);
  try {
    net.forward(random_images({1, 1, 20, 20}, 5));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sceald::nets
