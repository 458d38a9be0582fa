#include "nets/resnet18.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/pooling.h"

namespace sceald::nets {

namespace {

std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

// A bias-free convolution with torchvision's ResNet initialisation.
std::shared_ptr<nn::Conv2d> make_conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                      std::int64_t padding, Generator& gen) {
  auto conv = std::make_shared<nn::Conv2d>(in, out, kernel, stride, padding, 1, false, gen);
  nn::init::kaiming_normal_(conv->weight, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU, gen);
  return conv;
}

}  // namespace

ResNetStem parse_resnet_stem(const std::string& name) {
  if (name == "imagenet") return ResNetStem::ImageNet;
  if (name == "small") return ResNetStem::Small;
  if (name == "cifar") return ResNetStem::Cifar;
  throw Error(str_cat("unknown ResNet stem '", name, "' (known: imagenet, small, cifar)"));
}

const char* resnet_stem_name(ResNetStem stem) {
  switch (stem) {
    case ResNetStem::ImageNet: return "imagenet";
    case ResNetStem::Small: return "small";
    case ResNetStem::Cifar: return "cifar";
  }
  return "?";
}

// ---------------------------------------------------------------- BasicBlock

BasicBlock::BasicBlock(std::int64_t in_channels, std::int64_t channels, std::int64_t stride, Generator& gen) {
  conv1 = register_module("conv1", make_conv(in_channels, channels, 3, stride, 1, gen));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(channels));
  conv2 = register_module("conv2", make_conv(channels, channels, 3, 1, 1, gen));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(channels));
  if (stride != 1 || in_channels != channels) {
    downsample = register_module("downsample", std::make_shared<nn::Sequential>());
    downsample->push_back(make_conv(in_channels, channels, 1, stride, 0, gen));
    downsample->emplace_back<nn::BatchNorm2d>(channels);
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return relu(out + (downsample ? downsample->forward(x) : x));
}

// ---------------------------------------------------------------- ResNet18

ResNet18::ResNet18(const ResNet18Options& options, Generator& gen) : options_(options) {
  SCEALD_CHECK(options.num_classes >= 1, "ResNet18: num_classes must be at least 1, got ", options.num_classes);
  SCEALD_CHECK(options.in_channels >= 1, "ResNet18: in_channels must be at least 1, got ", options.in_channels);
  SCEALD_CHECK(options.width > 0 && std::isfinite(options.width),
               "ResNet18: the width multiplier must be positive, got ", options.width);
  const std::int64_t stem = scaled(64, options.width);
  const bool imagenet = options.stem == ResNetStem::ImageNet;
  conv1 = register_module("conv1", imagenet ? make_conv(options.in_channels, stem, 7, 2, 3, gen)
                                            : make_conv(options.in_channels, stem, 3, 1, 1, gen));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(stem));

  std::int64_t channels = stem;
  std::shared_ptr<nn::Sequential>* layers[] = {&layer1, &layer2, &layer3, &layer4};
  for (int i = 0; i < 4; ++i) {
    const std::int64_t out = scaled(std::int64_t{64} << i, options.width);
    const std::int64_t stride = i == 0 ? 1 : 2;
    auto layer = register_module("layer" + std::to_string(i + 1), std::make_shared<nn::Sequential>());
    layer->emplace_back<BasicBlock>(channels, out, stride, gen);
    layer->emplace_back<BasicBlock>(out, out, 1, gen);
    *layers[i] = layer;
    channels = out;
  }
  avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  fc = register_module("fc", std::make_shared<nn::Linear>(channels, options.num_classes, true, gen));
  feature_dim_ = channels;
}

Tensor ResNet18::pooled_feature(const Tensor& x) {
  SCEALD_CHECK(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels, "ResNet18: expected an input [N, ",
               options_.in_channels, ", H, W], got ", x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  Tensor y = relu(bn1->forward(conv1->forward(x)));
  if (options_.stem != ResNetStem::Cifar) {
    MaxPool2dParams pool;
    pool.kernel = {3, 3};
    pool.stride = {2, 2};
    pool.padding = {1, 1};
    y = max_pool2d(y, pool);
  }
  y = layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
  return flatten(avgpool->forward(y), 1);
}

Tensor ResNet18::forward(const Tensor& x) { return fc->forward(pooled_feature(x)); }

LogitsAndFeature ResNet18::forward_with_feature(const Tensor& x) {
  Tensor feature = pooled_feature(x);
  return {fc->forward(feature), feature};
}

}  // namespace sceald::nets
