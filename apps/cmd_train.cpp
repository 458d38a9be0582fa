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
  std::string preset;
};

std::string default_out() {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

// Copies one option's value from a preset when the user did not give it.
struct PresetField {
  const char* option;
  void (*copy)(train::TrainConfig& to, const train::TrainConfig& from);
};
#define SCEALD_PRESET_FIELD(option, field) \
  PresetField { option, [](train::TrainConfig& to, const train::TrainConfig& from) { to.field = from.field; } }
// Every option a preset may set.
const PresetField kPresetFields[] = {
    SCEALD_PRESET_FIELD("--dataset", dataset),
    SCEALD_PRESET_FIELD("--labels", labels),
    SCEALD_PRESET_FIELD("--val-labels", val_labels),
    SCEALD_PRESET_FIELD("--arch", arch),
    SCEALD_PRESET_FIELD("--stem", stem),
    SCEALD_PRESET_FIELD("--width-mult", width),
    SCEALD_PRESET_FIELD("--epochs", epochs),
    SCEALD_PRESET_FIELD("--batch-size", batch_size),
    SCEALD_PRESET_FIELD("--optimizer", optimizer),
    SCEALD_PRESET_FIELD("--lr", lr),
    SCEALD_PRESET_FIELD("--momentum", momentum),
    SCEALD_PRESET_FIELD("--weight-decay", weight_decay),
    SCEALD_PRESET_FIELD("--lr-schedule", schedule.kind),
    SCEALD_PRESET_FIELD("--warmup-epochs", schedule.warmup_epochs),
    SCEALD_PRESET_FIELD("--min-lr", schedule.min_lr),
    SCEALD_PRESET_FIELD("--lr-step-epochs", schedule.step_epochs),
    SCEALD_PRESET_FIELD("--lr-step-gamma", schedule.step_gamma),
    SCEALD_PRESET_FIELD("--ld-start-epoch", ld_start_epoch),
    SCEALD_PRESET_FIELD("--flip-prob", flip_probability),
    SCEALD_PRESET_FIELD("--crop-padding", crop_padding),
    SCEALD_PRESET_FIELD("--rotate", rotate_degrees),
    SCEALD_PRESET_FIELD("--scale-jitter", scale_jitter),
    SCEALD_PRESET_FIELD("--translate", translate_fraction),
    SCEALD_PRESET_FIELD("--erase-prob", erase_probability),
    SCEALD_PRESET_FIELD("--ae-epochs", ae_epochs),
    SCEALD_PRESET_FIELD("--ae-width-mult", ae_width),
    SCEALD_PRESET_FIELD("--ae-hidden", ae_hidden),
    SCEALD_PRESET_FIELD("--ae-lr", ae_lr),
    SCEALD_PRESET_FIELD("--ae-lr-schedule", ae_schedule.kind),
    SCEALD_PRESET_FIELD("--ae-warmup-epochs", ae_schedule.warmup_epochs),
    SCEALD_PRESET_FIELD("--ae-min-lr", ae_schedule.min_lr),
    SCEALD_PRESET_FIELD("--gamma", gamma),
};
#undef SCEALD_PRESET_FIELD

void run(TrainArgs& a, CLI::App* cmd) {
  train::TrainConfig& c = a.config;
  // --preset NAME, or for the synthetic set README's fast preset: every option the user did not give.
  if (!a.preset.empty() || c.dataset == "synthetic") {
    const train::TrainConfig p = a.preset.empty() ? train::synthetic_fast_preset() : train::named_preset(a.preset);
    for (const PresetField& f : kPresetFields)
      if (cmd->count(f.option) == 0) f.copy(c, p);
    c.preset = a.preset;
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
  hooks.note = [&](const std::string& text) {
    progress.finish_line();
    std::cerr << text;
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
  cmd->add_option("--preset", a->preset, "a documented recipe whose options fill in those not given: " +
                                             [] {
                                               std::string names;
                                               for (const auto& n : train::preset_names())
                                                 names += (names.empty() ? "" : ", ") + n;
                                               return names;
                                             }());
  cmd->add_option("--labels", c.labels, "plurality, majority, votes or fer2013 (FERPlus, synthetic)")
      ->capture_default_str();
  cmd->add_option("--val-labels", c.val_labels, "labels of the validation split: plurality, majority or fer2013")
      ->capture_default_str();
  cmd->add_option("--noise", c.noise, "label noise rate on the train split")->capture_default_str();
  cmd->add_option("--train-subset", c.train_subset, "train on this many training samples, drawn by --seed (0: all)")
      ->capture_default_str();
  cmd->add_option("--image-size", c.image_size)->capture_default_str();
  cmd->add_option("--arch", c.arch, "vgg16, vgg16_bn or resnet18 (synthetic preset: resnet18, small stem)")
      ->capture_default_str();
  cmd->add_option("--stem", c.stem, "resnet18's stem: imagenet, small or cifar (nets/resnet18.h)")
      ->capture_default_str();
  cmd->add_option("--width-mult", c.width, "task network width (synthetic preset: 0.125)")->capture_default_str();
  cmd->add_option("--init", c.init, "converted .safetensors from sceald convert");
  cmd->add_option("--epochs", c.epochs, "(synthetic preset: 10)")->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size)->capture_default_str();
  cmd->add_option("--optimizer", c.optimizer, "the task network's optimiser: adam or sgd")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--lr", c.lr, "learning rate of the task network (synthetic preset: 2e-3)")->capture_default_str();
  cmd->add_option("--momentum", c.momentum, "SGD's momentum")->capture_default_str();
  cmd->add_option("--weight-decay", c.weight_decay, "adam: decoupled as AdamW; sgd: L2 in the gradient")
      ->capture_default_str();
  cmd->add_option("--lr-schedule", c.schedule.kind, "the task network's rate per step: constant, cosine or step")
      ->capture_default_str();
  cmd->add_option("--warmup-epochs", c.schedule.warmup_epochs, "linear warm-up from lr/100 (may be fractional)")
      ->capture_default_str();
  cmd->add_option("--min-lr", c.schedule.min_lr, "cosine: the rate at the last step")->capture_default_str();
  cmd->add_option("--lr-step-epochs", c.schedule.step_epochs, "step: epochs between decays")->capture_default_str();
  cmd->add_option("--lr-step-gamma", c.schedule.step_gamma, "step: factor of each decay")->capture_default_str();
  cmd->add_option("--beta", c.beta, "Eq. 7 weight of the one-hot term")->capture_default_str();
  cmd->add_option("--ld-start-epoch", c.ld_start_epoch, "first epoch with label distributions (synthetic preset: 5)")
      ->capture_default_str();
  cmd->add_option("--confidence-distance", c.confidence_distance, "sorted or ot")->capture_default_str();
  cmd->add_option("--confidence-eps", c.confidence_eps, "Eq. 5's eps in alpha = 1 / (W + eps)")->capture_default_str();
  cmd->add_option("--prototype", c.prototype, "weighted or literal")->capture_default_str();
  cmd->add_option("--flip-prob", c.flip_probability, "augmentation: probability of a horizontal flip")
      ->capture_default_str();
  cmd->add_option("--crop-padding", c.crop_padding, "augmentation: pixels of zero padding before the random crop")
      ->capture_default_str();
  cmd->add_option("--rotate", c.rotate_degrees, "augmentation: rotation up to this many degrees either way")
      ->capture_default_str();
  cmd->add_option("--scale-jitter", c.scale_jitter, "augmentation: scale drawn in [1 - s, 1 + s]")
      ->capture_default_str();
  cmd->add_option("--translate", c.translate_fraction, "augmentation: shift up to this fraction of the side")
      ->capture_default_str();
  cmd->add_option("--erase-prob", c.erase_probability, "augmentation: probability of random erasing")
      ->capture_default_str();
  cmd->add_option("--ae-epochs", c.ae_epochs, "(synthetic preset: 14)")->capture_default_str();
  cmd->add_option("--ae-width-mult", c.ae_width, "(synthetic preset: 0.125)")->capture_default_str();
  cmd->add_option("--ae-hidden", c.ae_hidden, "h (synthetic preset: 256)")->capture_default_str();
  cmd->add_option("--ae-lr", c.ae_lr, "(synthetic preset: 1e-3)")->capture_default_str();
  cmd->add_option("--ae-lr-schedule", c.ae_schedule.kind, "the Auto-Encoder's rate per step: constant, cosine or step")
      ->capture_default_str();
  cmd->add_option("--ae-warmup-epochs", c.ae_schedule.warmup_epochs, "the Auto-Encoder's linear warm-up")
      ->capture_default_str();
  cmd->add_option("--ae-min-lr", c.ae_schedule.min_lr, "cosine: the Auto-Encoder's rate at its last step")
      ->capture_default_str();
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
