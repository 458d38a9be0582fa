// VGG16 (configuration D), the task network of Module C, in torchvision's
// layout so that torchvision's (and converted face-recognition) weights load
// by name:
//
//   features.{0,2,5,7,10,12,14,17,19,21,24,26,28}   Conv2d 3x3, padding 1, each followed by ReLU
//   features.{4,9,16,23,30}                         MaxPool2d(2, 2)
//   avgpool                                         AdaptiveAvgPool2d(7, 7)
//   classifier.0   Linear(512*7*7 -> 4096)   fc6     classifier.1 ReLU, classifier.2 Dropout
//   classifier.3   Linear(4096 -> 4096)      fc7     classifier.4 ReLU, classifier.5 Dropout
//   classifier.6   Linear(4096 -> num_classes) fc8
//
// Input [N, in_channels, H, W] with H, W >= 32 (five halvings leave at least
// 1x1; the adaptive pool then spreads it to 7x7, so fc6 always has 25088
// inputs at width 1, as in torchvision). Output logits [N, num_classes].
// The task feature f(x) (SPEC, Module C) is fc6's output after its ReLU,
// [N, 4096 * width], taken before dropout.
//
// Parameter count at width 1: 138,357,544 with 1000 classes.
//
// With batch_norm (torchvision's vgg16_bn) every convolution is followed by
// a BatchNorm2d before its ReLU, so the features are numbered
//   features.{0,3,7,10,14,17,20,24,27,30,34,37,40}  Conv2d, BatchNorm2d at +1, ReLU at +2
//   features.{6,13,23,33,43}                        MaxPool2d(2, 2)
// and the classifier is unchanged (138,365,992 parameters at width 1 with
// 1000 classes, the BatchNorm running statistics not counted).
#pragma once

#include <cstdint>
#include <memory>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace sceald::nets {

struct VGG16Options {
  std::int64_t num_classes = 1000;
  std::int64_t in_channels = 3;  // 1 (grey FERPlus) or 3
  // Scales every convolution width and the two 4096 hidden widths (for small
  // CPU runs); each is rounded to the nearest integer, at least 1. 1 = torchvision.
  double width = 1.0;
  double dropout = 0.5;  // p of classifier.2 and classifier.5
  bool batch_norm = false;  // vgg16_bn
};

// The logits and the task feature of one forward pass.
struct LogitsAndFeature {
  Tensor logits;   // [N, num_classes]
  Tensor feature;  // [N, feature_dim()], fc6 after ReLU
};

class VGG16 : public nn::Module {
 public:
  // Initialised as torchvision does: convolutions kaiming_normal (fan_out,
  // ReLU) with zero bias, batch norm weight 1 and bias 0, linear layers
  // N(0, 0.01) with zero bias; drawn from `gen`.
  explicit VGG16(const VGG16Options& options = {}, Generator& gen = nn::default_generator());

  Tensor forward(const Tensor& x) override;          // logits
  LogitsAndFeature forward_with_feature(const Tensor& x);  // one pass, both outputs
  std::string type_name() const override { return options_.batch_norm ? "VGG16BN" : "VGG16"; }

  std::int64_t feature_dim() const { return feature_dim_; }
  const VGG16Options& options() const { return options_; }

  // The parameter count of a VGG16 built with `options`, without building it.
  static std::int64_t count_parameters(const VGG16Options& options);

  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Sequential> classifier;

 private:
  Tensor pooled_features(const Tensor& x);  // through features and avgpool, flattened

  VGG16Options options_;
  std::int64_t feature_dim_;
};

}  // namespace sceald::nets
