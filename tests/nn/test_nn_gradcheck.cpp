// Float64 gradient check through a small Sequential: the input and every
// parameter against central differences (tests/support/gradcheck.h).
#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "support/gradcheck.h"

namespace sceald::nn {
namespace {

TEST(NnGradcheck, ConvBatchNormReluPoolLinear) {
  Generator gen(21);
  Sequential net;
  net.emplace_back<Conv2d>(2, 3, 3, 1, 1, 1, true, gen);
  net.emplace_back<BatchNorm2d>(3);
  net.emplace_back<ReLU>();
  net.emplace_back<MaxPool2d>(2);
  net.emplace_back<Flatten>();
  net.emplace_back<Linear>(12, 2, true, gen);
  net.to(DType::Float64);
  // Batch-norm's scale and shift away from 1 and 0, so their gradients are not special.
  auto& bn = net.at<BatchNorm2d>(1);
  bn.weight.copy_(Tensor::from_vector<double>({1.3, 0.7, -0.9}, {3}));
  bn.bias.copy_(Tensor::from_vector<double>({0.2, -0.1, 0.05}, {3}));

  Tensor x = testing::distinct_input({2, 2, 4, 4}, 22, 0.05);
  std::vector<Tensor> inputs = {x};
  for (const Tensor& p : net.parameters()) inputs.push_back(p);
  ASSERT_EQ(inputs.size(), 7u);
  // Training mode: batch statistics, so the check also covers their gradient.
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, inputs));
  // Evaluation mode: the running statistics are constants.
  net.eval();
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, inputs));
}

TEST(NnGradcheck, PReLUSigmoidUpsample) {
  Generator gen(31);
  Sequential net;
  net.emplace_back<Conv2d>(1, 2, 3, 1, 1, 1, true, gen);
  net.emplace_back<PReLU>(2);
  net.emplace_back<Upsample>(2);
  net.emplace_back<Sigmoid>();
  net.emplace_back<AdaptiveAvgPool2d>(std::array<std::int64_t, 2>{3, 2});
  net.to(DType::Float64);
  Tensor x = testing::distinct_input({2, 1, 3, 3}, 32, 0.07);
  std::vector<Tensor> inputs = {x};
  for (const Tensor& p : net.parameters()) inputs.push_back(p);
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, inputs));
}

}  // namespace
}  // namespace sceald::nn
