// The VGG10 Auto-Encoder of SPEC Module A: the pool/up-sampling sides, shapes
// at 48, 224 and an odd side, the layer layout and ReLU placement, parameter
// counts (by formula and against the PyTorch twin in make_net_fixtures.py),
// and a float64 gradient check of both outputs on a tiny instance.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/ops/layout.h"
#include "nets/vgg10_autoencoder.h"
#include "support/gradcheck.h"
#include "support/tolerance.h"

namespace sceald::nets {
namespace {

Tensor random_images(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return gen.normal(shape, 0.0, 1.0);
}

// Encoder convolutions a -> b and decoder b -> a each have 9ab weights; the
// biases are b and a; then the four linear layers.
std::int64_t formula_count(std::int64_t in, std::int64_t side, std::int64_t d, std::int64_t h,
                           const std::vector<std::int64_t>& widths) {
  std::int64_t s = side;
  for (int i = 0; i < 5; ++i) s /= 2;
  std::int64_t count = 0, a = in;
  for (std::int64_t b : widths) {
    count += 2 * 9 * a * b + a + b;
    a = b;
  }
  const std::int64_t flat = widths.back() * s * s;
  return count + (flat * h + h) + (h * d + d) + (d * h + h) + (h * flat + flat);
}

TEST(VGG10AutoEncoder, PoolAndUpsamplingSides) {
  EXPECT_EQ(vgg10_layout({.side = 48}).sides, (std::vector<std::int64_t>{48, 24, 12, 6, 3, 1}));
  EXPECT_EQ(vgg10_layout({.side = 224}).sides, (std::vector<std::int64_t>{224, 112, 56, 28, 14, 7}));
  EXPECT_EQ(vgg10_layout({.side = 50}).sides, (std::vector<std::int64_t>{50, 25, 12, 6, 3, 1}));
  EXPECT_EQ(vgg10_layout({.side = 100}).sides, (std::vector<std::int64_t>{100, 50, 25, 12, 6, 3}));
  EXPECT_EQ(vgg10_layout({.side = 48}).conv_widths,
            (std::vector<std::int64_t>{64, 128, 256, 256, 512, 512, 512, 512}));
  EXPECT_EQ(vgg10_layout({.side = 48, .width = 1.0 / 64}).conv_widths,
            (std::vector<std::int64_t>{1, 2, 4, 4, 8, 8, 8, 8}));
  EXPECT_THROW(vgg10_layout({.side = 31}), Error);
}

TEST(VGG10AutoEncoder, ShapesAt48And224AndAnOddSide) {
  struct Case {
    std::int64_t side, channels;
  };
  for (const Case& c : {Case{48, 1}, Case{224, 3}, Case{50, 3}, Case{32, 1}}) {
    SCOPED_TRACE("side " + std::to_string(c.side));
    VGG10AutoEncoder ae({.side = c.side, .in_channels = c.channels, .code_dim = 7, .hidden = 16, .width = 1.0 / 32});
    NoGradGuard no_grad;
    Tensor x = random_images({2, c.channels, c.side, c.side}, 1);
    auto out = ae.forward_with_code(x);
    EXPECT_EQ(out.code.shape(), (Shape{2, 7}));
    EXPECT_EQ(out.reconstruction.shape(), (Shape{2, c.channels, c.side, c.side}));
    EXPECT_TRUE(testing::all_close(ae.encode(x), out.code, {0.0, 0.0}));
    EXPECT_TRUE(testing::all_close(ae.decode(out.code), out.reconstruction, {0.0, 0.0}));
    EXPECT_TRUE(testing::all_close(ae.forward(x), out.reconstruction, {0.0, 0.0}));
  }
}

TEST(VGG10AutoEncoder, LayerLayoutAndReluPlacement) {
  VGG10AutoEncoder ae({.side = 50, .in_channels = 3, .code_dim = 5, .hidden = 8, .width = 1.0 / 32});
  const auto& enc = *ae.encoder->features;
  const auto& dec = *ae.decoder->features;
  ASSERT_EQ(enc.size(), 21u);
  ASSERT_EQ(dec.size(), 20u);
  std::string enc_types, dec_types;
  for (std::size_t i = 0; i < enc.size(); ++i) enc_types += enc[i].type_name().substr(0, 1);
  for (std::size_t i = 0; i < dec.size(); ++i) dec_types += dec[i].type_name().substr(0, 1);
  // C = Conv2d, R = ReLU, M = MaxPool2d, U = Upsample: a ReLU after every
  // encoder convolution, after every decoder convolution but the last.
  EXPECT_EQ(enc_types, "CRMCRMCRCRMCRCRMCRCRM");
  EXPECT_EQ(dec_types, "UCRCRUCRCRUCRCRUCRUC");
  // Each up-sampling restores the side the encoder had before the matching pool.
  const std::vector<std::pair<std::size_t, std::int64_t>> ups = {{0, 3}, {5, 6}, {10, 12}, {15, 25}, {18, 50}};
  for (const auto& [index, side] : ups) {
    const auto& up = dec.at<nn::Upsample>(index);
    ASSERT_TRUE(up.size.has_value()) << index;
    EXPECT_EQ((*up.size)[0], side) << index;
    EXPECT_EQ((*up.size)[1], side) << index;
  }
  // Decoder convolution k mirrors encoder convolution k: a -> b becomes b -> a.
  const std::vector<std::size_t> enc_convs = {0, 3, 6, 8, 11, 13, 16, 18};
  const std::vector<std::size_t> dec_convs = {19, 16, 13, 11, 8, 6, 3, 1};
  for (std::size_t k = 0; k < 8; ++k) {
    const auto& e = enc.at<nn::Conv2d>(enc_convs[k]);
    const auto& d = dec.at<nn::Conv2d>(dec_convs[k]);
    EXPECT_EQ(d.in_channels, e.out_channels) << k;
    EXPECT_EQ(d.out_channels, e.in_channels) << k;
    EXPECT_EQ(d.kernel_size, 3);
    EXPECT_EQ(d.params.padding, (std::array<std::int64_t, 2>{1, 1}));
  }
  EXPECT_EQ(dec.at<nn::Conv2d>(19).out_channels, 3);
  // Parameter names.
  std::vector<std::string> names;
  for (const auto& [name, t] : ae.named_parameters()) names.push_back(name);
  ASSERT_EQ(names.size(), 40u);
  EXPECT_EQ(names.front(), "encoder.features.0.weight");
  EXPECT_EQ(names[16], "encoder.fc1.weight");
  EXPECT_EQ(names[19], "encoder.fc2.bias");
  EXPECT_EQ(names[20], "decoder.fc1.weight");
  EXPECT_EQ(names[23], "decoder.fc2.bias");
  EXPECT_EQ(names[24], "decoder.features.1.weight");
  EXPECT_EQ(names.back(), "decoder.features.19.bias");
  EXPECT_EQ(ae.encoder->fc1->in_features, 16 * 1 * 1);
  EXPECT_EQ(ae.decoder->fc2->out_features, 16 * 1 * 1);
}

TEST(VGG10AutoEncoder, CodeAndReconstructionAreLinear) {
  // No ReLU at either end: both the code and the reconstruction take negative values.
  VGG10AutoEncoder ae({.side = 48, .in_channels = 1, .code_dim = 16, .hidden = 32, .width = 1.0 / 16});
  NoGradGuard no_grad;
  auto out = ae.forward_with_code(random_images({4, 1, 48, 48}, 2));
  const auto code = out.code.to_vector<float>();
  const auto recon = out.reconstruction.to_vector<float>();
  EXPECT_LT(*std::min_element(code.begin(), code.end()), 0.0f);
  EXPECT_GT(*std::max_element(code.begin(), code.end()), 0.0f);
  EXPECT_LT(*std::min_element(recon.begin(), recon.end()), 0.0f);
  EXPECT_GT(*std::max_element(recon.begin(), recon.end()), 0.0f);
}

TEST(VGG10AutoEncoder, ParameterCounts) {
  // Against the PyTorch twin in tests/golden/make_net_fixtures.py.
  EXPECT_EQ(VGG10AutoEncoder::count_parameters({.side = 48, .in_channels = 3, .code_dim = 300}), 25101359);
  EXPECT_EQ(VGG10AutoEncoder::count_parameters({.side = 224, .in_channels = 3, .code_dim = 300}), 226452527);
  const VGG10AutoEncoderOptions small{.side = 50, .in_channels = 1, .code_dim = 7, .hidden = 16, .width = 1.0 / 16};
  EXPECT_EQ(VGG10AutoEncoder::count_parameters(small), 73704);
  EXPECT_EQ(VGG10AutoEncoder(small).parameter_count(), 73704);
  // By the formula, built at several sizes.
  const std::vector<std::int64_t> full = {64, 128, 256, 256, 512, 512, 512, 512};
  EXPECT_EQ(VGG10AutoEncoder::count_parameters({.side = 48, .in_channels = 3, .code_dim = 300}),
            formula_count(3, 48, 300, 4096, full));
  EXPECT_EQ(VGG10AutoEncoder::count_parameters({.side = 224, .in_channels = 1, .code_dim = 300}),
            formula_count(1, 224, 300, 4096, full));
  const VGG10AutoEncoderOptions at100{.side = 100, .in_channels = 3, .code_dim = 9, .hidden = 20, .width = 1.0 / 8};
  EXPECT_EQ(VGG10AutoEncoder(at100).parameter_count(), formula_count(3, 100, 9, 20, {8, 16, 32, 32, 64, 64, 64, 64}));
}

TEST(VGG10AutoEncoder, RejectsBadInputs) {
  VGG10AutoEncoder ae({.side = 48, .in_channels = 1, .code_dim = 5, .hidden = 8, .width = 1.0 / 32});
  NoGradGuard no_grad;
  EXPECT_THROW(ae.encode(random_images({1, 1, 50, 50}, 3)), Error);  // built for 48
  EXPECT_THROW(ae.encode(random_images({1, 3, 48, 48}, 3)), Error);  // channels
  EXPECT_THROW(ae.decode(random_images({1, 6}, 3)), Error);          // code dimension
  EXPECT_THROW(VGG10AutoEncoder({.side = 16}), Error);
  EXPECT_THROW(VGG10AutoEncoder({.code_dim = 0}), Error);
}

TEST(VGG10AutoEncoder, GradcheckBothOutputsFloat64) {
  nn::manual_seed(11);
  VGG10AutoEncoder ae({.side = 32, .in_channels = 1, .code_dim = 4, .hidden = 6, .width = 1.0 / 64});
  ae.to(DType::Float64);
  Tensor x = testing::distinct_input({1, 1, 32, 32}, 5, 0.01);
  // The input and a parameter of each part: first and last layers of both halves.
  std::vector<Tensor> inputs = {x, ae.encoder->features->at<nn::Conv2d>(0).weight, ae.encoder->fc2->weight,
                                ae.decoder->fc1->weight, ae.decoder->features->at<nn::Conv2d>(19).weight,
                                ae.decoder->features->at<nn::Conv2d>(19).bias};
  // A check is only as good as the gradients are alive: each must have non-zero entries.
  auto expect_nonzero_grads = [](const std::vector<Tensor>& leaves) {
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      ASSERT_TRUE(leaves[i].grad().defined()) << "input " << i;
      const auto g = leaves[i].grad().to_vector<double>();
      EXPECT_TRUE(std::any_of(g.begin(), g.end(), [](double v) { return v != 0.0; })) << "input " << i;
    }
  };
  {
    SCOPED_TRACE("code");
    const std::vector<Tensor> encoder_inputs = {inputs[0], inputs[1], inputs[2]};
    EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return ae.encode(in[0]); }, encoder_inputs));
    expect_nonzero_grads(encoder_inputs);
  }
  {
    SCOPED_TRACE("reconstruction");
    EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return ae.forward(in[0]); }, inputs));
    expect_nonzero_grads(inputs);
  }
}

}  // namespace
}  // namespace sceald::nets
