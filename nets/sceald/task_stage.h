// Modules B and C as a training stage: the task network trained with Eq. 7,
// the feature bank, prototypes (Eq. 4), confidences (Eq. 5) and label
// distributions (Eq. 6), refreshed at the end of every epoch that uses them;
// evaluation on the validation split after every epoch; a checkpoint after
// every epoch (resume continues bit for bit); and the whole `sceald train`
// run (Auto-Encoder, task, optional baseline with beta = 1).
//
// Recipe (epochs counted from 1): just before epoch ld_start one pass
// without augmentation fills the bank and gives the first prototypes
// (alpha = 1); in each step of an epoch with beta_for_epoch < 1 the batch's
// features go into the bank and l_i comes from the latest prototypes; at the
// epoch's end the bank refreshes alpha and the prototypes. A run that never
// used label distributions (the baseline) gets one such pass and refresh
// after its last epoch, so its samples.csv and AUROC are comparable.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nets/sceald/autoencoder_stage.h"
#include "nets/sceald/evaluate.h"
#include "nets/sceald/run_state.h"

namespace sceald::train {

struct RunControl {
  int stop_after_epoch = 0;  // > 0: stop (after checkpointing) once this epoch is done, as an interruption would
  // Settings that change the speed, not the results: given, they replace the
  // config's (on --resume, config.json's).
  std::optional<int> threads;  // OpenMP threads (0: OpenMP's default)
  std::optional<int> workers;  // loader threads
};

struct TaskResult {
  bool finished = false;          // all epochs done (false when stopped early)
  EvalResult validation;          // after the last epoch
  nlohmann::json metrics;         // metrics.json's content
};

// Trains (or, with resume, continues from <run_dir>/checkpoint_latest) the
// task network and writes log.jsonl, checkpoints, samples.csv, metrics.json
// into run_dir.
TaskResult train_task(const TrainConfig& config, const TrainingData& data, const SemanticSpace& space,
                      const std::string& run_dir, bool resume, const TrainHooks& hooks = {},
                      const RunControl& control = {});

struct RunResult {
  std::optional<TaskResult> sceald;    // absent for --stage ae
  std::optional<TaskResult> baseline;  // with --with-baseline
  std::string table;                   // the side-by-side table (with --with-baseline)
  TrainConfig config;                  // the settings the run used (config.json's on resume)
};

// All of `sceald train`: config.json, the Auto-Encoder stage (shared), the
// task stage, and with `with_baseline` the same run with beta = 1 in
// <out>/baseline. With `resume`, the config is read from <out>/config.json.
RunResult run_training(const TrainConfig& config, const std::string& out_dir, bool resume, bool with_baseline,
                       const TrainHooks& hooks = {}, const RunControl& control = {});

// Baseline vs SCE-ALD: accuracy, mean class accuracy, KL to votes, KL to
// the true distributions (predictions on validation; amended label
// distributions on train).
std::string comparison_table(const nlohmann::json& baseline, const nlohmann::json& sceald);

}  // namespace sceald::train
