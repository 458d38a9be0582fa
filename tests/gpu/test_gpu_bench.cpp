// The engine's side of bench/device_check.sh: times VGG16 training steps
// (224x224, SGD with momentum, cross-entropy over 1000 classes, random data
// already on the GPU) in fp32 (precise mode) and TF32 (fast mode), each step
// on its own (it ends by reading the loss, which waits for the stream), and
// prints one line per mode that the script parses:
//   SCEALD_BENCH engine=sceald mode=fp32 batch=64 steps=20 images_per_s=... step_ms=... step_ms_min=...
//   step_ms_max=... peak_mib=... held_mib=...
// images_per_s and step_ms come from the median step; peak_mib is the peak
// of the bytes tensors asked for (as PyTorch's max_memory_allocated),
// held_mib the peak of the size-class blocks that served them.
// Skipped unless SCEALD_GPU_BENCH=1 (it is a benchmark, not a check; ctest
// shows it as skipped). SCEALD_BENCH_BATCH, SCEALD_BENCH_STEPS,
// SCEALD_BENCH_WARMUP and SCEALD_BENCH_MODES ("fp32,tf32") adjust it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/math_mode.h"
#include "engine/nn/layers.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"
#include "gpu_test.h"

using namespace sceald;

namespace {

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

// torchvision's vgg16 (configuration D, no batch norm), built from engine layers.
std::shared_ptr<nn::Sequential> vgg16(Generator& gen) {
  auto net = std::make_shared<nn::Sequential>();
  std::int64_t in = 3;
  const int config[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  for (int c : config) {
    if (c == 0) {
      net->emplace_back<nn::MaxPool2d>(2);
      continue;
    }
    net->emplace_back<nn::Conv2d>(in, c, 3, 1, 1, 1, true, gen);
    net->emplace_back<nn::ReLU>();
    in = c;
  }
  net->emplace_back<nn::AdaptiveAvgPool2d>(7);
  net->emplace_back<nn::Flatten>();
  net->emplace_back<nn::Linear>(512 * 7 * 7, 4096, true, gen);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::Dropout>(0.5, 1);
  net->emplace_back<nn::Linear>(4096, 4096, true, gen);
  net->emplace_back<nn::ReLU>();
  net->emplace_back<nn::Dropout>(0.5, 2);
  net->emplace_back<nn::Linear>(4096, 1000, true, gen);
  return net;
}

void time_mode(const std::string& mode, std::int64_t batch, std::int64_t steps, std::int64_t warmup) {
  cuda::MathModeGuard guard(mode == "tf32" ? cuda::MathMode::Fast : cuda::MathMode::Precise);
  Generator gen(1);
  auto net = vgg16(gen);
  net->to(Device::cuda(0));
  optim::SGD sgd(net->parameters(), 0.01, 0.9);
  const Tensor images = gen.uniform({batch, 3, 224, 224}, -1.0, 1.0).to(Device::cuda(0));
  std::vector<std::int64_t> classes(static_cast<std::size_t>(batch));
  for (auto& c : classes) c = static_cast<std::int64_t>(gen.next_below(1000));
  const Tensor labels = Tensor::from_vector(classes, {batch}).to(Device::cuda(0));
  auto step = [&] {
    sgd.zero_grad();
    Tensor loss = cross_entropy((*net)(images), labels);
    loss.backward();
    sgd.step();
    return loss.item<float>();  // waits for the step: everything runs in one stream
  };
  for (std::int64_t i = 0; i < warmup; ++i) step();
  cuda::reset_peak_memory(0);
  std::vector<double> step_ms;
  float last = 0.0f;
  for (std::int64_t i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    last = step();
    step_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(step_ms.begin(), step_ms.end());
  const std::size_t n = step_ms.size();
  const double median = n % 2 ? step_ms[n / 2] : (step_ms[n / 2 - 1] + step_ms[n / 2]) / 2;
  const cuda::MemoryStats memory = cuda::memory_stats(0);
  std::printf(
      "SCEALD_BENCH engine=sceald mode=%s batch=%lld steps=%lld images_per_s=%.1f step_ms=%.1f step_ms_min=%.1f "
      "step_ms_max=%.1f peak_mib=%.0f held_mib=%.0f loss=%.4f\n",
      mode.c_str(), static_cast<long long>(batch), static_cast<long long>(steps),
      static_cast<double>(batch) / (median / 1000.0), median, step_ms.front(), step_ms.back(),
      static_cast<double>(memory.peak_requested_bytes) / (1 << 20),
      static_cast<double>(memory.peak_in_use_bytes) / (1 << 20), last);
  std::printf("  %s\n", cuda::memory_summary(0).c_str());
  std::fflush(stdout);
}

TEST(GpuBench, Vgg16TrainingStep) {
  SCEALD_REQUIRE_GPU();
  const char* on = std::getenv("SCEALD_GPU_BENCH");
  if (!on || std::strcmp(on, "1") != 0)
    GTEST_SKIP() << "a benchmark: set SCEALD_GPU_BENCH=1 (bench/device_check.sh does)";
  const std::int64_t batch = env_int("SCEALD_BENCH_BATCH", 64), steps = env_int("SCEALD_BENCH_STEPS", 20);
  const std::int64_t warmup = env_int("SCEALD_BENCH_WARMUP", 2);
  ASSERT_GE(steps, 1) << "SCEALD_BENCH_STEPS";
  const char* modes_env = std::getenv("SCEALD_BENCH_MODES");
  const std::string modes = modes_env && *modes_env ? modes_env : "fp32,tf32";
  for (const std::string mode : {"fp32", "tf32"})
    if (modes.find(mode) != std::string::npos) {
      time_mode(mode, batch, steps, warmup);
      cuda::empty_cache(0);
    }
}

}  // namespace
