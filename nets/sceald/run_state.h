// What a training run holds between steps, and its checkpoints.
//
// TrainingData: the opened splits, the input convention and the label noise
// (re-created identically from the config on resume: the noise comes from a
// Generator seeded by the run's seed).
//
// A task checkpoint is one .safetensors file, written atomically:
//   tensors   model.<name>            every parameter and buffer of the task network
//             optim.<key>             the Adam state (Optimizer::state_dict)
//             rng.dropout.<i>         int64 [2]: seed and offset of each Dropout's generator
//             bank.features           float32 [N, D] when the feature bank is in use
//             prototypes, alpha, task_graph   float64, when label distributions have started
//             train_labels            int64 [N]: the (possibly noisy) labels trained on
//   metadata  epoch (the last finished one), config (JSON), class_names
//             (comma-separated, expressions.h order), input_convention,
//             arch, width, in_channels, num_classes, format = sceald-train-v1,
//             lr_step (optimiser steps taken: the schedule's position),
//             best_epoch, best_accuracy, best_mean_class_accuracy (validation)
// The loader needs no saved state: an epoch's order and augmentation are a
// function of (seed, epoch) (engine/data/loader.h).
//
// Devices: --device cuda[:N] puts the networks and their optimiser state on
// the GPU; batches are assembled in pinned host memory and copied over, and
// everything per sample (feature bank, prototypes, label distributions,
// metrics) stays on the CPU in float64 as on a CPU run. Checkpoints always
// hold CPU tensors, and `sceald eval/predict --device` load them anywhere.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/data/label_noise.h"
#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "nets/sceald/prototypes.h"
#include "nets/sceald/train_config.h"
#include "nets/convert.h"
#include "nets/vgg16.h"

namespace sceald::train {

inline constexpr const char* kLatestCheckpoint = "checkpoint_latest.safetensors";
inline constexpr const char* kFinalCheckpoint = "checkpoint_final.safetensors";
// The weights of the epoch with the best validation accuracy (the first of equals), a full task checkpoint.
inline constexpr const char* kBestCheckpoint = "checkpoint_best.safetensors";
inline constexpr const char* kSemanticFile = "semantic.safetensors";

// One split of the configured dataset, its FERPlus/synthetic labels read as `labels` (plurality or fer2013).
data::Dataset open_split(const TrainConfig& config, const std::string& split, const std::string& labels);
// The convention the task network expects: the --init file's, else grey01
// for the grey sets (synthetic, ferplus), imagenet otherwise.
data::InputConvention input_convention_for(const TrainConfig& config);

struct TrainingData {
  data::Dataset train, val;
  data::InputConvention convention;
  data::LabelNoiseReport noise;  // empty when config.noise == 0
  Tensor train_labels;           // int64 [N], the labels trained on
};
TrainingData open_training_data(const TrainConfig& config);

// Loader settings for a pass over a split: batch size and workers from the
// config, the given transform switches and order seed, and batches in pinned
// host memory when `device` is a GPU (cuda::pinned_empty).
data::LoaderOptions loader_options(const TrainConfig& config, const data::InputConvention& convention, Device device,
                                   bool augment, bool shuffle, std::uint64_t seed);
// The batch allocator for a model on `device`: pinned memory for a GPU, the default otherwise.
data::BatchAllocator batch_allocator_for(Device device);
// CPU copies of named tensors (a state_dict of a model on the GPU), for saving.
std::vector<std::pair<std::string, Tensor>> on_cpu(std::vector<std::pair<std::string, Tensor>> tensors);

// The task network with both outputs of one pass.
struct TaskNet {
  std::shared_ptr<nn::Module> module;
  std::int64_t feature_dim = 0;
  nets::LogitsAndFeature forward_with_feature(const Tensor& x) const;
  std::vector<nn::Dropout*> dropouts() const;  // in tree order
  Device device = Device::cpu();                // where its parameters live
};
// The task network the config describes (arch, width, stem; 7 classes).
nets::NetSpec task_spec(const TrainConfig& config, std::int64_t in_channels);
// Fresh (seeded from config.seed) or from config.init, moved to `device`; in training mode.
TaskNet make_task_net(const TrainConfig& config, std::int64_t in_channels, Device device = Device::cpu());

struct TaskState {
  int epoch = 0;       // epochs finished
  std::int64_t lr_step = 0;  // optimiser steps taken (the schedule's position); -1: not recorded (older runs)
  int best_epoch = 0;        // the epoch with the best validation accuracy so far (0: none yet)
  double best_accuracy = 0;
  double best_mean_class_accuracy = 0;
  Tensor prototypes;   // [7, D] float64, undefined before label distributions start
  Tensor alpha;        // [N] float64 from the last refresh
  Tensor task_graph;   // [N, 7] float64 from the last refresh
};

void save_task_checkpoint(const std::string& path, const TaskNet& net, const optim::Optimizer& optimizer,
                          const method::FeatureBank* bank, const TaskState& state, const TrainConfig& config,
                          const data::InputConvention& convention, const Tensor& train_labels);
// Restores everything save_task_checkpoint wrote into the given objects
// (built from the same config); returns the state. `bank` may be null.
TaskState load_task_checkpoint(const std::string& path, TaskNet& net, optim::Optimizer& optimizer,
                               std::optional<method::FeatureBank>& bank, const Tensor& train_labels);

// A trained network for evaluation: the config, the convention and the net
// in evaluation mode, from a run folder (final checkpoint, else the latest)
// or a checkpoint file.
struct LoadedRun {
  TrainConfig config;
  data::InputConvention convention;
  TaskNet net;
  int epoch = 0;
  std::string path;
};
LoadedRun load_run(const std::string& dir_or_file, Device device = Device::cpu());

}  // namespace sceald::train
