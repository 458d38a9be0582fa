// The Philox uniform draw: the emulated CUDA kernel (kernels/cuda/random.cu)
// against the engine's CPU Generator (engine/rng.cpp), bit for bit: the same
// Philox words and the same double expression, multiply and add rounded
// apart, including for bounds that float cannot hold.
#include <cmath>
#include <string>

#include "emulated_kernels.h"
#include "engine/rng.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

struct Draw {
  std::int64_t n;
  std::uint64_t seed, words_before;  // the generator's earlier draws set the offset
  double low, high;
};

TEST(EmulatedRandom, UniformDrawIsTheCpuDraw) {
  const double init_bound = 1.0 / std::sqrt(27.0);  // PyTorch's default init, fan_in 27
  for (const Draw& d : {Draw{100003, 42, 10, -init_bound, init_bound}, Draw{1001, 7, 0, -0.1, 0.3},
                        Draw{257, 0xDEADBEEFCAFEull, 3, 0.0, 1.0}, Draw{1, 1, 1ull << 40, -2.5, 1e-3}}) {
    SCOPED_TRACE("n " + std::to_string(d.n) + ", seed " + std::to_string(d.seed) + ", bounds [" +
                 std::to_string(d.low) + ", " + std::to_string(d.high) + ")");
    Generator cpu(d.seed);
    cpu.reserve(d.words_before);
    const std::uint64_t offset = cpu.offset();
    const std::vector<float> expected = cpu.uniform({d.n}, d.low, d.high, DType::Float32).to_vector<float>();
    std::vector<float> drawn = poisoned<float>(static_cast<std::size_t>(d.n));
    emulated::uniform_float(drawn.data(), d.n, d.seed, offset, d.low, d.high, nullptr);
    EXPECT_TRUE(matches_twin(drawn, expected));
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
