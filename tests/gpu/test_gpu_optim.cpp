// The fused CUDA optimiser steps against the CPU loops: a few steps of SGD
// (momentum, Nesterov, weight decay), Adam and AdamW on the same parameters
// and gradients, compared after every step.
#include <memory>

#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "gpu_compare.h"

using namespace sceald;
using namespace sceald::gpu_testing;

namespace {

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// Three parameters (odd sizes, one without a gradient), four steps with fresh
// gradients each; parameters and state compared after each step.
void expect_same_steps(const MakeOptimizer& make, DType t) {
  PoisonGuard poison;
  const std::vector<Shape> shapes{{37, 5}, {101}, {3, 3}};
  std::vector<Tensor> cpu, gpu;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    Tensor p = random_tensor(shapes[i], 100 + i, t);
    cpu.push_back(p.clone().detach().set_requires_grad(true));
    gpu.push_back(p.to(Device::cuda(0)).set_requires_grad(true));
  }
  auto opt_cpu = make(cpu), opt_gpu = make(gpu);
  for (int step = 0; step < 4; ++step) {
    for (std::size_t i = 0; i + 1 < shapes.size(); ++i) {  // the last parameter never gets a gradient
      const Tensor g = random_tensor(shapes[i], 200 + 10 * step + i, t);
      cpu[i].grad() = g.clone();
      gpu[i].grad() = g.to(Device::cuda(0));
    }
    opt_cpu->step();
    opt_gpu->step();
    for (std::size_t i = 0; i < shapes.size(); ++i)
      EXPECT_TRUE(all_close(gpu[i].detach().to(Device::cpu()), cpu[i].detach(), elementwise(t)))
          << opt_cpu->name() << ", step " << step + 1 << ", parameter " << i;
  }
  const auto state_cpu = opt_cpu->state_dict(), state_gpu = opt_gpu->state_dict();
  ASSERT_EQ(state_cpu.size(), state_gpu.size());
  for (std::size_t k = 0; k < state_cpu.size(); ++k)
    EXPECT_TRUE(all_close(state_gpu[k].second.to(Device::cpu()), state_cpu[k].second, elementwise(t)))
        << opt_cpu->name() << " state " << state_cpu[k].first;
}

class GpuOptim : public ::testing::TestWithParam<DType> {};

TEST_P(GpuOptim, SgdVariants) {
  SCEALD_REQUIRE_GPU();
  expect_same_steps([](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), 0.1); }, GetParam());
  expect_same_steps(
      [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), 0.05, 0.9, 0.1, 1e-3); },
      GetParam());
  expect_same_steps(
      [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), 0.05, 0.9, 0.0, 5e-4, true); },
      GetParam());
}

TEST_P(GpuOptim, AdamAndAdamW) {
  SCEALD_REQUIRE_GPU();
  expect_same_steps([](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(std::move(p), 1e-2); },
                    GetParam());
  expect_same_steps(
      [](std::vector<Tensor> p) {
        return std::make_unique<optim::Adam>(std::move(p), 1e-2, std::pair{0.8, 0.99}, 1e-6, 1e-2);
      },
      GetParam());
  expect_same_steps([](std::vector<Tensor> p) { return std::make_unique<optim::AdamW>(std::move(p), 3e-3); },
                    GetParam());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuOptim, ::testing::Values(DType::Float32, DType::Float64),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
