// Layers that only rearrange or repeat elements: Flatten, Upsample.
#include "engine/nn/layers.h"
#include "engine/ops/layout.h"
#include "engine/ops/upsample.h"

namespace sceald::nn {

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim); }

Upsample::Upsample(std::int64_t scale_factor) : scale_factor(scale_factor) {
  SCEALD_CHECK(scale_factor > 0, "Upsample: the scale factor must be a positive integer, got ", scale_factor);
}

Upsample::Upsample(std::array<std::int64_t, 2> size) : size(size) {
  SCEALD_CHECK(size[0] > 0 && size[1] > 0, "Upsample: the output size must be positive, got (", size[0], ", ",
               size[1], ")");
}

Tensor Upsample::forward(const Tensor& x) {
  if (size) return upsample_nearest2d(x, *size);
  if (scale_factor == 2) return upsample_nearest2x(x);
  SCEALD_CHECK(x.defined() && x.dim() == 4, "Upsample: expected a 4-D input [N, C, H, W], got ",
               x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  // For an integer factor k, PyTorch's nearest rule floor(i / k) is the size rule floor(i H / (k H)).
  return upsample_nearest2d(x, {x.size(2) * scale_factor, x.size(3) * scale_factor});
}

std::string Upsample::str() const {
  if (size) return str_cat("Upsample(size=(", (*size)[0], ", ", (*size)[1], "), mode='nearest')");
  return str_cat("Upsample(scale_factor=", scale_factor, ".0, mode='nearest')");
}

}  // namespace sceald::nn
