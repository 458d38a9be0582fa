// Layout ops beyond Tensor's own members (view, reshape, transpose,
// contiguous, clone, to): flatten, permute, concat.
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace sceald {

// Merges axes [start_axis, end] into one (a view when contiguous).
Tensor flatten(const Tensor& x, std::int64_t start_axis = 1);
// Reorders the axes as a new contiguous tensor.
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order);
// Joins tensors that agree on every axis but `axis`.
Tensor concat(const std::vector<Tensor>& parts, std::int64_t axis);

}  // namespace sceald
