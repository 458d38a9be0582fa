// Activations and dropout.
#pragma once

#include "engine/rng.h"
#include "engine/tensor.h"

namespace sceald {

Tensor relu(const Tensor& x);
// weight [C] (one slope per channel, axis 1 of x) or [1] (shared); PyTorch's PReLU.
Tensor prelu(const Tensor& x, const Tensor& weight);
Tensor sigmoid(const Tensor& x);
// Training: zeroes each element with probability p and scales the rest by
// 1 / (1 - p), the mask drawn from `gen` (element i uses word i of one draw,
// so the CUDA kernel reproduces it). Evaluation: the identity.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace sceald
