// Pooling over the two trailing axes of NCHW tensors, with PyTorch's rules.
#pragma once

#include <array>

#include "engine/tensor.h"

namespace sceald {

struct MaxPool2dParams {
  std::array<std::int64_t, 2> kernel{2, 2};
  std::array<std::int64_t, 2> stride{2, 2};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  bool ceil_mode = false;  // round the output size up (a last window may start inside the padding-free input only)
};

// x [N, C, H, W] -> [N, C, Ho, Wo]; padding counts as -infinity. Backward routes
// each gradient to the arg-max of its window (the first one on ties, like PyTorch).
Tensor max_pool2d(const Tensor& x, const MaxPool2dParams& params = {});

// x [N, C, H, W] -> [N, C, oh, ow]; bin i spans [floor(i H / oh), ceil((i + 1) H / oh)).
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> output_size);

}  // namespace sceald
