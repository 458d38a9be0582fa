// conv2d, max_pool2d, adaptive_avg_pool2d and nearest up-sampling: float64
// gradient checks, hand-computed values and shape rules, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/autograd/node.h"
#include "engine/error.h"
#include "engine/nn/layers.h"
#include "engine/ops/activation.h"
#include "engine/ops/conv.h"
#include "engine/ops/pooling.h"
#include "engine/ops/upsample.h"
#include "kernels/cpu/pooling.h"
#include "support/gradcheck.h"

using namespace sceald;
using namespace sceald::testing;

namespace {

struct ConvCase {
  Shape x;       // [N, C, H, W]
  Shape weight;  // [O, C, kh, kw]
  Conv2dParams params;
  bool bias;
};

std::string conv_case_str(const ConvCase& c) {
  return str_cat("x ", shape_str(c.x), " w ", shape_str(c.weight), " stride [", c.params.stride[0], ", ",
                 c.params.stride[1], "] padding [", c.params.padding[0], ", ", c.params.padding[1], "] dilation [",
                 c.params.dilation[0], ", ", c.params.dilation[1], "]", c.bias ? " bias" : "");
}

// Runs f and expects an Error whose message holds every one of `parts`.
template <typename F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "expected an error mentioning " << *parts.begin();
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(GradcheckConv, Conv2dConfigurations) {
  const std::vector<ConvCase> cases = {
      {{2, 3, 7, 5}, {4, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},   // 3x3 "same"
      {{2, 3, 7, 5}, {5, 3, 1, 1}, {{1, 1}, {0, 0}, {1, 1}}, true},   // pointwise: no im2col
      {{2, 3, 7, 5}, {3, 3, 1, 1}, {{2, 2}, {0, 0}, {1, 1}}, false},  // 1x1 with stride 2
      {{1, 2, 7, 5}, {3, 2, 2, 3}, {{2, 2}, {1, 2}, {1, 1}}, true},   // 2x3 kernel, stride 2, padding 1/2
      {{2, 3, 7, 6}, {2, 3, 3, 3}, {{1, 1}, {2, 2}, {2, 2}}, true},   // dilation 2
      {{1, 5, 6, 7}, {3, 5, 3, 3}, {{2, 1}, {0, 1}, {1, 1}}, false},  // unequal strides
      {{2, 3, 5, 5}, {3, 3, 5, 5}, {{1, 1}, {0, 0}, {1, 1}}, true},   // kernel as large as the input
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(conv_case_str(c));
    Tensor x = random_input(c.x, 1), w = random_input(c.weight, 2), b = random_input({c.weight[0]}, 3);
    const Conv2dParams p = c.params;
    if (c.bias)
      EXPECT_TRUE(gradcheck([p](const auto& v) { return conv2d(v[0], v[1], v[2], p); }, {x, w, b}));
    else
      EXPECT_TRUE(gradcheck([p](const auto& v) { return conv2d(v[0], v[1], Tensor(), p); }, {x, w}));
  }
}

TEST(GradcheckConv, Conv2dReluFused) {
  // Kinks: random inputs put no pre-activation within eps of 0 (checked by the gradcheck's own tolerance).
  for (bool bias : {true, false}) {
    Tensor x = random_input({2, 3, 6, 5}, 11), w = random_input({4, 3, 3, 3}, 12), b = random_input({4}, 13);
    const Conv2dParams p{{1, 1}, {1, 1}, {1, 1}};
    if (bias)
      EXPECT_TRUE(gradcheck([p](const auto& v) { return conv2d_relu(v[0], v[1], v[2], p); }, {x, w, b}));
    else
      EXPECT_TRUE(gradcheck([p](const auto& v) { return conv2d_relu(v[0], v[1], Tensor(), p); }, {x, w}));
  }
}

TEST(Conv, FusedReluEqualsReluOfConvAndSequentialUsesIt) {
  // Exactly the same numbers as the unfused pair, forward and backward, both
  // as an op and through nn::Sequential (which fuses Conv2d + ReLU).
  Generator gen(21);
  auto seq = std::make_shared<nn::Sequential>();
  seq->emplace_back<nn::Conv2d>(3, 5, 3, 1, 1, 1, true, gen);
  seq->emplace_back<nn::ReLU>();
  seq->emplace_back<nn::Conv2d>(5, 2, 1, 1, 0, 1, true, gen);
  seq->to(DType::Float64);
  Tensor x = random_input({2, 3, 7, 6}, 22);
  Tensor y = seq->forward(x);
  EXPECT_STREQ(y.grad_fn()->name(), "Conv2dBackward");  // the last conv has no ReLU after it
  const Tensor gy = random_input(y.shape(), 23);
  y.backward(gy);
  const auto& conv0 = static_cast<nn::Conv2d&>((*seq)[0]);
  const auto& conv2 = static_cast<nn::Conv2d&>((*seq)[2]);
  const std::vector<double> fused_gx = x.grad().to_vector<double>(), fused_gw = conv0.weight.grad().to_vector<double>();
  const std::vector<double> fused_y = y.to_vector<double>();

  Tensor x2 = x.detach();
  x2.set_requires_grad(true);
  Tensor w0 = conv0.weight.detach(), b0 = conv0.bias.detach();
  w0.set_requires_grad(true);
  Tensor y2 = conv2d(relu(conv2d(x2, w0, b0, conv0.params)), conv2.weight.detach(), conv2.bias.detach(), conv2.params);
  y2.backward(gy);
  EXPECT_EQ(fused_y, y2.to_vector<double>());
  EXPECT_EQ(fused_gx, x2.grad().to_vector<double>());
  EXPECT_EQ(fused_gw, w0.grad().to_vector<double>());

  Tensor z = conv2d_relu(x2.detach(), w0.detach(), b0, conv0.params);
  EXPECT_STREQ(z.grad_fn() ? z.grad_fn()->name() : "none", "none");  // nothing requires grad
  EXPECT_EQ(z.to_vector<double>(), relu(conv2d(x2.detach(), w0.detach(), b0, conv0.params)).to_vector<double>());
}

TEST(Conv, SkipsGradientsNobodyNeeds) {
  Tensor x = random_input({1, 2, 4, 4}, 4);
  Tensor w = Tensor::ones({3, 2, 3, 3}, DType::Float64);  // no gradient wanted
  Tensor y = conv2d(x, w, Tensor(), {{1, 1}, {1, 1}, {1, 1}});
  y.backward(Tensor::ones(y.shape(), DType::Float64));
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // A centre pixel is read by all 9 taps of all 3 filters: 27; a corner by 4 taps: 12.
  const std::vector<double> gx = x.grad().to_vector<double>();
  EXPECT_EQ(gx[1 * 4 + 1], 27.0);
  EXPECT_EQ(gx[0], 12.0);
}

TEST(Conv, BadInputsNameConv2dAndShapes) {
  const Tensor x = Tensor::zeros({2, 3, 5, 5}), w = Tensor::zeros({4, 3, 3, 3});
  expect_error([&] { conv2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor()); }, {"conv2d", "channels", "[2, 3, 5, 5]"});
  expect_error([&] { conv2d(Tensor::zeros({3, 5, 5}), w, Tensor()); }, {"conv2d", "4 dimensions", "[3, 5, 5]"});
  expect_error([&] { conv2d(x, Tensor::zeros({4, 3, 7, 7}), Tensor()); }, {"conv2d", "larger than the padded input"});
  expect_error([&] { conv2d(x, w, Tensor(), {{1, 1}, {0, 0}, {3, 3}}); }, {"conv2d", "dilation"});  // spans 7x7
  expect_error([&] { conv2d(x, w, Tensor::zeros({3})); }, {"conv2d", "bias"});
  expect_error([&] { conv2d(x, w, Tensor(), {{0, 1}, {0, 0}, {1, 1}}); }, {"conv2d", "stride"});
  expect_error([&] { conv2d(x, w.to(DType::Float64), Tensor()); }, {"conv2d", "dtypes"});
  // The kernel fits once padded.
  EXPECT_EQ(conv2d(x, Tensor::zeros({4, 3, 7, 7}), Tensor(), {{1, 1}, {1, 1}, {1, 1}}).shape(), (Shape{2, 4, 1, 1}));
}

TEST(GradcheckPool, MaxPool2d) {
  struct Case {
    Shape x;
    MaxPool2dParams p;
  };
  const std::vector<Case> cases = {
      {{2, 3, 6, 8}, {{2, 2}, {2, 2}, {0, 0}, {1, 1}, false}},
      {{1, 2, 7, 7}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}, false}},
      {{1, 2, 7, 7}, {{2, 2}, {2, 2}, {0, 0}, {1, 1}, true}},
      {{2, 2, 5, 6}, {{2, 2}, {2, 2}, {0, 0}, {1, 1}, true}},
      {{1, 2, 5, 6}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}, true}},
      {{1, 2, 5, 5}, {{2, 2}, {2, 2}, {1, 1}, {1, 1}, true}},  // ceil_mode drops a window in the padding
      {{1, 2, 7, 6}, {{2, 3}, {1, 2}, {1, 1}, {2, 1}, false}},  // dilation, unequal axes
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "case " << i << " x " << shape_str(cases[i].x));
    Tensor x = distinct_input(cases[i].x, 10 + i);
    const MaxPool2dParams p = cases[i].p;
    EXPECT_TRUE(gradcheck([p](const auto& v) { return max_pool2d(v[0], p); }, {x}));
  }
}

TEST(Pool, MaxPool2dHandValues) {
  Tensor x = Tensor::from_vector<double>({1, 5, 2, 0,  //
                                          3, 4, 8, 7,  //
                                          0, 9, 6, 1,  //
                                          2, 1, 3, 5},
                                         {1, 1, 4, 4});
  x.set_requires_grad(true);
  Tensor y = max_pool2d(x);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{5, 8, 9, 6}));
  y.backward(Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}));

  // ceil_mode keeps the partial last window; padding never wins (-inf).
  Tensor z = Tensor::from_vector<double>({-1, -2, -3, -4, -5, -6, -7, -8, -9}, {1, 1, 3, 3});
  EXPECT_EQ(max_pool2d(z, {{2, 2}, {2, 2}, {0, 0}, {1, 1}, true}).to_vector<double>(),
            (std::vector<double>{-1, -3, -7, -9}));
  EXPECT_EQ(max_pool2d(z, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, false}).to_vector<double>(),
            (std::vector<double>{-1, -1, -2, -1, -1, -2, -4, -4, -5}));
}

TEST(Pool, MaxPool2dTiesGoToTheFirstMaximum) {
  Tensor x = Tensor::ones({1, 1, 2, 4}, DType::Float64);
  x.set_requires_grad(true);
  max_pool2d(x).backward(Tensor::ones({1, 1, 1, 2}, DType::Float64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(Pool, MaxPool2dPropagatesNaN) {
  // PyTorch's rule: a NaN in the window wins (the last one when several).
  const double nan = std::nan("");
  Tensor x = Tensor::from_vector<double>({1, nan, 5, 2,  //
                                          nan, 3, nan, 1},
                                         {1, 1, 2, 4});
  x.set_requires_grad(true);
  Tensor y = max_pool2d(x);
  const std::vector<double> yv = y.to_vector<double>();
  EXPECT_TRUE(std::isnan(yv[0]));
  EXPECT_TRUE(std::isnan(yv[1]));
  y.backward(Tensor::from_vector<double>({1, 2}, {1, 1, 1, 2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 1, 0, 2, 0}));
}

TEST(Pool, MaxPool2dOutputShapes) {
  auto out = [](Shape x, MaxPool2dParams p) { return max_pool2d(Tensor::zeros(x), p).shape(); };
  const MaxPool2dParams floor2{{2, 2}, {2, 2}, {0, 0}, {1, 1}, false};
  const MaxPool2dParams ceil2{{2, 2}, {2, 2}, {0, 0}, {1, 1}, true};
  EXPECT_EQ(out({1, 1, 7, 7}, floor2), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(out({1, 1, 7, 7}, ceil2), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(out({2, 3, 5, 6}, ceil2), (Shape{2, 3, 3, 3}));
  EXPECT_EQ(out({1, 1, 224, 224}, floor2), (Shape{1, 1, 112, 112}));
  // (out - 1) * stride >= in + pad: the 4th window would start in the right padding and is dropped.
  EXPECT_EQ(out({1, 1, 5, 5}, {{2, 2}, {2, 2}, {1, 1}, {1, 1}, true}), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(out({1, 1, 3, 3}, {{2, 2}, {2, 2}, {1, 1}, {1, 1}, true}), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(out({1, 1, 7, 7}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}, true}), (Shape{1, 1, 4, 4}));
}

TEST(Pool, MaxPool2dBadInputsNameTheOp) {
  expect_error([] { max_pool2d(Tensor::zeros({3, 4, 4})); }, {"max_pool2d", "4 dimensions", "[3, 4, 4]"});
  expect_error([] { max_pool2d(Tensor::zeros({1, 1, 3, 3}), {{5, 5}, {2, 2}, {0, 0}, {1, 1}, false}); },
               {"max_pool2d", "larger than the padded input", "[1, 1, 3, 3]"});
  expect_error([] { max_pool2d(Tensor::zeros({1, 1, 8, 8}), {{2, 2}, {2, 2}, {2, 2}, {1, 1}, false}); },
               {"max_pool2d", "half the kernel"});
  expect_error([] { max_pool2d(Tensor::zeros({1, 1, 8, 8}), {{2, 2}, {0, 0}, {0, 0}, {1, 1}, false}); },
               {"max_pool2d", "stride"});
}

TEST(GradcheckPool, AdaptiveAvgPool2d) {
  const std::vector<std::pair<Shape, std::array<std::int64_t, 2>>> cases = {
      {{2, 3, 7, 7}, {7, 7}},  // identity
      {{1, 2, 5, 9}, {3, 4}},  // overlapping bins
      {{1, 2, 2, 2}, {7, 7}},  // output larger than the input
      {{2, 2, 1, 1}, {7, 7}},  // VGG's pool on a 32x32 input (1x1 feature map)
      {{1, 1, 6, 4}, {1, 1}},  // global average
  };
  for (const auto& [shape, size] : cases) {
    SCOPED_TRACE(shape_str(shape));
    Tensor x = random_input(shape, 20);
    const auto s = size;
    EXPECT_TRUE(gradcheck([s](const auto& v) { return adaptive_avg_pool2d(v[0], s); }, {x}));
  }
}

TEST(Pool, AdaptiveAvgPool2dBinsAndValues) {
  using kernels::cpu::adaptive_bin_end;
  using kernels::cpu::adaptive_bin_start;
  // 5 -> 3: [0, 2), [1, 4), [3, 5)
  const std::vector<std::pair<std::int64_t, std::int64_t>> bins = {{0, 2}, {1, 4}, {3, 5}};
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(adaptive_bin_start(i, 5, 3), bins[i].first) << i;
    EXPECT_EQ(adaptive_bin_end(i, 5, 3), bins[i].second) << i;
  }
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  EXPECT_EQ(adaptive_avg_pool2d(x, {1, 3}).to_vector<double>(), (std::vector<double>{1.5, 3, 4.5}));
  // 2 -> 7: bins [0,1) x3, [0,2), [1,2) x3.
  Tensor y = Tensor::from_vector<double>({2, 4}, {1, 1, 1, 2});
  EXPECT_EQ(adaptive_avg_pool2d(y, {1, 7}).to_vector<double>(), (std::vector<double>{2, 2, 2, 3, 4, 4, 4}));
  expect_error([] { adaptive_avg_pool2d(Tensor::zeros({3, 4, 4}), {2, 2}); }, {"adaptive_avg_pool2d"});
  expect_error([] { adaptive_avg_pool2d(Tensor::zeros({1, 3, 4, 4}), {0, 2}); }, {"adaptive_avg_pool2d"});
}

TEST(GradcheckUpsample, NearestSizes) {
  const std::vector<std::pair<Shape, std::array<std::int64_t, 2>>> cases = {
      {{1, 2, 1, 1}, {3, 3}}, {{2, 1, 3, 3}, {6, 6}}, {{1, 2, 2, 2}, {4, 4}},
      {{1, 2, 5, 3}, {10, 6}}, {{1, 1, 2, 3}, {3, 7}}, {{1, 1, 5, 4}, {3, 2}},  // also shrinking
  };
  for (const auto& [shape, size] : cases) {
    SCOPED_TRACE(shape_str(shape));
    Tensor x = random_input(shape, 30);
    const auto s = size;
    EXPECT_TRUE(gradcheck([s](const auto& v) { return upsample_nearest2d(v[0], s); }, {x}));
  }
  Tensor x = random_input({2, 3, 3, 5}, 31);
  EXPECT_TRUE(gradcheck([](const auto& v) { return upsample_nearest2x(v[0]); }, {x}));
}

TEST(Upsample, NearestValues) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  x.set_requires_grad(true);
  Tensor y = upsample_nearest2x(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  y.backward(Tensor::ones({1, 1, 4, 4}, DType::Float64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 4, 4, 4}));
  // 2 -> 3 along W: sources floor(j * 2 / 3) = 0, 0, 1.
  EXPECT_EQ(upsample_nearest2d(x.detach(), {1, 3}).to_vector<double>(), (std::vector<double>{1, 1, 2}));
  EXPECT_EQ(upsample_nearest2d(x.detach(), {2, 2}).to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
  expect_error([] { upsample_nearest2x(Tensor::zeros({2, 2})); }, {"upsample_nearest2x"});
  expect_error([] { upsample_nearest2d(Tensor::zeros({1, 1, 2, 2}), {0, 4}); }, {"upsample_nearest2d"});
}
