// Evaluation of a task network on a dataset split (SPEC "At test time"):
// argmax z for accuracy, per-class accuracy, mean class accuracy and the
// confusion matrix; softmax(z) against the annotators' votes when the split
// has distributions (KL(votes || softmax)), and against the synthetic set's
// true distributions when available. Images go through the evaluation
// transform (no augmentation), exactly as during training's evaluation.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/data/dataset.h"
#include "nets/sceald/autoencoder_stage.h"
#include "nets/sceald/metrics.h"
#include "nets/sceald/run_state.h"

namespace sceald::train {

// Test-time augmentation: none, or flip (softmax averaged over each image and its mirror image).
enum class Tta { None, Flip };
// "none" or "flip"; anything else is an error naming the choices.
Tta parse_tta(const std::string& name);

struct EvalResult {
  method::ClassificationMetrics metrics;
  std::string labels;              // the label mode the split was read with (set by evaluate_checkpoint)
  Tta tta = Tta::None;
  std::optional<double> kl_votes;  // mean KL(votes || softmax(z)) when the split has distributions
  std::optional<double> kl_true;   // mean KL(true || softmax(z)) on the synthetic set
  Tensor logits;                   // [N, 7] in dataset order; with Tta::Flip, log of the averaged softmax
};

// Runs `net` (switched to evaluation mode, then back to what it was) over `dataset`.
EvalResult evaluate_net(const TaskNet& net, const data::Dataset& dataset, const data::InputConvention& convention,
                        int side, int batch_size, int workers = 1, const TrainHooks& hooks = {},
                        Tta tta = Tta::None);

// {"accuracy", "per_class_accuracy", "mean_class_accuracy", "confusion",
//  "kl_votes"?, "kl_true"?, "count", "labels"?, "tta"}; NaN per-class entries become null.
nlohmann::json metrics_json(const EvalResult& result);

// `sceald eval`: the run in `checkpoint` (a run folder or checkpoint file) on
// dataset/root/split (empty: the run's own dataset, root and validation split).
struct EvalRequest {
  std::string checkpoint;
  std::string dataset, data_root, split, labels;
  Tta tta = Tta::None;
  int batch_size = 64;
  int workers = 1;
  std::string device = "cpu";  // cpu or cuda[:N]
};
EvalResult evaluate_checkpoint(const EvalRequest& request, const TrainHooks& hooks = {});

// `sceald predict`: softmax(z) [7] for each image file, decoded and
// normalised like training's evaluation transform.
std::vector<std::vector<double>> predict_images(const std::string& checkpoint, const std::vector<std::string>& images,
                                                const std::string& device = "cpu");

}  // namespace sceald::train
