#include "nets/vgg16.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops/layout.h"

namespace sceald::nets {

namespace {

constexpr std::int64_t kPool = 0;  // marks a max-pool in the configuration
// Configuration D of Simonyan & Zisserman (torchvision's cfgs["D"]).
const std::vector<std::int64_t> kConfigD = {64,  64,  kPool, 128, 128, kPool, 256, 256, 256, kPool,
                                            512, 512, 512, kPool, 512, 512, 512, kPool};
constexpr std::int64_t kHidden = 4096;
constexpr std::int64_t kPooledSide = 7;

std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

void check_options(const VGG16Options& o) {
  SCEALD_CHECK(o.num_classes >= 1, "VGG16: num_classes must be at least 1, got ", o.num_classes);
  SCEALD_CHECK(o.in_channels >= 1, "VGG16: in_channels must be at least 1, got ", o.in_channels);
  SCEALD_CHECK(o.width > 0 && std::isfinite(o.width), "VGG16: the width multiplier must be positive, got ", o.width);
  SCEALD_CHECK(o.dropout >= 0 && o.dropout < 1, "VGG16: dropout must be in [0, 1), got ", o.dropout);
}

}  // namespace

VGG16::VGG16(const VGG16Options& options, Generator& gen) : options_(options) {
  check_options(options);
  features = register_module("features", std::make_shared<nn::Sequential>());
  std::int64_t channels = options.in_channels;
  for (std::int64_t c : kConfigD) {
    if (c == kPool) {
      features->emplace_back<nn::MaxPool2d>(2, 2);
      continue;
    }
    const std::int64_t out = scaled(c, options.width);
    auto conv = features->emplace_back<nn::Conv2d>(channels, out, 3, 1, 1, 1, true, gen);
    nn::init::kaiming_normal_(conv->weight, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU, gen);
    nn::init::zeros_(conv->bias);
    if (options.batch_norm) features->emplace_back<nn::BatchNorm2d>(out);
    features->emplace_back<nn::ReLU>();
    channels = out;
  }
  avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(kPooledSide));

  feature_dim_ = scaled(kHidden, options.width);
  classifier = register_module("classifier", std::make_shared<nn::Sequential>());
  const std::int64_t widths[] = {channels * kPooledSide * kPooledSide, feature_dim_, feature_dim_,
                                 options.num_classes};
  for (int i = 0; i < 3; ++i) {
    auto fc = classifier->emplace_back<nn::Linear>(widths[i], widths[i + 1], true, gen);
    nn::init::normal_(fc->weight, 0.0, 0.01, gen);
    nn::init::zeros_(fc->bias);
    if (i < 2) {
      classifier->emplace_back<nn::ReLU>();
      classifier->emplace_back<nn::Dropout>(options.dropout);
    }
  }
}

Tensor VGG16::pooled_features(const Tensor& x) {
  SCEALD_CHECK(x.defined() && x.dim() == 4, "VGG16: expected an input [N, C, H, W], got ",
               x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  SCEALD_CHECK(x.size(1) == options_.in_channels, "VGG16: the network takes ", options_.in_channels,
               " input channels, the input ", shape_str(x.shape()), " has ", x.size(1));
  SCEALD_CHECK(x.size(2) >= 32 && x.size(3) >= 32, "VGG16: the input side must be at least 32 (five 2x2 "
               "max-pools), got ", shape_str(x.shape()));
  return flatten(avgpool->forward(features->forward(x)), 1);
}

Tensor VGG16::forward(const Tensor& x) { return classifier->forward(pooled_features(x)); }

LogitsAndFeature VGG16::forward_with_feature(const Tensor& x) {
  Tensor y = pooled_features(x);
  // classifier.0 (fc6) and classifier.1 (its ReLU) give the feature; the rest continue from it.
  Tensor feature;
  for (std::size_t i = 0; i < classifier->size(); ++i) {
    y = (*classifier)[i].forward(y);
    if (i == 1) feature = y;
  }
  return {y, feature};
}

std::int64_t VGG16::count_parameters(const VGG16Options& options) {
  check_options(options);
  std::int64_t count = 0, channels = options.in_channels;
  for (std::int64_t c : kConfigD) {
    if (c == kPool) continue;
    const std::int64_t out = scaled(c, options.width);
    count += channels * out * 9 + out + (options.batch_norm ? 2 * out : 0);
    channels = out;
  }
  const std::int64_t hidden = scaled(kHidden, options.width);
  const std::int64_t fc_in = channels * kPooledSide * kPooledSide;
  return count + (fc_in + 1) * hidden + (hidden + 1) * hidden + (hidden + 1) * options.num_classes;
}

}  // namespace sceald::nets
