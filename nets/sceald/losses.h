// The training loss of SCE-ALD (paper Eq. 7):
//
//   L = beta * CE(z_i, y_i) + (1 - beta) * CE(z_i, l_i),
//
// batch means of the cross-entropy with the given one-hot label and of the
// cross-entropy with the amended label distribution l_i (Eq. 6), where
// CE(z, l) = -sum_k l[k] log softmax(z)[k] (SPEC). Differentiable in the
// logits z only: l_i is a detached target. beta = 1 is the baseline (plain
// cross-entropy; no label distribution needed).
#pragma once

#include "engine/tensor.h"

namespace sceald::method {

inline constexpr double kDefaultBeta = 0.7;         // SPEC / paper
inline constexpr int kDefaultLdStartEpoch = 10;     // SPEC --ld-start-epoch

struct SceAldLossTerms {
  Tensor loss;  // the total, a scalar with autograd history
  Tensor hard;  // CE(z, y), scalar (part of loss's graph)
  Tensor soft;  // CE(z, l), scalar; undefined when beta == 1
};

// logits [N, c] (float32 or float64), labels int64 [N], label_distribution
// [N, c] in the logits' dtype (may be undefined when beta == 1), beta in [0, 1].
// given_distribution (optional, [N, c] in the logits' dtype): an extension
// beyond the paper for --labels votes: the first term becomes
// CE(z_i, votes_i), the annotators' vote distribution, instead of the
// one-hot CE(z_i, y_i); `labels` is then unused.
SceAldLossTerms sceald_loss_terms(const Tensor& logits, const Tensor& labels, const Tensor& label_distribution,
                                  double beta, const Tensor& given_distribution = {});
Tensor sceald_loss(const Tensor& logits, const Tensor& labels, const Tensor& label_distribution, double beta,
                   const Tensor& given_distribution = {});

// SPEC: the label-distribution term is on from epoch `ld_start_epoch`
// (epochs counted from 1, as the paper's "from the 10th epoch"); before it
// beta is 1. Returns the beta to use in `epoch`.
double beta_for_epoch(int epoch, int ld_start_epoch, double beta);

}  // namespace sceald::method
