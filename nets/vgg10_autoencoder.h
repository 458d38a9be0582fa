// The Auto-Encoder of Module A (SPEC): encoder g = "forward VGG10", decoder =
// "reverse VGG10". Built for one square input side S >= 32.
//
// Encoder (`encoder.`), VGG-A's eight 3x3 convolutions in torchvision's vgg11 numbering:
//   features.{0,3,6,8,11,13,16,18}   Conv2d 3x3, padding 1, widths 64,128,256,256,512,512,512,512,
//                                    each followed by ReLU (features.{1,4,7,9,12,14,17,19})
//   features.{2,5,10,15,20}          MaxPool2d(2, 2): S -> floor(S/2), five times, down to s = floor(S/32)
//   fc1   Linear(512*s*s -> h), then ReLU
//   fc2   Linear(h -> d), no ReLU: the code g(x) is linear
// Decoder (`decoder.`), the mirror image:
//   fc1   Linear(d -> h), then ReLU
//   fc2   Linear(h -> 512*s*s), then ReLU; reshaped to [N, 512, s, s]
//   features.{0,5,10,15,18}          Upsample (nearest) to the exact side the encoder had before
//                                    the matching pool: s -> ... -> S (1, 3, 6, 12, 24, 48 at 48;
//                                    1, 3, 6, 12, 25, 50 at 50)
//   features.{1,3,6,8,11,13,16,19}   Conv2d 3x3, padding 1: encoder conv a -> b becomes b -> a, in
//                                    reverse order, widths 512,512,512,256,256,128,64,in_channels;
//                                    ReLU after each (features.{2,4,7,9,12,14,17}) except the last,
//                                    so the reconstruction is linear in the normalised pixels.
//
// The width multiplier scales the convolution widths (and so the 512*s*s of
// the fully connected layers), rounded to the nearest integer, at least 1; h
// and d are given as they are.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace sceald::nets {

struct VGG10AutoEncoderOptions {
  std::int64_t side = 48;          // input height = width, at least 32
  std::int64_t in_channels = 3;    // 1 or 3; also the reconstruction's channels
  std::int64_t code_dim = 300;     // d: the word vectors' dimension
  std::int64_t hidden = 4096;      // h
  double width = 1.0;              // convolution width multiplier (1 = the paper's VGG10)
};

// The shape plan both halves follow.
struct VGG10Layout {
  std::vector<std::int64_t> conv_widths;    // the eight encoder output widths (scaled)
  std::vector<std::int64_t> sides;          // input side before each of the five pools, then s: 6 entries
  std::int64_t last_side() const { return sides.back(); }
  std::int64_t flat_dim() const { return conv_widths.back() * last_side() * last_side(); }  // 512 s s
};
VGG10Layout vgg10_layout(const VGG10AutoEncoderOptions& options);

// x [N, in_channels, S, S] -> g(x) [N, d].
class VGG10Encoder : public nn::Module {
 public:
  VGG10Encoder(const VGG10AutoEncoderOptions& options, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "VGG10Encoder"; }

  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> fc1, fc2;

 private:
  VGG10AutoEncoderOptions options_;
};

// code [N, d] -> reconstruction [N, in_channels, S, S].
class VGG10Decoder : public nn::Module {
 public:
  VGG10Decoder(const VGG10AutoEncoderOptions& options, Generator& gen);
  Tensor forward(const Tensor& code) override;
  std::string type_name() const override { return "VGG10Decoder"; }

  std::shared_ptr<nn::Linear> fc1, fc2;
  std::shared_ptr<nn::Sequential> features;

 private:
  VGG10AutoEncoderOptions options_;
  VGG10Layout layout_;
};

struct CodeAndReconstruction {
  Tensor code;            // g(x) [N, d]
  Tensor reconstruction;  // [N, in_channels, S, S]
};

class VGG10AutoEncoder : public nn::Module {
 public:
  // Convolutions initialised as torchvision's VGG (kaiming_normal, fan_out,
  // ReLU; zero bias); linear layers keep PyTorch's default. Drawn from `gen`.
  explicit VGG10AutoEncoder(const VGG10AutoEncoderOptions& options = {}, Generator& gen = nn::default_generator());

  Tensor encode(const Tensor& x) { return encoder->forward(x); }
  Tensor decode(const Tensor& code) { return decoder->forward(code); }
  // Both outputs of one pass (the code is computed once).
  CodeAndReconstruction forward_with_code(const Tensor& x);
  // The reconstruction alone (Module's single-output forward).
  Tensor forward(const Tensor& x) override { return forward_with_code(x).reconstruction; }
  std::string type_name() const override { return "VGG10AutoEncoder"; }

  const VGG10AutoEncoderOptions& options() const { return options_; }
  // The parameter count of an Auto-Encoder built with `options`, without building it.
  static std::int64_t count_parameters(const VGG10AutoEncoderOptions& options);

  std::shared_ptr<VGG10Encoder> encoder;
  std::shared_ptr<VGG10Decoder> decoder;

 private:
  VGG10AutoEncoderOptions options_;
};

}  // namespace sceald::nets
