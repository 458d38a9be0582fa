// Batch normalisation over axis 1 of [N, C] or [N, C, H, W] tensors.
#pragma once

#include "engine/tensor.h"

namespace sceald {

// Training: normalises with the batch statistics (biased variance) and, when
// running_mean / running_var are defined, updates them in place:
// r = (1 - momentum) r + momentum * stat, with the unbiased variance (PyTorch's rule).
// Evaluation: normalises with the running statistics.
// weight, bias [C] may be undefined (no affine transform).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum = 0.1, double eps = 1e-5);

}  // namespace sceald
