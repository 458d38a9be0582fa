// Class prototypes in the task space (paper Eq. 4) and the feature bank that
// regenerates them once per epoch (SPEC "When").
//
// Eq. 4 as SPEC fixes it (`weighted`, the default): the confidence-weighted
// mean of the class's features,
//   p_k = sum_{i: y_i = k} alpha_i f(x_i) / sum_{i: y_i = k} alpha_i;
// the paper's literal formula (`literal`), p_k = (1/n_k) sum_{i: y_i = k}
// alpha_i f(x_i), changes scale with alpha and is offered as an option.
// alpha_i = 1 before the first update (then both modes give the plain mean).
//
// A class with no sample keeps its previous prototype; with no previous
// prototype either, it is an error naming the class (the label distributions
// of Eq. 6 need a prototype for every class).
//
// The cycle per epoch (SPEC "When"): during the epoch's forward passes the
// features f(x_i) go into a FeatureBank, keyed by sample index; at its end
// refresh_prototypes computes, from those features, the task CR-graph S^t
// against the prototypes in use during the epoch (Eq. 3), the confidences
// alpha (Eq. 5), and from them the new prototypes (Eq. 4). Before the first
// epoch that uses label distributions, one pass without augmentation fills
// the bank and initial_prototypes gives the first prototypes (alpha = 1).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "engine/tensor.h"
#include "nets/sceald/confidence.h"

namespace sceald::method {

enum class PrototypeMode { Weighted, Literal };
const char* prototype_mode_name(PrototypeMode mode);            // "weighted", "literal"
PrototypeMode parse_prototype_mode(std::string_view name);      // throws listing the choices

// Eq. 4 for features [N, D] (float32 or float64), labels int64 [N] in
// [0, num_classes), alpha [N] (positive; undefined = all 1) and the previous
// prototypes [num_classes, D] (may be undefined). Float64 [num_classes, D].
Tensor compute_prototypes(const Tensor& features, const Tensor& labels, const Tensor& alpha,
                          std::int64_t num_classes, PrototypeMode mode = PrototypeMode::Weighted,
                          const Tensor& previous = Tensor());
// SPEC: alpha_i = 1 before the first update.
Tensor initial_prototypes(const Tensor& features, const Tensor& labels, std::int64_t num_classes);

struct PrototypeRefresh {
  Tensor task_graph;  // S^t [N, c] float64, against the prototypes used during the epoch (Eq. 3)
  Tensor distance;    // W(S^s_i, S^t_i) [N] float64
  Tensor alpha;       // [N] float64 (Eq. 5)
  Tensor prototypes;  // the regenerated prototypes [c, D] float64 (Eq. 4)
};

// One epoch-end update from features [N, D], labels [N], the semantic
// CR-graph [N, c] (computed once from the frozen Auto-Encoder) and the
// current prototypes [c, D]. `ground_cost` [c, c] is needed for the ot distance.
PrototypeRefresh refresh_prototypes(const Tensor& features, const Tensor& labels, const Tensor& semantic_graph,
                                    const Tensor& prototypes, const ConfidenceOptions& confidence_options = {},
                                    PrototypeMode mode = PrototypeMode::Weighted,
                                    const Tensor& ground_cost = Tensor());

// The task features of every training sample, gathered during an epoch's
// forward passes. Rows are float32 (N x D x 4 bytes: 200 MB for RAF-DB at
// D = 4096). A row not written in an epoch (a dropped last batch) keeps its
// latest value; ready() says whether every row has been written at least once.
class FeatureBank {
 public:
  FeatureBank(std::int64_t num_samples, std::int64_t feature_dim);

  // Copies features [B, D] (float32 or float64; their values only, no
  // autograd) into the rows `sample_indices` (int64 [B], each in [0, N)).
  // A CUDA tensor is copied to the host here, on purpose: the bank lives there.
  void store(const Tensor& features, const Tensor& sample_indices);
  void store(const Tensor& features, std::span<const std::int64_t> sample_indices);

  void begin_epoch();  // forgets which rows this epoch wrote; the values stay
  std::int64_t stored_this_epoch() const { return stored_this_epoch_; }
  bool ready() const { return never_stored_ == 0; }
  std::int64_t never_stored() const { return never_stored_; }

  const Tensor& features() const { return features_; }  // float32 [N, D]
  std::int64_t num_samples() const { return features_.size(0); }
  std::int64_t feature_dim() const { return features_.size(1); }

  // refresh_prototypes on the bank's features; throws naming the count and
  // the first rows never written unless ready().
  PrototypeRefresh refresh(const Tensor& labels, const Tensor& semantic_graph, const Tensor& prototypes,
                           const ConfidenceOptions& confidence_options = {},
                           PrototypeMode mode = PrototypeMode::Weighted, const Tensor& ground_cost = Tensor()) const;
  // initial_prototypes on the bank's features (same readiness check).
  Tensor initial_prototypes(const Tensor& labels, std::int64_t num_classes) const;

 private:
  void check_ready(const char* op) const;

  Tensor features_;
  std::vector<std::uint8_t> stored_ever_, stored_epoch_;
  std::int64_t stored_this_epoch_ = 0;
  std::int64_t never_stored_ = 0;
};

}  // namespace sceald::method
