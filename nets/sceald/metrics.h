// What a run reports (SPEC "What a run reports"): top-1 accuracy, per-class
// accuracy, mean class accuracy and the confusion matrix; for FERPlus the KL
// divergence between the annotators' votes and the predicted distribution;
// and, for synthetic label noise, how well the confidence alpha separates
// clean from noisy samples (AUROC). Plain float64 arithmetic on the CPU.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/tensor.h"

namespace sceald::method {

// ---- classification

// argmax of each row of logits [N, c] (the first maximum on ties).
std::vector<std::int64_t> argmax_rows(const Tensor& logits);

struct ClassificationMetrics {
  int num_classes = 0;
  std::int64_t total = 0, correct = 0;
  double accuracy = 0.0;                    // correct / total
  std::vector<std::int64_t> confusion;      // [c, c] row-major: confusion[true * c + predicted]
  std::vector<std::int64_t> class_count;    // samples per true class
  std::vector<double> per_class_accuracy;   // recall of each true class; NaN for a class with no sample
  double mean_class_accuracy = 0.0;         // mean of per_class_accuracy over the classes that have samples

  std::int64_t count(int true_class, int predicted_class) const {
    return confusion[static_cast<std::size_t>(true_class * num_classes + predicted_class)];
  }
};

// Accumulates predictions over batches (an evaluation loop), then reports.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes);
  // truth and predicted in [0, c), same length.
  void add(std::span<const std::int64_t> truth, std::span<const std::int64_t> predicted);
  // labels int64 [N], logits [N, c]: predictions are argmax_rows(logits).
  void add(const Tensor& logits, const Tensor& labels);
  ClassificationMetrics metrics() const;  // throws when nothing was added

 private:
  int c_;
  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0;
};

ClassificationMetrics classification_metrics(std::span<const std::int64_t> truth,
                                             std::span<const std::int64_t> predicted, int num_classes);

// ---- distributions

// Only for kl_divergence on probabilities: q is clamped at kKlEps so that a
// predicted probability rounded to 0 gives a large finite term, not infinity.
inline constexpr double kKlEps = 1e-12;

// KL(p || q) = sum_k p_k log(p_k / q_k), with 0 log 0 = 0 and q_k clamped
// at `eps`. p and q are used as given (each should sum to 1).
double kl_divergence(std::span<const double> p, std::span<const double> q, double eps = kKlEps);

// SPEC (FERPlus): mean over samples of KL(votes_i || softmax(z_i)), votes
// [N, c] (counts or a distribution: each row is renormalised to sum 1 over
// the c kept classes; an all-zero row is an error), logits [N, c]. log
// softmax(z) is computed stably from the logits, so no epsilon is needed: the
// same number as PyTorch's kl_div(log_softmax(z), votes, reduction="batchmean").
double mean_kl_votes_to_logits(const Tensor& votes, const Tensor& logits);

// ---- confidence vs noise

// Area under the ROC curve of `scores` for telling positives from
// negatives: the probability that a random positive scores higher than a
// random negative, ties counting one half (the Mann-Whitney U statistic
// over n_pos * n_neg, from mid-ranks). Needs at least one of each.
double auroc(std::span<const double> scores, const std::vector<bool>& positive);

// SPEC (Table II): AUROC of alpha [N] for telling clean samples (positives)
// from the samples whose label noise flipped (`flipped`: their indices, as
// data::LabelNoiseReport::flipped holds them). 1 = every clean sample has a
// higher confidence than every noisy one; 0.5 = no separation.
double confidence_auroc(const Tensor& alpha, const std::vector<std::int64_t>& flipped);

}  // namespace sceald::method
