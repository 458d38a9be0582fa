// Sums and means over all axes or a given set of axes.
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace sceald {

Tensor sum(const Tensor& x);  // all axes -> shape []
Tensor sum(const Tensor& x, std::vector<std::int64_t> axes, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::vector<std::int64_t> axes, bool keepdim = false);

// The gradient of broadcasting: sums `g` over the axes along which `shape`
// was broadcast to g's shape (differentiable).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);
// Broadcasts x to `shape` as a new contiguous tensor (differentiable).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace sceald
