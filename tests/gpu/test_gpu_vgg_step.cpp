// A whole small VGG-like network: one training step (forward, cross-entropy,
// backward, SGD with momentum, then a second forward) on the CPU and on the
// GPU from the same weights gives the same loss, the same gradient for every
// parameter and the same updated weights, within the `network` tolerance.
// Odd sizes (20x20 inputs pooled to 10, 5, then 2x2 by overlapping adaptive
// bins), batch norm, dropout (same Philox mask on both devices) and every
// kind of layer of the engine's VGGs.
#include <memory>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/layers.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"
#include "gpu_compare.h"

using namespace sceald;
using namespace sceald::gpu_testing;

namespace {

std::shared_ptr<nn::Sequential> small_vgg(std::uint64_t seed) {
  Generator gen(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->emplace_back<nn::Conv2d>(3, 8, 3, 1, 1, 1, true, gen);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::Conv2d>(8, 8, 3, 1, 1, 1, true, gen);
  net->emplace_back<nn::BatchNorm2d>(8);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::MaxPool2d>(2);
  net->emplace_back<nn::Conv2d>(8, 12, 3, 1, 1, 1, true, gen);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::MaxPool2d>(2);
  net->emplace_back<nn::AdaptiveAvgPool2d>(2);
  net->emplace_back<nn::Flatten>();
  net->emplace_back<nn::Linear>(48, 24, true, gen);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::Dropout>(0.25, 99);
  net->emplace_back<nn::Linear>(24, 5, true, gen);
  return net;
}

// The bias of the convolution that feeds batch norm gets no gradient in exact
// arithmetic (batch norm removes each channel's mean): both devices return the
// rounding noise of the sums behind it, different on each. It is compared at
// the scale of the same layer's weight gradient instead of its own.
constexpr const char* kBiasBeforeBatchNorm = "2.bias";
constexpr const char* kWeightBeforeBatchNorm = "2.weight";

// `scale`: the tensor whose largest element sets the tolerance (the CPU result
// itself unless given).
::testing::AssertionResult close_for_network(const Tensor& gpu, const Tensor& cpu, const std::string& what,
                                             const Tensor& scale = Tensor()) {
  const std::vector<double> ref = (scale.defined() ? scale : cpu).to_vector<double>();
  if (auto r = all_close(gpu.to(Device::cpu()), cpu, network(ref, cpu.dtype())); !r)
    return ::testing::AssertionFailure() << what << ": " << r.message();
  return ::testing::AssertionSuccess();
}

// float64 is the strict check: rounding differences stay near 1e-15, so no
// ReLU or max-pool decision can flip between the devices. In float32 a
// pre-activation within rounding of 0 (or two pooled values within rounding
// of each other) may go either way, which moves a few gradient elements by
// more than the tolerance; if only the float32 case fails, look there first.
class GpuNetwork : public ::testing::TestWithParam<DType> {};

TEST_P(GpuNetwork, SmallVggTrainingStepMatchesTheCpu) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  PoisonGuard poison;
  cuda::MathModeGuard precise(cuda::MathMode::Precise);
  auto cpu_net = small_vgg(5), gpu_net = small_vgg(5);  // same seeds: same weights, same dropout stream
  cpu_net->to(t);
  gpu_net->to(t);
  gpu_net->to(Device::cuda(0));
  const Tensor images = random_tensor({6, 3, 20, 20}, 11, t, -1.0, 1.0);
  const Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{0, 4, 2, 1, 3, 2}, {6});
  optim::SGD sgd_cpu(cpu_net->parameters(), 0.05, 0.9), sgd_gpu(gpu_net->parameters(), 0.05, 0.9);

  Tensor loss_cpu = cross_entropy((*cpu_net)(images), labels);
  Tensor loss_gpu = cross_entropy((*gpu_net)(images.to(Device::cuda(0))), labels.to(Device::cuda(0)));
  ASSERT_TRUE(loss_gpu.device().is_cuda());
  const double loss = loss_cpu.item<double>();
  EXPECT_NEAR(loss_gpu.item<double>(), loss, (t == DType::Float64 ? 1e-12 : 1e-5) * (1.0 + std::fabs(loss)));
  loss_cpu.backward();
  loss_gpu.backward();

  const auto params_cpu = cpu_net->named_parameters(), params_gpu = gpu_net->named_parameters();
  ASSERT_EQ(params_cpu.size(), params_gpu.size());
  Tensor weight_grad_before_batch_norm;
  for (const auto& [name, p] : params_cpu)
    if (name == kWeightBeforeBatchNorm) weight_grad_before_batch_norm = p.grad();
  ASSERT_TRUE(weight_grad_before_batch_norm.defined()) << "small_vgg has no parameter " << kWeightBeforeBatchNorm;
  for (std::size_t i = 0; i < params_cpu.size(); ++i) {
    const std::string& name = params_cpu[i].first;
    ASSERT_TRUE(params_gpu[i].second.grad().defined()) << name;
    EXPECT_TRUE(close_for_network(params_gpu[i].second.grad(), params_cpu[i].second.grad(), "gradient of " + name,
                                  name == kBiasBeforeBatchNorm ? weight_grad_before_batch_norm : Tensor()));
  }

  sgd_cpu.step();
  sgd_gpu.step();
  for (std::size_t i = 0; i < params_cpu.size(); ++i)
    EXPECT_TRUE(close_for_network(params_gpu[i].second.detach(), params_cpu[i].second.detach(),
                                  "updated " + params_cpu[i].first));
  const auto buffers_cpu = cpu_net->named_buffers(), buffers_gpu = gpu_net->named_buffers();
  for (std::size_t i = 0; i < buffers_cpu.size(); ++i) {
    if (is_floating(buffers_cpu[i].second.dtype())) {
      const std::string& name = buffers_cpu[i].first;
      EXPECT_TRUE(close_for_network(buffers_gpu[i].second, buffers_cpu[i].second, "buffer " + name));
    }
  }

  // A second forward from the updated weights, in evaluation mode (running statistics, no dropout).
  cpu_net->eval();
  gpu_net->eval();
  NoGradGuard no_grad;
  const Tensor out_cpu = (*cpu_net)(images), out_gpu = (*gpu_net)(images.to(Device::cuda(0)));
  EXPECT_TRUE(close_for_network(out_gpu, out_cpu, "evaluation logits after one step"));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuNetwork, ::testing::Values(DType::Float64, DType::Float32),
                         [](const ::testing::TestParamInfo<DType>& info) { return std::string(dtype_name(info.param)); });

}  // namespace
