// `sceald train`: the SCE-ALD training run (Auto-Encoder, task network,
// optional baseline). The work is train::run_training.

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>

#include "apps/cli_checks.h"
#include "apps/command_registry.h"
#include "apps/memory_report.h"
#include "engine/cuda_runtime.h"
#include "apps/progress.h"
#include "engine/error.h"
#include "kernels/cpu/cpu_features.h"
#include "nets/sceald/task_stage.h"

namespace sceald::apps {
namespace {

struct TrainArgs {
  train::TrainConfig config;
  std::string out, resume;
  bool with_baseline = false;
  bool verbose = false;
  int stop_after = 0;
};

std::string default_out() {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

void run(TrainArgs& a, CLI::App* cmd) {
  train::TrainConfig& c = a.config;
  if (c.dataset == "synthetic") {
    // README's main job: the fast preset for every option not given.
    const train::TrainConfig p = train::synthetic_fast_preset();
    auto unset = [&](const char* name) { return cmd->count(name) == 0; };
    if (unset("--width-mult")) c.width = p.width;
    if (unset("--ae-width-mult")) c.ae_width = p.ae_width;
    if (unset("--ae-hidden")) c.ae_hidden = p.ae_hidden;
    if (unset("--ae-epochs")) c.ae_epochs = p.ae_epochs;
    if (unset("--ae-lr")) c.ae_lr = p.ae_lr;
    if (unset("--gamma")) c.gamma = p.gamma;
    if (unset("--epochs")) c.epochs = p.epochs;
    if (unset("--ld-start-epoch")) c.ld_start_epoch = p.ld_start_epoch;
    if (unset("--lr")) c.lr = p.lr;
  }
  const bool resume = !a.resume.empty();
  if (resume) {
    // The run goes on with the options it was started with; silently ignoring new ones would mislead.
    std::string given;
    for (const CLI::Option* o : cmd->get_options()) {
      const std::string name = o->get_name();
      // These change how fast it runs, not what it computes.
      const bool allowed = name == "--resume" || name == "--with-baseline" || name == "--verbose" ||
                           name == "--stop-after" || name == "--threads" || name == "--workers" || name == "--help";
      if (o->count() > 0 && !allowed) given += (given.empty() ? "" : ", ") + name;
    }
    SCEALD_CHECK(given.empty(), "--resume ", a.resume, " continues the run with the options it was started with (",
                 a.resume, "/config.json); it takes only --with-baseline, --verbose, --stop-after, --threads and ",
                 "--workers, not ", given);
  }
  const std::string out = resume ? a.resume : (a.out.empty() ? default_out() : a.out);
  if (!resume) c.validate();
  Progress progress;
  train::TrainHooks hooks;
  hooks.batch = [&](const std::string& stage, int epoch, std::int64_t done, std::int64_t total) {
    progress.update(stage, epoch, done, total);
  };
  hooks.epoch = [&](const nlohmann::json& r) {
    progress.finish_line();
    std::cerr << r.dump() << "\n";
  };
  const auto t0 = std::chrono::steady_clock::now();
  train::RunControl control;
  control.stop_after_epoch = a.stop_after;
  if (cmd->count("--threads") > 0) control.threads = c.threads;
  if (cmd->count("--workers") > 0) control.workers = c.workers;
  const train::RunResult r = train::run_training(c, out, resume, a.with_baseline, hooks, control);
  progress.finish_line();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.sceald && r.sceald->finished) std::cout << "metrics: " << r.sceald->metrics.dump() << "\n";
  if (!r.table.empty()) std::cout << "\n" << r.table;
  std::cout << "run folder: " << out << " (" << secs << " s)\n";
  if (a.verbose) print_memory_report(cuda::select_device(r.config.device), std::cout);
}

void setup(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("train", "Train SCE-ALD (Auto-Encoder + task network); optionally its baseline");
  auto a = std::make_shared<TrainArgs>();
  train::TrainConfig& c = a->config;
  cmd->add_option("--dataset", c.dataset, "synthetic, ferplus, rafdb, affectnet or folder")->capture_default_str();
  cmd->add_option("--data-root", c.data_root,
                  "dataset folder as downloaded (see README; synthetic: default the cache)");
  cmd->add_option("--train-split", c.train_split)->capture_default_str();
  cmd->add_option("--val-split", c.val_split)->capture_default_str();
  cmd->add_option("--labels", c.labels, "plurality or fer2013 (FERPlus, synthetic)")->capture_default_str();
  cmd->add_option("--val-labels", c.val_labels, "labels of the validation split: plurality or fer2013")
      ->capture_default_str();
  cmd->add_option("--noise", c.noise, "label noise rate on the train split")->capture_default_str();
  cmd->add_option("--train-subset", c.train_subset, "train on this many training samples, drawn by --seed (0: all)")
      ->capture_default_str();
  cmd->add_option("--image-size", c.image_size)->capture_default_str();
  cmd->add_option("--arch", c.arch, "vgg16 or resnet18")->capture_default_str();
  cmd->add_option("--width-mult", c.width, "task network width (synthetic preset: 0.125)")->capture_default_str();
  cmd->add_option("--init", c.init, "converted .safetensors from sceald convert");
  cmd->add_option("--epochs", c.epochs, "(synthetic preset: 8)")->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size)->capture_default_str();
  cmd->add_option("--optimizer", c.optimizer, "the task network's optimiser: adam or sgd")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--lr", c.lr, "learning rate of the task network (synthetic preset: 3e-4)")->capture_default_str();
  cmd->add_option("--momentum", c.momentum, "SGD's momentum")->capture_default_str();
  cmd->add_option("--beta", c.beta, "Eq. 7 weight of the one-hot term")->capture_default_str();
  cmd->add_option("--ld-start-epoch", c.ld_start_epoch, "first epoch with label distributions (synthetic preset: 4)")
      ->capture_default_str();
  cmd->add_option("--confidence-distance", c.confidence_distance, "sorted or ot")->capture_default_str();
  cmd->add_option("--confidence-eps", c.confidence_eps, "Eq. 5's eps in alpha = 1 / (W + eps)")->capture_default_str();
  cmd->add_option("--prototype", c.prototype, "weighted or literal")->capture_default_str();
  cmd->add_option("--flip-prob", c.flip_probability, "augmentation: probability of a horizontal flip")
      ->capture_default_str();
  cmd->add_option("--crop-padding", c.crop_padding, "augmentation: pixels of zero padding before the random crop")
      ->capture_default_str();
  cmd->add_option("--ae-epochs", c.ae_epochs, "(synthetic preset: 14)")->capture_default_str();
  cmd->add_option("--ae-width-mult", c.ae_width, "(synthetic preset: 0.125)")->capture_default_str();
  cmd->add_option("--ae-hidden", c.ae_hidden, "h (synthetic preset: 256)")->capture_default_str();
  cmd->add_option("--ae-lr", c.ae_lr, "(synthetic preset: 1e-3)")->capture_default_str();
  cmd->add_option("--gamma", c.gamma, "Eq. 1 weight of the cosine term (synthetic preset: 5)")->capture_default_str();
  cmd->add_option("--word-vectors", c.word_vectors, "word2vec file (default: the embedded vectors)");
  cmd->add_option("--stage", c.stage, "ae, task or both")->capture_default_str();
  cmd->add_option("--seed", c.seed)->capture_default_str()->check(whole_number());
  cmd->add_option("--threads", c.threads, "OpenMP threads (0: default)")
      ->capture_default_str()
      ->check(CLI::Range(0, kernels::cpu::kMaxCpuThreads));
  cmd->add_option("--workers", c.workers, "image loading threads")->capture_default_str();
  cmd->add_option("--device", c.device, "cpu or cuda[:N] (the networks; per-sample work stays on the CPU)")
      ->capture_default_str();
  cmd->add_option("--math", c.math, "CUDA math: fast (TF32 allowed) or precise")
      ->check(CLI::IsMember({"fast", "precise"}))
      ->capture_default_str();
  cmd->add_flag("--verbose", a->verbose, "print peak memory (and the GPU allocator's counters) at the end");
  cmd->add_option("--out", a->out, "run folder (default runs/<timestamp>)");
  cmd->add_option("--resume", a->resume, "continue the run in this folder");
  cmd->add_flag("--with-baseline", a->with_baseline, "also train the beta = 1 baseline and compare");
  cmd->add_option("--stop-after", a->stop_after, "stop after this epoch (testing resume)")
      ->check(whole_number(1));
  cmd->callback([a, cmd] { run(*a, cmd); });
}

const CommandRegistration registration("train", setup);

}  // namespace
}  // namespace sceald::apps
