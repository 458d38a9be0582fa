// The AVX-512 2x2 max pooling against the general pooling loop (run in
// float64 on the same values, which takes the general path), values and
// argmax exactly: ties between taps (small integers), NaNs, widths with
// vector tails, odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/rng.h"
#include "kernels/cpu/max_pool_2x2.h"
#include "kernels/cpu/pooling.h"

using namespace sceald;

TEST(MaxPool2x2, MatchesTheGeneralLoopWithTiesAndNaNs) {
  struct Size {
    std::int64_t planes, H, W;
  };
  for (const Size s : {Size{3, 4, 64}, Size{2, 7, 33}, Size{5, 48, 48}, Size{1, 9, 100}, Size{4, 3, 3}}) {
    SCOPED_TRACE(testing::Message() << s.planes << " planes of " << s.H << " x " << s.W);
    const std::int64_t Ho = s.H / 2, Wo = s.W / 2, n = s.planes * s.H * s.W;
    Generator gen(static_cast<std::uint64_t>(n));
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t r = gen.next_below(100);
      x[static_cast<std::size_t>(i)] = r < 2 ? NAN : static_cast<float>(r % 5);  // many ties, 2% NaN
    }
    std::vector<float> out(static_cast<std::size_t>(s.planes * Ho * Wo));
    std::vector<std::int64_t> argmax(out.size());
    if (!kernels::cpu::max_pool2x2_forward(x.data(), s.planes, s.H, s.W, Ho, Wo, out.data(), argmax.data()))
      GTEST_SKIP() << "no AVX-512 on this CPU: max pooling always takes the general loop";

    const std::vector<double> xd(x.begin(), x.end());
    std::vector<double> expected(out.size());
    std::vector<std::int64_t> expected_argmax(out.size());
    const kernels::cpu::PoolGeometry g{s.H, s.W, 2, 2, 2, 2, 0, 0, 1, 1, Ho, Wo};
    kernels::cpu::max_pool2d_forward(xd.data(), s.planes, g, expected.data(), expected_argmax.data());
    for (std::size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(argmax[i], expected_argmax[i]) << "output " << i;
      if (std::isnan(expected[i]))
        ASSERT_TRUE(std::isnan(out[i])) << "output " << i;
      else
        ASSERT_EQ(out[i], static_cast<float>(expected[i])) << "output " << i;
    }
  }
}
