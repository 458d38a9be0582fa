// The amended label distribution of each sample (paper Eq. 6):
//
//   l_i[k] = 1 / (||f(x_i) - p_k||^2 + eps),  then normalised to sum 1,
//
// from the current task features and the latest prototypes (SPEC: computed
// in every training step from detached features; no gradient flows through
// l_i). The paper writes no eps; SPEC leaves it open. This project uses
// eps = 1e-3 (kLabelDistributionEps), the same small constant as Eq. 5: it
// only matters when a feature sits on a prototype (then that class takes
// almost all the mass instead of dividing by zero), since squared distances
// of fc6 features are orders of magnitude larger. Exposed as a parameter.
#pragma once

#include "engine/tensor.h"

namespace sceald::method {

inline constexpr double kLabelDistributionEps = 1e-3;

// features [B, D] and prototypes [c, D] (float32 or float64, CPU): l [B, c]
// in `dtype` (float32 or float64; the logits' dtype, for soft_cross_entropy),
// computed in float64 by direct differences, every row summing to 1. The
// result never requires a gradient.
Tensor label_distribution(const Tensor& features, const Tensor& prototypes, DType dtype,
                          double eps = kLabelDistributionEps);
// The same in the features' dtype.
Tensor label_distribution(const Tensor& features, const Tensor& prototypes);

}  // namespace sceald::method
