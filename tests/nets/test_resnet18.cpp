// ResNet-18: torchvision's names, shapes and parameter count, the feature,
// batch norm's two modes and input checks. The numbers themselves are
// compared with PyTorch in golden/test_golden_nets.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"
#include "nets/resnet18.h"
#include "support/tolerance.h"

namespace sceald::nets {
namespace {

Tensor random_images(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return gen.normal(shape, 0.0, 1.0);
}

TEST(ResNet18, ParameterCountAndStateDictMatchTorchvision) {
  ResNet18 net;
  EXPECT_EQ(net.parameter_count(), 11689512);  // torchvision.models.resnet18(): parameters only
  EXPECT_EQ(net.named_parameters().size(), 62u);
  const auto state = net.state_dict();
  EXPECT_EQ(state.size(), 122u);  // 62 parameters + 20 batch norms x 3 buffers
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : state) shapes[name] = t.shape();
  const std::map<std::string, Shape> expected = {
      {"conv1.weight", {64, 3, 7, 7}},
      {"bn1.running_var", {64}},
      {"bn1.num_batches_tracked", {}},
      {"layer1.0.conv1.weight", {64, 64, 3, 3}},
      {"layer1.1.bn2.bias", {64}},
      {"layer2.0.conv1.weight", {128, 64, 3, 3}},
      {"layer2.0.downsample.0.weight", {128, 64, 1, 1}},
      {"layer2.0.downsample.1.running_mean", {128}},
      {"layer3.1.conv2.weight", {256, 256, 3, 3}},
      {"layer4.0.downsample.0.weight", {512, 256, 1, 1}},
      {"layer4.1.bn2.weight", {512}},
      {"fc.weight", {1000, 512}},
      {"fc.bias", {1000}},
  };
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(shapes.count(name)) << name;
    EXPECT_EQ(shapes.at(name), shape) << name;
  }
  EXPECT_FALSE(shapes.count("layer1.0.downsample.0.weight"));  // layer1 keeps its width and stride
  EXPECT_FALSE(shapes.count("layer2.1.downsample.0.weight"));
  EXPECT_EQ(state.front().first, "conv1.weight");
  EXPECT_EQ(state.back().first, "fc.bias");
  EXPECT_EQ(net.feature_dim(), 512);
}

TEST(ResNet18, ShapesAndFeature) {
  ResNet18 net({.num_classes = 7, .in_channels = 1, .width = 1.0 / 8});
  net.eval();
  NoGradGuard no_grad;
  EXPECT_EQ(net.feature_dim(), 64);
  for (const Shape& shape : {Shape{2, 1, 48, 48}, Shape{1, 1, 100, 100}, Shape{1, 1, 17, 33}}) {
    Tensor x = random_images(shape, 1);
    auto out = net.forward_with_feature(x);
    EXPECT_EQ(out.logits.shape(), (Shape{shape[0], 7})) << shape_str(shape);
    EXPECT_EQ(out.feature.shape(), (Shape{shape[0], 64})) << shape_str(shape);
    EXPECT_TRUE(testing::all_close(out.logits, net.forward(x), {0.0, 0.0}));
    EXPECT_TRUE(testing::all_close(out.logits, net.fc->forward(out.feature), {0.0, 0.0}));
  }
}

// The stems differ only in conv1 (7x7 stride 2 or 3x3 stride 1) and the
// max-pool; their outputs are compared with PyTorch in test_golden_net_variants.cpp.
TEST(ResNet18, StemsChangeConv1AndNamesParse) {
  const ResNet18Options base{.num_classes = 7, .in_channels = 1, .width = 0.25};
  ResNet18 imagenet(base);
  ResNet18Options small_options = base, cifar_options = base;
  small_options.stem = ResNetStem::Small;
  cifar_options.stem = ResNetStem::Cifar;
  ResNet18 small(small_options), cifar(cifar_options);
  EXPECT_EQ(imagenet.conv1->weight.shape(), (Shape{16, 1, 7, 7}));
  EXPECT_EQ(small.conv1->weight.shape(), (Shape{16, 1, 3, 3}));
  EXPECT_EQ(cifar.conv1->weight.shape(), (Shape{16, 1, 3, 3}));
  EXPECT_EQ(imagenet.parameter_count() - small.parameter_count(), 16 * (49 - 9));
  EXPECT_EQ(small.parameter_count(), cifar.parameter_count());
  // Without the max-pool and the stride, every later layer sees 4x the pixels of the small stem:
  // an 8x8 input still leaves 1x1 at layer4 for cifar (8 / 8).
  cifar.eval();
  NoGradGuard no_grad;
  EXPECT_EQ(cifar.forward(random_images({1, 1, 8, 8}, 3)).shape(), (Shape{1, 7}));
  for (ResNetStem stem : {ResNetStem::ImageNet, ResNetStem::Small, ResNetStem::Cifar})
    EXPECT_EQ(parse_resnet_stem(resnet_stem_name(stem)), stem);
  try {
    parse_resnet_stem("tiny");
    FAIL() << "stem 'tiny' accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("imagenet, small, cifar"), std::string::npos) << e.what();
  }
}

TEST(ResNet18, TrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  ResNet18 net({.num_classes = 5, .in_channels = 3, .width = 1.0 / 16});
  Tensor x = random_images({4, 3, 32, 32}, 2);
  NoGradGuard no_grad;
  net.eval();
  Tensor eval_logits = net.forward(x);
  EXPECT_EQ(net.bn1->num_batches_tracked.item<std::int64_t>(), 0);
  net.train();
  Tensor train_logits = net.forward(x);
  EXPECT_EQ(net.bn1->num_batches_tracked.item<std::int64_t>(), 1);
  EXPECT_FALSE(testing::all_close(train_logits, eval_logits, {1e-4, 1e-4}));
  // After one step from mean 0 and momentum 0.1, the running mean moved away from 0.
  const auto mean = net.bn1->running_mean.to_vector<float>();
  double moved = 0;
  for (float m : mean) moved += std::abs(m);
  EXPECT_GT(moved, 0.0);
}

TEST(ResNet18, RejectsBadInputsAndOptions) {
  ResNet18 net({.num_classes = 7, .in_channels = 1, .width = 1.0 / 16});
  NoGradGuard no_grad;
  EXPECT_THROW(net.forward(random_images({1, 3, 32, 32}, 3)), Error);
  EXPECT_THROW(net.forward(random_images({32, 32}, 3)), Error);
  EXPECT_THROW(ResNet18({.num_classes = 0}), Error);
  EXPECT_THROW(ResNet18({.width = -1.0}), Error);
}

}  // namespace
}  // namespace sceald::nets
