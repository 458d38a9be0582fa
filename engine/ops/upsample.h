// Nearest-neighbour up-sampling of NCHW tensors (the Auto-Encoder's decoder).
#pragma once

#include <array>

#include "engine/tensor.h"

namespace sceald {

// x [N, C, H, W] -> [N, C, oh, ow]; output (i, j) copies input
// (floor(i H / oh), floor(j W / ow)), PyTorch's 'nearest' rule. Backward sums
// the gradients of all outputs that copied an input.
Tensor upsample_nearest2d(const Tensor& x, std::array<std::int64_t, 2> output_size);
// The same with output size (2H, 2W).
Tensor upsample_nearest2x(const Tensor& x);

}  // namespace sceald
