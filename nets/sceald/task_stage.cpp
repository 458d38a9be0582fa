#include "nets/sceald/task_stage.h"

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/autograd/grad_mode.h"
#include "engine/cuda/math_mode.h"
#include "engine/cuda_runtime.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "nets/sceald/confidence.h"
#include "nets/sceald/divergence.h"
#include "nets/sceald/label_distribution.h"
#include "nets/sceald/lr_schedule.h"
#include "nets/sceald/losses.h"
#include "nets/sceald/metrics.h"
#include "nets/sceald/reports.h"
#include "nets/sceald/run_estimate.h"

namespace sceald::train {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Runs of at least this many training images (all epochs of both stages) print an estimate first.
constexpr std::int64_t kEstimateFromImages = 100000;

// One pass without augmentation storing every training feature.
void fill_bank(const TaskNet& net, const TrainConfig& c, const TrainingData& data, method::FeatureBank& bank,
               const TrainHooks& hooks) {
  const bool was_training = net.module->is_training();
  net.module->eval();
  NoGradGuard no_grad;
  data::DataLoader loader(data.train, loader_options(c, data.convention, net.device, false, false, 0));
  loader.start_epoch(0);
  std::int64_t done = 0;
  while (auto batch = loader.next()) {
    bank.store(net.forward_with_feature(batch->images.to(net.device)).feature, batch->indices);
    done += batch->images.size(0);
    if (hooks.batch) hooks.batch("features", 0, done, static_cast<std::int64_t>(data.train.size()));
  }
  net.module->train(was_training);
}

// SPEC: Adam by default; --optimizer sgd takes SGD with --momentum. With
// --weight-decay, Adam becomes AdamW (decoupled decay) and SGD adds the L2
// term to the gradient, as torch.optim does; every parameter is decayed.
std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, std::vector<Tensor> parameters) {
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(std::move(parameters), c.lr, c.momentum, 0.0, c.weight_decay);
  if (c.weight_decay > 0)
    return std::make_unique<optim::AdamW>(std::move(parameters), c.lr, std::pair{0.9, 0.999}, 1e-8, c.weight_decay);
  return std::make_unique<optim::Adam>(std::move(parameters), c.lr);
}

// Keeps the epoch's weights as the best so far when its validation accuracy beats every earlier one's.
void keep_if_best(const std::string& run_dir, const TaskNet& net, const optim::Optimizer& optimizer,
                  const method::FeatureBank* bank, TaskState& state, const TrainConfig& c, const TrainingData& data,
                  const EvalResult& validation) {
  if (state.best_epoch > 0 && validation.metrics.accuracy <= state.best_accuracy) return;
  state.best_epoch = state.epoch;
  state.best_accuracy = validation.metrics.accuracy;
  state.best_mean_class_accuracy = validation.metrics.mean_class_accuracy;
  save_task_checkpoint((fs::path(run_dir) / kBestCheckpoint).string(), net, optimizer, bank, state, c,
                       data.convention, data.train_labels);
}

}  // namespace

TaskResult train_task(const TrainConfig& c, const TrainingData& data, const SemanticSpace& space,
                      const std::string& run_dir, bool resume, const TrainHooks& hooks, const RunControl& control) {
  fs::create_directories(run_dir);
  const std::string latest = (fs::path(run_dir) / kLatestCheckpoint).string();
  const std::string log_path = (fs::path(run_dir) / "log.jsonl").string();
  const std::int64_t n = static_cast<std::int64_t>(data.train.size());
  const method::ConfidenceOptions conf{method::parse_confidence_distance(c.confidence_distance), c.confidence_eps};
  const method::PrototypeMode mode = method::parse_prototype_mode(c.prototype);

  TaskNet net = make_task_net(c, data.convention.channels, cuda::select_device(c.device));
  data::DataLoader loader(data.train, loader_options(c, data.convention, net.device, true, true, c.seed + 11));
  const std::int64_t steps_per_epoch = loader.batches_per_epoch();
  const std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(c, net.module->parameters());
  const std::unique_ptr<optim::LRScheduler> schedule =
      make_lr_scheduler(c.schedule, *optimizer, c.epochs, steps_per_epoch);  // before the checkpoint sets the rate
  const bool votes = c.labels == "votes";
  SCEALD_CHECK(!votes || loader.has_distributions(), "--labels votes: the ", c.dataset,
               " training split has no vote distribution for every image");
  std::optional<method::FeatureBank> bank;
  TaskState state;
  if (resume && fs::exists(latest)) {
    state = load_task_checkpoint(latest, net, *optimizer, bank, data.train_labels);
    const std::int64_t steps_done = state.epoch * steps_per_epoch;
    SCEALD_CHECK(state.lr_step < 0 || state.lr_step == steps_done, latest, ": ", state.lr_step,
                 " optimiser steps recorded, but ", state.epoch, " epochs of ", steps_per_epoch, " batches make ",
                 steps_done, " (another batch size or training set?)");
    schedule->set_epoch(steps_done);
  } else {
    std::remove(log_path.c_str());  // a fresh run starts a fresh log
  }

  TaskResult result;
  for (int epoch = state.epoch + 1; epoch <= c.epochs; ++epoch) {
    const auto t0 = Clock::now();
    const double b = method::beta_for_epoch(epoch, c.ld_start_epoch, c.beta);
    const bool ld = b < 1.0;
    if (ld && !state.prototypes.defined()) {
      if (!bank) bank.emplace(n, net.feature_dim);
      fill_bank(net, c, data, *bank, hooks);
      state.prototypes = bank->initial_prototypes(data.train_labels, data::kNumExpressions);
      bank->begin_epoch();
    }
    net.module->train();
    loader.start_epoch(epoch);
    double loss_sum = 0;
    std::int64_t seen = 0, correct = 0;
    const double epoch_lr = optimizer->lr();
    while (auto batch = loader.next()) {
      const std::int64_t bs = batch->images.size(0);
      const Tensor labels = batch->labels.to(net.device);
      const TrainingPoint point{"task", epoch, seen + bs, "--lr", optimizer->lr()};
      auto out = net.forward_with_feature(batch->images.to(net.device));
      Tensor l;
      if (ld) {
        // Per-sample work stays on the CPU (run_state.h); the amended distributions go back to the net's device.
        const Tensor feature = out.feature.detach().to(Device::cpu());
        check_features_finite(feature, point);  // Eq. 6 would fail on them less clearly
        bank->store(feature, batch->indices);
        l = method::label_distribution(feature, state.prototypes, out.logits.dtype()).to(net.device);
      }
      const Tensor given = votes ? batch->distributions.to(out.logits.dtype()).to(net.device) : Tensor();
      Tensor loss = method::sceald_loss(out.logits, labels, l, b, given);
      net.module->zero_grad();
      loss.backward();
      optimizer->step();
      schedule->step();
      const double loss_value = loss.item<float>();
      check_loss_finite(loss_value, point);
      loss_sum += loss_value * bs;
      const auto pred = method::argmax_rows(out.logits.detach().to(Device::cpu()));  // metrics are host work
      const auto y = batch->labels.to_vector<std::int64_t>();
      for (std::size_t i = 0; i < y.size(); ++i) correct += pred[i] == y[i];
      seen += bs;
      if (hooks.batch) hooks.batch("task", epoch, seen, n);
    }
    if (ld) {
      auto r = bank->refresh(data.train_labels, space.semantic_graph, state.prototypes, conf, mode, space.ground_cost);
      state.prototypes = r.prototypes;
      state.alpha = r.alpha;
      state.task_graph = r.task_graph;
      bank->begin_epoch();
    }
    const double train_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    result.validation = evaluate_net(net, data.val, data.convention, c.image_size, c.batch_size, c.workers, hooks);
    state.epoch = epoch;
    state.lr_step = epoch * steps_per_epoch;
    keep_if_best(run_dir, net, *optimizer, bank ? &*bank : nullptr, state, c, data, result.validation);
    save_task_checkpoint(latest, net, *optimizer, bank ? &*bank : nullptr, state, c, data.convention,
                         data.train_labels);
    nlohmann::json rec = {{"stage", "task"},
                          {"epoch", epoch},
                          {"beta", b},
                          {"lr", epoch_lr},
                          {"loss", loss_sum / seen},
                          {"train_accuracy", static_cast<double>(correct) / seen},
                          {"val_accuracy", result.validation.metrics.accuracy},
                          {"val_mean_class_accuracy", result.validation.metrics.mean_class_accuracy},
                          {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()},
                          {"images_per_second", seen / train_secs}};
    if (result.validation.kl_votes) rec["val_kl_votes"] = *result.validation.kl_votes;
    if (state.alpha.defined() && !data.noise.flipped.empty())
      rec["auroc_alpha"] = method::confidence_auroc(state.alpha, data.noise.flipped);
    append_json_line(log_path, rec);
    if (hooks.epoch) hooks.epoch(rec);
    if (control.stop_after_epoch > 0 && epoch >= control.stop_after_epoch && epoch < c.epochs) return result;
  }
  result.finished = true;
  if (state.epoch >= c.epochs && !result.validation.logits.defined())  // resumed a finished run
    result.validation = evaluate_net(net, data.val, data.convention, c.image_size, c.batch_size, c.workers, hooks);

  // Per-sample report. A run that never used label distributions gets one
  // feature pass and refresh here (SPEC: alpha = 1 first), for comparison.
  if (!state.prototypes.defined()) {
    if (!bank) bank.emplace(n, net.feature_dim);
    fill_bank(net, c, data, *bank, hooks);
    state.prototypes = bank->initial_prototypes(data.train_labels, data::kNumExpressions);
    auto r = bank->refresh(data.train_labels, space.semantic_graph, state.prototypes, conf, mode, space.ground_cost);
    state.prototypes = r.prototypes;
    state.alpha = r.alpha;
    state.task_graph = r.task_graph;
  }
  const Tensor ld_all = method::label_distribution(bank->features(), state.prototypes, DType::Float64);
  write_samples_csv((fs::path(run_dir) / "samples.csv").string(), data.train, data.noise.rate > 0, state.alpha,
                    space.semantic_graph, state.task_graph, ld_all);
  save_task_checkpoint((fs::path(run_dir) / kFinalCheckpoint).string(), net, *optimizer, &*bank, state, c,
                       data.convention, data.train_labels);

  result.metrics = metrics_json(result.validation);
  result.metrics["split"] = c.val_split;
  result.metrics["labels"] = c.labels;
  result.metrics["val_labels"] = c.val_labels;
  result.metrics["beta"] = c.beta;
  // Model selection: the final epoch is the run's result; the best epoch on
  // the same validation split is kept beside it (checkpoint_best), and its
  // accuracy is optimistic by the choice.
  result.metrics["final_epoch"] = state.epoch;
  result.metrics["best_epoch"] = state.best_epoch;
  result.metrics["best_accuracy"] = state.best_accuracy;
  result.metrics["best_mean_class_accuracy"] = state.best_mean_class_accuracy;
  if (!data.noise.flipped.empty()) {
    result.metrics["auroc_alpha"] = method::confidence_auroc(state.alpha, data.noise.flipped);
    result.metrics["noise_realised_rate"] = data.noise.realised_rate();
  }
  if (auto truth = true_distributions(data.train)) result.metrics["kl_true_label_distribution"] = mean_kl_true(*truth, data.train, ld_all);
  write_json_file((fs::path(run_dir) / "metrics.json").string(), result.metrics);
  return result;
}

std::string comparison_table(const nlohmann::json& base, const nlohmann::json& ours) {
  std::string out;
  char line[200];
  std::snprintf(line, sizeof line, "%-44s %10s %10s\n", "", "baseline", "SCE-ALD");
  out += line;
  auto row = [&](const char* label, const char* key) {
    if (!base.contains(key) || !ours.contains(key) || base[key].is_null() || ours[key].is_null()) return;
    std::snprintf(line, sizeof line, "%-44s %10.4f %10.4f\n", label, base[key].get<double>(), ours[key].get<double>());
    out += line;
  };
  row("accuracy (validation, final epoch)", "accuracy");
  row("accuracy (validation, best epoch)", "best_accuracy");
  row("mean class accuracy (validation)", "mean_class_accuracy");
  row("KL(votes || softmax) (validation)", "kl_votes");
  row("KL(true || softmax) (validation)", "kl_true");
  row("KL(true || amended label distribution) (train)", "kl_true_label_distribution");
  row("AUROC of alpha, clean vs flipped (train)", "auroc_alpha");
  return out;
}

RunResult run_training(const TrainConfig& given, const std::string& out_dir, bool resume, bool with_baseline,
                       const TrainHooks& hooks, const RunControl& control) {
  TrainConfig c = given;
  const std::string config_path = (fs::path(out_dir) / "config.json").string();
  if (!resume)
    for (const char* name : {kLatestCheckpoint, kFinalCheckpoint})
      SCEALD_CHECK(!fs::exists(fs::path(out_dir) / name), "--out ", out_dir, " already holds a run (", name,
                   "): continue it with --resume ", out_dir, ", or choose another --out");
  if (resume) {
    SCEALD_CHECK(fs::exists(config_path), "--resume ", out_dir, ": no config.json there (not a sceald train folder)");
    c = TrainConfig::from_json_text(io::read_file(config_path), config_path);
  }
  if (control.threads) c.threads = *control.threads;
  if (control.workers) c.workers = *control.workers;
  c.validate();
  if (c.threads > 0) omp_set_num_threads(c.threads);
  cuda::select_device(c.device);  // fails now, with the reason, when the device cannot be used
  for (const fs::path& folder : {fs::path(out_dir), fs::path(out_dir) / "baseline"})
    io::remove_stale_temporaries(folder.string());  // left by a run killed mid-write
  const cuda::MathModeGuard math(cuda::parse_math_mode(c.math));
  // A wrong dataset or a bad --init fails before the run folder is made (and not after Module A has trained).
  const TrainingData data = open_training_data(c);
  if (!c.init.empty() && c.stage != "ae") make_task_net(c, data.convention.channels, Device::cpu());
  fs::create_directories(out_dir);
  if (!resume) write_json_file(config_path, c.to_json());
  // Long runs say at their start how long they will take (a few timed steps; not worth it for small ones).
  const std::int64_t n = static_cast<std::int64_t>(data.train.size());
  if (hooks.note && !resume && n * (c.epochs + c.ae_epochs) >= kEstimateFromImages)
    hooks.note(describe_estimate(estimate_run(c, n, data.convention.channels), c));
  RunResult result;
  result.config = c;
  SemanticSpace space;
  if (c.stage != "task" || !fs::exists(fs::path(out_dir) / kSemanticFile)) {
    SCEALD_CHECK(c.stage != "task", "--stage task needs ", (fs::path(out_dir) / kSemanticFile).string(),
                 " from an earlier --stage ae run into the same --out folder");
  }
  space = prepare_semantic_space(c, data, out_dir, hooks);
  if (c.stage == "ae") return result;

  result.sceald = train_task(c, data, space, out_dir, resume, hooks, control);
  if (with_baseline && result.sceald->finished) {
    TrainConfig b = c;
    b.beta = 1.0;
    const std::string bdir = (fs::path(out_dir) / "baseline").string();
    fs::create_directories(bdir);
    if (!fs::exists(fs::path(bdir) / "config.json")) write_json_file((fs::path(bdir) / "config.json").string(), b.to_json());
    result.baseline = train_task(b, data, space, bdir, resume, hooks, control);
    if (result.baseline->finished) {
      result.table = comparison_table(result.baseline->metrics, result.sceald->metrics);
      write_json_file((fs::path(out_dir) / "comparison.json").string(),
                      {{"baseline", result.baseline->metrics}, {"sceald", result.sceald->metrics}});
    }
  }
  return result;
}

}  // namespace sceald::train
