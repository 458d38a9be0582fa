#include "nets/benchmark.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"

namespace sceald::nets {

namespace {

double median_ms(int steps, const std::function<void()>& step) {
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
}

}  // namespace

std::int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      std::int64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(1 << 16, '\n');
  }
  return 0;
}

BenchmarkResult run_benchmark(const BenchmarkOptions& options) {
  SCEALD_CHECK(options.steps >= 1, "benchmark: --steps must be at least 1, got ", options.steps);
  SCEALD_CHECK(options.warmup >= 0, "benchmark: --warmup must be at least 0, got ", options.warmup);
  SCEALD_CHECK(options.batch_size >= 1, "benchmark: --batch-size must be at least 1, got ", options.batch_size);
  NetSpec spec = options.net;
  const bool autoencoder = spec.arch == Arch::VGG10AutoEncoder;
  if (autoencoder) spec.side = options.image_size;
  SCEALD_CHECK(autoencoder || options.image_size >= 32, "benchmark: --image-size must be at least 32 for ",
               arch_name(spec.arch), " (five halvings), got ", options.image_size);

  Generator gen(options.seed);
  std::shared_ptr<nn::Module> net = build_net(spec, gen);
  net->to(options.device);
  const std::int64_t N = options.batch_size;
  const Tensor x =
      gen.normal({N, spec.in_channels, options.image_size, options.image_size}, 0.0, 1.0).to(options.device);
  std::vector<std::int64_t> label_values(static_cast<std::size_t>(N));
  for (auto& v : label_values) v = static_cast<std::int64_t>(gen.next_below(std::uint64_t(spec.num_classes)));
  const Tensor labels = Tensor::from_vector(label_values, {N}).to(options.device);

  BenchmarkResult r;
  for (const Tensor& p : net->parameters()) r.parameters += p.numel();
#ifdef _OPENMP
  r.threads = omp_get_max_threads();
#endif

  optim::SGD sgd(net->parameters(), 1e-3, 0.9);
  auto train_step = [&] {
    sgd.zero_grad();
    const Tensor out = net->forward(x);
    const Tensor loss = autoencoder ? mse_loss(out, x) : cross_entropy(out, labels);
    loss.backward();
    sgd.step();
    (void)loss.to(Device::cpu());  // waits for a device
  };
  auto forward_step = [&] {
    NoGradGuard no_grad;
    (void)net->forward(x).to(Device::cpu());
  };

  net->train();
  for (int i = 0; i < options.warmup; ++i) train_step();
  r.train_ms_per_step = median_ms(options.steps, train_step);
  net->eval();
  for (int i = 0; i < options.warmup; ++i) forward_step();
  r.forward_ms_per_step = median_ms(options.steps, forward_step);
  r.train_images_per_s = double(N) * 1e3 / r.train_ms_per_step;
  r.forward_images_per_s = double(N) * 1e3 / r.forward_ms_per_step;
  r.peak_rss_bytes = peak_rss_bytes();
  return r;
}

}  // namespace sceald::nets
