// CUDA twin of the CPU Philox draws (engine/rng.cpp): the same element gets
// the same value on either device. `out` (n floats, device memory) is
// overwritten.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace sceald::kernels::cuda {

void uniform_float(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset, double low, double high,
                   cudaStream_t stream);

}  // namespace sceald::kernels::cuda
