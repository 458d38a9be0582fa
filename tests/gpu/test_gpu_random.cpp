// The CUDA Philox draw is the CPU draw, element for element.
#include <cmath>
#include <vector>

#include "engine/rng.h"
#include "gpu_test.h"

#ifdef SCEALD_WITH_CUDA
#include "kernels/cuda/random.cuh"
#endif

using namespace sceald;

TEST(GpuRandom, UniformMatchesTheCpuStream) {
  SCEALD_REQUIRE_GPU();
#ifdef SCEALD_WITH_CUDA
  const std::int64_t n = 100003;  // not a multiple of the block or of 4
  Generator cpu(42);
  cpu.reserve(10);  // start at a non-zero offset
  const std::uint64_t offset = cpu.offset();
  // Bounds as PyTorch's default init draws them (+-1/sqrt(fan_in)): not exact in float.
  const double bound = 1.0 / std::sqrt(27.0);
  Tensor expected = cpu.uniform({n}, -bound, bound);
  Tensor out = Tensor::full({n}, NAN).to(Device::cuda(0));  // poisoned: an unwritten element fails
  kernels::cuda::uniform_float(static_cast<float*>(out.raw_data()), n, 42, offset, -bound, bound, nullptr);
  std::vector<float> got = out.to(Device::cpu()).to_vector<float>();
  std::vector<float> want = expected.to_vector<float>();
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
#endif
}
