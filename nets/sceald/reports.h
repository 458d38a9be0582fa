// What a run writes besides checkpoints (SPEC "What a run reports"):
// log.jsonl (one JSON object per epoch), samples.csv (per training sample:
// id, given label, original label, alpha, S^s, S^t, l_i), metrics.json,
// and the synthetic set's true label distributions for comparisons.
#pragma once
#include <array>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/data/dataset.h"
#include "engine/tensor.h"

namespace sceald::train {

// Appends one line to a JSON-lines file (created when missing).
void append_json_line(const std::string& path, const nlohmann::json& record);
// Writes pretty JSON atomically.
void write_json_file(const std::string& path, const nlohmann::json& value);

// samples.csv: one row per training sample, in dataset order. Columns: id,
// label (given), original_label (before noise; empty when no noise was
// added), alpha, ss_<class> x7, st_<class> x7, ld_<class> x7. alpha [N],
// graphs and distributions [N, 7] (float64 or float32).
void write_samples_csv(const std::string& path, const data::Dataset& train, bool noise_added, const Tensor& alpha,
                       const Tensor& semantic_graph, const Tensor& task_graph, const Tensor& label_distributions);

// The synthetic set's true distributions for a split (synthetic.h's
// true_distribution.csv beside the split's images), keyed by sample id;
// nullopt for other datasets or when the file is missing.
std::optional<std::map<std::string, std::array<double, 7>>> true_distributions(const data::Dataset& dataset);

// Mean over samples of KL(true_i || q_i) for distributions q [N, 7] (rows in
// dataset order, each summing to 1).
double mean_kl_true(const std::map<std::string, std::array<double, 7>>& truth, const data::Dataset& dataset,
                    const Tensor& q);

}  // namespace sceald::train
