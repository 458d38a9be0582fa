#include "nets/vgg10_autoencoder.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops/activation.h"
#include "engine/ops/layout.h"

namespace sceald::nets {

namespace {

constexpr std::int64_t kPool = 0;  // marks a max-pool in the configuration
// VGG-A's convolutions and pools (torchvision's cfgs["A"]): SPEC's "VGG10" encoder.
const std::vector<std::int64_t> kConfigA = {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};

std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

void check_options(const VGG10AutoEncoderOptions& o) {
  SCEALD_CHECK(o.side >= 32, "VGG10AutoEncoder: the input side must be at least 32 (five 2x2 max-pools), got ",
               o.side);
  SCEALD_CHECK(o.in_channels >= 1, "VGG10AutoEncoder: in_channels must be at least 1, got ", o.in_channels);
  SCEALD_CHECK(o.code_dim >= 1, "VGG10AutoEncoder: the code dimension must be at least 1, got ", o.code_dim);
  SCEALD_CHECK(o.hidden >= 1, "VGG10AutoEncoder: the hidden width must be at least 1, got ", o.hidden);
  SCEALD_CHECK(o.width > 0 && std::isfinite(o.width), "VGG10AutoEncoder: the width multiplier must be positive, got ",
               o.width);
}

// Torchvision's VGG initialisation of a convolution.
void init_conv(nn::Conv2d& conv, Generator& gen) {
  nn::init::kaiming_normal_(conv.weight, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU, gen);
  nn::init::zeros_(conv.bias);
}

}  // namespace

VGG10Layout vgg10_layout(const VGG10AutoEncoderOptions& options) {
  check_options(options);
  VGG10Layout layout;
  std::int64_t side = options.side;
  for (std::int64_t c : kConfigA) {
    if (c == kPool) {
      layout.sides.push_back(side);
      side /= 2;  // MaxPool2d(2, 2) rounds down
    } else {
      layout.conv_widths.push_back(scaled(c, options.width));
    }
  }
  layout.sides.push_back(side);
  return layout;
}

// ---------------------------------------------------------------- encoder

VGG10Encoder::VGG10Encoder(const VGG10AutoEncoderOptions& options, Generator& gen) : options_(options) {
  const VGG10Layout layout = vgg10_layout(options);
  features = register_module("features", std::make_shared<nn::Sequential>());
  std::int64_t channels = options.in_channels;
  std::size_t k = 0;
  for (std::int64_t c : kConfigA) {
    if (c == kPool) {
      features->emplace_back<nn::MaxPool2d>(2, 2);
      continue;
    }
    const std::int64_t out = layout.conv_widths[k++];
    init_conv(*features->emplace_back<nn::Conv2d>(channels, out, 3, 1, 1, 1, true, gen), gen);
    features->emplace_back<nn::ReLU>();
    channels = out;
  }
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(layout.flat_dim(), options.hidden, true, gen));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(options.hidden, options.code_dim, true, gen));
}

Tensor VGG10Encoder::forward(const Tensor& x) {
  const std::int64_t S = options_.side;
  SCEALD_CHECK(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels && x.size(2) == S && x.size(3) == S,
               "VGG10Encoder: expected an input [N, ", options_.in_channels, ", ", S, ", ", S, "], got ",
               x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  Tensor h = relu(fc1->forward(flatten(features->forward(x), 1)));
  return fc2->forward(h);  // SPEC: g(x) is linear, no ReLU on the code
}

// ---------------------------------------------------------------- decoder

VGG10Decoder::VGG10Decoder(const VGG10AutoEncoderOptions& options, Generator& gen)
    : options_(options), layout_(vgg10_layout(options)) {
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(options.code_dim, options.hidden, true, gen));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(options.hidden, layout_.flat_dim(), true, gen));
  features = register_module("features", std::make_shared<nn::Sequential>());

  // Encoder conv k maps in_widths[k] -> conv_widths[k]; walk the encoder backwards.
  std::vector<std::int64_t> in_widths = {options.in_channels};
  in_widths.insert(in_widths.end(), layout_.conv_widths.begin(), layout_.conv_widths.end() - 1);
  auto k = static_cast<std::int64_t>(layout_.conv_widths.size()) - 1;
  auto pool = static_cast<std::int64_t>(layout_.sides.size()) - 2;
  for (auto it = kConfigA.rbegin(); it != kConfigA.rend(); ++it) {
    if (*it == kPool) {
      const std::int64_t side = layout_.sides[static_cast<std::size_t>(pool--)];
      features->emplace_back<nn::Upsample>(std::array<std::int64_t, 2>{side, side});
      continue;
    }
    const auto kk = static_cast<std::size_t>(k);
    init_conv(*features->emplace_back<nn::Conv2d>(layout_.conv_widths[kk], in_widths[kk], 3, 1, 1, 1, true, gen),
              gen);
    if (k > 0) features->emplace_back<nn::ReLU>();  // SPEC: the reconstruction is linear
    --k;
  }
}

Tensor VGG10Decoder::forward(const Tensor& code) {
  SCEALD_CHECK(code.defined() && code.dim() == 2 && code.size(1) == options_.code_dim,
               "VGG10Decoder: expected a code [N, ", options_.code_dim, "], got ",
               code.defined() ? shape_str(code.shape()) : "an undefined tensor");
  const std::int64_t s = layout_.last_side();
  Tensor h = relu(fc2->forward(relu(fc1->forward(code))));
  return features->forward(h.reshape({code.size(0), layout_.conv_widths.back(), s, s}));
}

// ---------------------------------------------------------------- the pair

VGG10AutoEncoder::VGG10AutoEncoder(const VGG10AutoEncoderOptions& options, Generator& gen) : options_(options) {
  check_options(options);
  encoder = register_module("encoder", std::make_shared<VGG10Encoder>(options, gen));
  decoder = register_module("decoder", std::make_shared<VGG10Decoder>(options, gen));
}

CodeAndReconstruction VGG10AutoEncoder::forward_with_code(const Tensor& x) {
  Tensor code = encoder->forward(x);
  return {code, decoder->forward(code)};
}

std::int64_t VGG10AutoEncoder::count_parameters(const VGG10AutoEncoderOptions& options) {
  const VGG10Layout layout = vgg10_layout(options);
  std::int64_t convs = 0, channels = options.in_channels;
  for (std::int64_t out : layout.conv_widths) {
    // Encoder a -> b and decoder b -> a: the same weights' count, biases b and a.
    convs += 2 * channels * out * 9 + out + channels;
    channels = out;
  }
  const std::int64_t h = options.hidden, d = options.code_dim, flat = layout.flat_dim();
  const std::int64_t encoder_fc = (flat + 1) * h + (h + 1) * d;
  const std::int64_t decoder_fc = (d + 1) * h + (h + 1) * flat;
  return convs + encoder_fc + decoder_fc;
}

}  // namespace sceald::nets
