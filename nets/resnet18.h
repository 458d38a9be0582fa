// ResNet-18 in torchvision's layout, so its weights load by name:
//
//   conv1 (7x7, stride 2, padding 3, no bias), bn1, ReLU, MaxPool2d(3, stride 2, padding 1)
//   layer1..layer4: two BasicBlocks each, widths 64, 128, 256, 512; the first
//     block of layer2..4 has stride 2 and a `downsample` = {0: Conv2d 1x1
//     stride 2 no bias, 1: BatchNorm2d}
//   BasicBlock: conv1 (3x3, stride, no bias), bn1, ReLU, conv2 (3x3, no bias),
//     bn2, + identity (or downsample(x)), ReLU
//   avgpool (AdaptiveAvgPool2d(1)), flatten, fc Linear(512 -> num_classes)
//
// Input [N, in_channels, H, W] with H, W >= 1; torchvision's own inputs are
// 224x224. The feature is the pooled 512-d vector (512 * width).
//
// The stem (ResNet18Options::stem) decides layer1's resolution:
//   imagenet  conv1 7x7 stride 2 padding 3, max-pool 3/2/1: input / 4 (torchvision)
//   small     conv1 3x3 stride 1 padding 1, max-pool 3/2/1: input / 2
//   cifar     conv1 3x3 stride 1 padding 1, no max-pool:    input / 1 (He et al.'s CIFAR nets)
// At 48x48 (FERPlus) the imagenet stem leaves layer4 at 2x2; the small stem
// leaves it at 3x3 with layer1 at 24x24. Only the imagenet stem loads
// torchvision's weights (conv1's shape differs otherwise).
// Parameter count (parameters only, not the BatchNorm buffers) at width 1
// with 1000 classes: 11,689,512.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/nn/layers.h"
#include "engine/rng.h"
#include "nets/vgg16.h"  // LogitsAndFeature

namespace sceald::nets {

enum class ResNetStem { ImageNet, Small, Cifar };
// "imagenet", "small", "cifar"; anything else is an error listing them.
ResNetStem parse_resnet_stem(const std::string& name);
const char* resnet_stem_name(ResNetStem stem);

struct ResNet18Options {
  std::int64_t num_classes = 1000;
  std::int64_t in_channels = 3;
  // Scales the widths 64, 128, 256, 512, each rounded to the nearest integer, at least 1.
  double width = 1.0;
  ResNetStem stem = ResNetStem::ImageNet;
};

// Two 3x3 convolutions with batch norm and a residual connection.
class BasicBlock : public nn::Module {
 public:
  BasicBlock(std::int64_t in_channels, std::int64_t channels, std::int64_t stride, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;  // null when the shapes already match
};

class ResNet18 : public nn::Module {
 public:
  // Initialised as torchvision does: convolutions kaiming_normal (fan_out,
  // ReLU), batch norm weight 1 and bias 0, fc PyTorch's default; drawn from `gen`.
  explicit ResNet18(const ResNet18Options& options = {}, Generator& gen = nn::default_generator());

  Tensor forward(const Tensor& x) override;                // logits
  LogitsAndFeature forward_with_feature(const Tensor& x);  // one pass: logits and the pooled feature
  std::string type_name() const override { return "ResNet18"; }

  std::int64_t feature_dim() const { return feature_dim_; }
  const ResNet18Options& options() const { return options_; }

  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

 private:
  Tensor pooled_feature(const Tensor& x);

  ResNet18Options options_;
  std::int64_t feature_dim_;
};

}  // namespace sceald::nets
