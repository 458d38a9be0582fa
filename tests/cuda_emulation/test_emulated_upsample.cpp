// Nearest-neighbour resampling: the emulated CUDA kernels
// (kernels/cuda/upsample.cu, with index_math.h's device branch) against
// kernels/cpu/upsample.h. Bit for bit: the forward copies, and the gathering
// backward must add exactly the outputs the CPU's scatter adds, in its order.
#include <random>
#include <string>

#include "emulated_kernels.h"
#include "kernels/cpu/upsample.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

template <typename T>
void expect_upsampling_matches(std::int64_t H, std::int64_t W, std::int64_t oh, std::int64_t ow, std::uint64_t seed) {
  SCOPED_TRACE(std::to_string(H) + "x" + std::to_string(W) + " -> " + std::to_string(oh) + "x" + std::to_string(ow));
  const std::int64_t planes = 2, in = planes * H * W, out = planes * oh * ow;
  const std::vector<T> x = random_values<T>(in, seed);
  std::vector<T> y_cpu(out), y = poisoned<T>(out);
  kernels::cpu::upsample_nearest2d_forward(x.data(), planes, H, W, oh, ow, y_cpu.data());
  emulated::upsample_nearest2d_forward(x.data(), planes, H, W, oh, ow, y.data(), nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu));

  const std::vector<T> gy = random_values<T>(out, seed + 1);
  std::vector<T> gx_cpu(in), gx = poisoned<T>(in);
  kernels::cpu::upsample_nearest2d_backward(gy.data(), planes, H, W, oh, ow, gx_cpu.data());
  emulated::upsample_nearest2d_backward(gy.data(), planes, H, W, oh, ow, gx.data(), nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu));
}

template <typename T>
class EmulatedUpsampling : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedUpsampling, FloatTypes);

TYPED_TEST(EmulatedUpsampling, TheSizesOfTheNetworks) {
  expect_upsampling_matches<TypeParam>(7, 5, 14, 10, 1);  // 2x: the shift shortcut
  expect_upsampling_matches<TypeParam>(7, 5, 7, 5, 2);    // the identity
  expect_upsampling_matches<TypeParam>(7, 5, 22, 9, 3);   // scales with float32 rounding in the source index
  expect_upsampling_matches<TypeParam>(7, 5, 26, 46, 4);
  expect_upsampling_matches<TypeParam>(13, 11, 4, 3, 5);  // down: most inputs feed no output
  expect_upsampling_matches<TypeParam>(1, 1, 5, 3, 6);
  expect_upsampling_matches<TypeParam>(97, 89, 250, 301, 7);  // long walks in first_output_at_or_after
  expect_upsampling_matches<TypeParam>(5, 300, 7, 1001, 8);
}

TYPED_TEST(EmulatedUpsampling, RandomSizes) {
  std::mt19937_64 gen(77);
  const auto draw = [&](int lo, int hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen); };
  for (int c = 0; c < 40; ++c) {
    const std::int64_t H = draw(1, 20), W = draw(1, 20);
    expect_upsampling_matches<TypeParam>(H, W, draw(1, 60), draw(1, 60), 100 + c);
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
