// Losses, each fused and numerically stable, averaged over the batch.
#pragma once

#include "engine/tensor.h"

namespace sceald {

// logits [N, C], labels int64 [N] in [0, C): mean_i -log softmax(logits_i)[label_i].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
// logits [N, C], target [N, C] (each row a distribution, same dtype as logits):
// mean_i -sum_k target_ik log softmax(logits_i)_k. No gradient flows to target.
Tensor soft_cross_entropy(const Tensor& logits, const Tensor& target);
// Mean over every element of (a - b)^2; gradients flow to both.
Tensor mse_loss(const Tensor& a, const Tensor& b);

}  // namespace sceald
