#include "nets/sceald/losses.h"

#include <cmath>

#include "engine/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"

namespace sceald::method {

// Eq. 7: beta * entropy(f(x_i), y_i) + (1 - beta) * entropy(f(x_i), l_i),
// each a batch mean (engine/ops/loss.h). SPEC: CE with a distribution target
// is -sum_k l_i[k] log softmax(z_i)[k]; no gradient flows through l_i;
// beta = 1 is the baseline.
SceAldLossTerms sceald_loss_terms(const Tensor& logits, const Tensor& labels, const Tensor& label_distribution,
                                  double beta, const Tensor& given_distribution) {
  SCEALD_CHECK(std::isfinite(beta) && beta >= 0.0 && beta <= 1.0, "sceald_loss: beta must be in [0, 1], got ", beta);
  SceAldLossTerms out;
  out.hard = given_distribution.defined() ? soft_cross_entropy(logits, given_distribution.detach())
                                          : cross_entropy(logits, labels);
  if (beta == 1.0) {
    out.loss = out.hard;  // the baseline
    return out;
  }
  SCEALD_CHECK(label_distribution.defined(), "sceald_loss: beta = ", beta,
               " < 1 needs the label distributions [N, c] (Eq. 6)");
  out.soft = soft_cross_entropy(logits, label_distribution.detach());
  out.loss = add(mul(out.hard, beta), mul(out.soft, 1.0 - beta));
  return out;
}

Tensor sceald_loss(const Tensor& logits, const Tensor& labels, const Tensor& label_distribution, double beta,
                   const Tensor& given_distribution) {
  return sceald_loss_terms(logits, labels, label_distribution, beta, given_distribution).loss;
}

// SPEC: the label-distribution term is switched on from epoch 10 of 40
// (--ld-start-epoch); before it, beta is 1.
double beta_for_epoch(int epoch, int ld_start_epoch, double beta) {
  SCEALD_CHECK(epoch >= 1, "beta_for_epoch: epochs count from 1, got ", epoch);
  return epoch >= ld_start_epoch ? beta : 1.0;
}

}  // namespace sceald::method
