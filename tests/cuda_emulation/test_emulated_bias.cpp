// The bias kernels of linear and conv2d (kernels/cuda/bias.cu). The CPU
// writes the bias inline (engine/ops/linalg.cpp, kernels/cpu/conv_gemm.cpp),
// with no function of its own, so the twins here are the definitions as
// loops: a copy, or one addition per element, exact on any IEEE device.
#include <string>

#include "emulated_kernels.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

template <typename T>
class EmulatedBias : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedBias, FloatTypes);

TYPED_TEST(EmulatedBias, FillRowsWithBias) {
  using T = TypeParam;
  for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{13, 7}, {1, 1000}, {300, 3}, {0, 5}}) {
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols));
    const std::vector<T> bias = random_values<T>(cols, 1);
    std::vector<T> expected(rows * cols), y = poisoned<T>(rows * cols);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c) expected[r * cols + c] = bias[c];
    emulated::fill_rows_with_bias(bias.data(), y.data(), rows, cols, nullptr);
    EXPECT_TRUE(matches_twin(y, expected));
  }
}

TYPED_TEST(EmulatedBias, AddChannelBias) {
  using T = TypeParam;
  struct Extents {
    std::int64_t n, channels, inner;
  };
  for (const Extents& s : {Extents{2, 5, 49}, Extents{3, 300, 1}, Extents{1, 1, 1000}}) {
    SCOPED_TRACE(std::to_string(s.n) + " x " + std::to_string(s.channels) + " x " + std::to_string(s.inner));
    const std::int64_t total = s.n * s.channels * s.inner;
    const std::vector<T> bias = random_values<T>(s.channels, 2), y0 = random_values<T>(total, 3);
    std::vector<T> expected = y0, y = y0;
    for (std::int64_t b = 0; b < s.n; ++b)
      for (std::int64_t c = 0; c < s.channels; ++c)
        for (std::int64_t i = 0; i < s.inner; ++i) expected[(b * s.channels + c) * s.inner + i] += bias[c];
    emulated::add_channel_bias(y.data(), bias.data(), s.n, s.channels, s.inner, nullptr);
    EXPECT_TRUE(matches_twin(y, expected));
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
