// Numerically stable softmax and log-softmax along one axis.
#pragma once

#include "engine/tensor.h"

namespace sceald {

Tensor softmax(const Tensor& x, std::int64_t axis);
Tensor log_softmax(const Tensor& x, std::int64_t axis);

}  // namespace sceald
