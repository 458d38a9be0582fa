// Module A as a training stage (SPEC "Module A"): trains the VGG10
// Auto-Encoder with Eq. 1,
//   L_S = mean_i [ mse(x_i, x^_i) + gamma * (1 - cos(v_{y_i}, g(x_i))) ],
// with Adam, then freezes it and computes, once, the code g(x_i) and the
// semantic CR-graph S^s_i (Eq. 2) of every training image without
// augmentation. The result is saved to <out>/semantic.safetensors (ae.*
// weights, codes, semantic_graph, word_vectors) and reused when present, so a
// resumed run or the baseline of --with-baseline does not train it again.
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"
#include "nets/sceald/run_state.h"
#include "nets/sceald/train_config.h"

namespace sceald::train {

// Progress of the current pass: stage ("ae", "task", "eval", ...), epoch, images done of total.
struct TrainHooks {
  std::function<void(const std::string& stage, int epoch, std::int64_t done, std::int64_t total)> batch;
  std::function<void(const nlohmann::json& epoch_record)> epoch;
  std::function<void(const std::string& text)> note;  // lines for the user at the start of a stage
};

struct SemanticSpace {
  Tensor word_vectors;    // V [7, d] float32, class order
  Tensor codes;           // g(x_i) [N, d] float32
  Tensor semantic_graph;  // S^s [N, 7] float64 (Eq. 2)
  Tensor ground_cost;     // [7, 7] float64 for --confidence-distance ot
};

// Trains (or, when <out_dir>/semantic.safetensors exists for this training
// set, loads) the semantic space.
SemanticSpace prepare_semantic_space(const TrainConfig& config, const TrainingData& data, const std::string& out_dir,
                                     const TrainHooks& hooks = {});

}  // namespace sceald::train
