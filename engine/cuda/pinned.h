// Page-locked (pinned) host memory for the loader-to-GPU path.
//
// A batch assembled in pinned memory is copied to the device by DMA, without
// the driver's extra staging copy. pinned_empty() returns an ordinary CPU
// tensor whose storage happens to be pinned: fill it on the CPU, then
// .to(Device::cuda(i)) as usual. Where pinning is impossible (a build without
// CUDA, a machine without a usable GPU) it returns ordinary host memory,
// which behaves the same, only slower to copy; is_pinned() tells which.
// Freed pinned blocks are kept (up to 1 GiB) for the next request of the
// same size, since pinning pages is slow.
#pragma once

#include "engine/tensor.h"

namespace sceald::cuda {

Tensor pinned_empty(const Shape& shape, DType dtype = DType::Float32);
bool is_pinned(const Tensor& t);

}  // namespace sceald::cuda
