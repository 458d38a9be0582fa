// `sceald synth --out DIR [--n N] [--valid N] [--test N] [--size S] [--seed S]`:
// writes the synthetic expression dataset (engine/data/synthetic.h) in
// FERPlus's layout, ready for `--dataset ferplus --data-root DIR` or
// `--dataset synthetic --data-root DIR`.
#include <chrono>
#include <iostream>
#include <memory>

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "engine/data/synthetic.h"
#include "kernels/cpu/cpu_features.h"

namespace sceald::apps {
namespace {

struct SynthArgs {
  std::string out;
  std::int64_t train = data::SyntheticOptions{}.train;
  std::int64_t valid = -1;  // -1: a quarter of train
  std::int64_t test = -1;
  int size = data::SyntheticOptions{}.size;
  std::uint64_t seed = 0;
  int threads = 0;
  bool force = false;
};

void run_synth(const SynthArgs& args) {
  data::SyntheticOptions options;
  options.train = args.train;
  options.valid = args.valid >= 0 ? args.valid : args.train / 4;
  options.test = args.test >= 0 ? args.test : args.train / 4;
  options.size = args.size;
  options.seed = args.seed;
  options.threads = args.threads;
  options.validate();

  const auto start = std::chrono::steady_clock::now();
  bool generated = true;
  if (args.force)
    data::generate_synthetic_dataset(args.out, options);
  else
    generated = data::ensure_synthetic_dataset(args.out, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << (generated ? "wrote " : "up to date: ") << args.out << ": " << options.train << " train, "
            << options.valid << " valid, " << options.test << " test images, " << options.size << "x"
            << options.size << " grey, seed " << options.seed;
  if (generated) std::cout << " (" << seconds << " s)";
  std::cout << "\n";
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand(
      "synth", "Generate the synthetic expression dataset (procedural faces with known label distributions) "
               "in FERPlus's layout");
  auto args = std::make_shared<SynthArgs>();
  cmd->add_option("--out", args->out, "output folder (new, empty, or a set generated before)")->required();
  cmd->add_option("--n", args->train, "training images")->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->add_option("--valid", args->valid, "validation images (default: a quarter of --n)")->check(CLI::Range(0, 1000000));
  cmd->add_option("--test", args->test, "test images (default: a quarter of --n)")->check(CLI::Range(0, 1000000));
  cmd->add_option("--size", args->size, "image side in pixels")->capture_default_str()->check(CLI::Range(16, 512));
  cmd->add_option("--seed", args->seed, "random seed; a seed gives byte-identical files")
      ->capture_default_str()
      ->check(whole_number());
  cmd->add_option("--threads", args->threads, "OpenMP threads (0: all; the output does not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(0, kernels::cpu::kMaxCpuThreads));
  cmd->add_flag("--force", args->force, "regenerate even when DIR already holds a set of these parameters");
  cmd->callback([args] { run_synth(*args); });
}

const CommandRegistration registration("synth", setup);

}  // namespace
}  // namespace sceald::apps
