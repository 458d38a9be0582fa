// Loaded weights must be finite: a NaN or infinity in a checkpoint (saved
// from a diverged run, or a damaged file whose header still parses) would
// otherwise flow through training and evaluation as if nothing were wrong.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sceald::io {

// Throws sceald::Error naming `source`, the tensor, the first non-finite
// value and its element index, for any floating-point tensor holding NaN or
// infinity. Integer tensors are not looked at.
void require_finite(const std::vector<std::pair<std::string, Tensor>>& tensors, const std::string& source);

}  // namespace sceald::io
