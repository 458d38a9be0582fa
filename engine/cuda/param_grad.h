// The gradient check of the optimisers' CUDA path (engine/optim/sgd.cpp,
// adam.cpp): Optimizer::checked_grad covers CPU parameters only.
#pragma once

#include <cstddef>
#include <string>

#include "engine/tensor.h"

namespace sceald::cuda {

// Parameter `index` of optimiser `optimizer` lives on a GPU: returns its
// gradient (made contiguous, stored back into param.grad()) or an undefined
// tensor when it has none. Errors name the optimiser, the parameter and both
// tensors: gradient on another device, of another dtype or shape, or a
// parameter that is not contiguous.
Tensor checked_param_grad(const std::string& optimizer, std::size_t index, Tensor& param);

}  // namespace sceald::cuda
