// Gradient clipping by the global norm, after torch.nn.utils.clip_grad_norm_ (1.13).
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace sceald::optim {

// The norm of all gradients together, as if concatenated (parameters without
// a gradient are skipped): norm_type 2 is the L2 norm, INFINITY the largest
// magnitude, any other p >= 1 the p-norm. Then, in place, every gradient is
// scaled by min(1, max_norm / (total + 1e-6)). Returns the total norm before
// clipping; when it is NaN the gradients are left as they are.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace sceald::optim
