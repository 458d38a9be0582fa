#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/random.cuh"
#include "kernels/philox.h"

namespace sceald::kernels::cuda {

namespace {
__global__ void uniform_float_kernel(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset, double low,
                                     double high) {
  for (std::int64_t i = global_index(); i < n; i += global_stride()) {
    const float u = uniform_from_word(Philox4x32::word(seed, offset, static_cast<std::uint64_t>(i)));
    // The CPU draw's expression in double, with the multiply and the add
    // rounded separately as there (nvcc would otherwise fuse them into an FMA).
    out[i] = static_cast<float>(__dadd_rn(low, __dmul_rn(high - low, static_cast<double>(u))));
  }
}
}  // namespace

void uniform_float(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset, double low, double high,
                   cudaStream_t stream) {
  if (n == 0) return;
  uniform_float_kernel<<<grid_for(n), kThreads, 0, stream>>>(out, n, seed, offset, low, high);
  SCEALD_CUDA_LAUNCH_CHECK();
}

}  // namespace sceald::kernels::cuda
