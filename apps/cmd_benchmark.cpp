// `sceald benchmark`: images/s of a network's forward pass and training step
// (nets/benchmark.h says exactly what is timed). bench/compare_peers.sh runs
// it beside PyTorch's VGG16 step and prints the ratios.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "apps/memory_report.h"
#include "engine/cuda/math_mode.h"
#include "engine/cuda_runtime.h"
#include "engine/io/atomic_file.h"
#include "kernels/cpu/cpu_features.h"
#include "nets/benchmark.h"

namespace sceald::apps {
namespace {

struct BenchmarkArgs {
  std::string arch = "vgg16";
  std::string stem = "imagenet";
  std::string device = "cpu";
  std::string json_path;
  std::string math = "fast";
  bool verbose = false;
  int threads = 0;
  nets::BenchmarkOptions options;
};

void run(BenchmarkArgs& a) {
#ifdef _OPENMP
  if (a.threads > 0) omp_set_num_threads(a.threads);
#endif
  nets::BenchmarkOptions& o = a.options;
  o.net.arch = nets::parse_arch(a.arch);
  o.net.stem = nets::parse_resnet_stem(a.stem);
  o.device = cuda::select_device(a.device);
  const cuda::MathModeGuard math(cuda::parse_math_mode(a.math));
  const nets::BenchmarkResult r = nets::run_benchmark(o);

  const nlohmann::json j = {
      {"arch", nets::arch_name(o.net.arch)},
      {"image_size", o.image_size},
      {"batch_size", o.batch_size},
      {"width_mult", o.net.width},
      {"stem", a.stem},
      {"in_channels", o.net.in_channels},
      {"num_classes", o.net.num_classes},
      {"device", o.device.str()},
      {"math", a.math},
      {"threads", r.threads},
      {"steps", o.steps},
      {"parameters", r.parameters},
      {"train_ms_per_step", r.train_ms_per_step},
      {"forward_ms_per_step", r.forward_ms_per_step},
      {"train_images_per_s", r.train_images_per_s},
      {"forward_images_per_s", r.forward_images_per_s},
      {"peak_rss_bytes", r.peak_rss_bytes},
  };
  std::printf("%s %lldx%lld batch %lld width %g on %s, %d thread(s), %lld parameters\n", nets::arch_name(o.net.arch),
              (long long)o.image_size, (long long)o.image_size, (long long)o.batch_size, o.net.width,
              o.device.str().c_str(), r.threads, (long long)r.parameters);
  std::printf("  training step  %9.1f ms  %9.2f images/s\n", r.train_ms_per_step, r.train_images_per_s);
  std::printf("  forward        %9.1f ms  %9.2f images/s\n", r.forward_ms_per_step, r.forward_images_per_s);
  std::printf("  peak resident memory %.1f MiB (medians of %d steps after %d warm-up)\n",
              double(r.peak_rss_bytes) / (1 << 20), o.steps, o.warmup);
  if (a.verbose) print_memory_report(o.device, std::cout);
  if (!a.json_path.empty())
    io::write_file_atomically(a.json_path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("benchmark", "Time a network's forward pass and training step");
  auto a = std::make_shared<BenchmarkArgs>();
  nets::BenchmarkOptions& o = a->options;
  cmd->add_option("--arch", a->arch, "vgg16, vgg16_bn, resnet18 or vgg10ae")->capture_default_str();
  cmd->add_option("--image-size", o.image_size, "input side in pixels")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "images per step")->capture_default_str();
  cmd->add_option("--width-mult", o.net.width, "width multiplier (1 = the published network)")
      ->capture_default_str();
  cmd->add_option("--in-channels", o.net.in_channels, "input channels")->capture_default_str();
  cmd->add_option("--stem", a->stem, "resnet18: imagenet, small or cifar (nets/resnet18.h)")->capture_default_str();
  cmd->add_option("--num-classes", o.net.num_classes, "classes of vgg16/resnet18")
      ->capture_default_str()
      ->check(whole_number(1));
  cmd->add_option("--threads", a->threads, "CPU threads (0 = OMP_NUM_THREADS or every core)")
      ->capture_default_str()
      ->check(CLI::Range(0, kernels::cpu::kMaxCpuThreads));
  cmd->add_option("--steps", o.steps, "timed steps of each kind (the median is reported)")->capture_default_str();
  cmd->add_option("--warmup", o.warmup, "untimed steps before timing")->capture_default_str();
  cmd->add_option("--device", a->device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--math", a->math, "CUDA math: fast (TF32 allowed) or precise")
      ->check(CLI::IsMember({"fast", "precise"}))
      ->capture_default_str();
  cmd->add_flag("--verbose", a->verbose, "also print the host block cache's and the GPU allocator's counters");
  cmd->add_option("--seed", o.seed, "seed of the weights and the random batch")
      ->capture_default_str()
      ->check(whole_number());
  cmd->add_option("--json", a->json_path, "also write the numbers to this JSON file");
  cmd->callback([a] { run(*a); });
}

const CommandRegistration registration("benchmark", setup);

}  // namespace
}  // namespace sceald::apps
