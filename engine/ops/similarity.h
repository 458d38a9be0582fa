// Cosine similarity and L2 normalisation along one axis (PyTorch's formulas).
#pragma once

#include "engine/tensor.h"

namespace sceald {

// a, b broadcastable; sum(a b) / sqrt(max(|a|^2 |b|^2, eps^2)) along `axis`, which is removed.
Tensor cosine_similarity(const Tensor& a, const Tensor& b, std::int64_t axis = 1, double eps = 1e-8);
// x / max(|x|, eps) along `axis` (F.normalize with p = 2).
Tensor l2_normalize(const Tensor& x, std::int64_t axis = 1, double eps = 1e-12);

}  // namespace sceald
