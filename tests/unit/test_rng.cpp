#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "engine/rng.h"

using namespace sceald;

// Known-answer vectors of Random123 (kat_vectors, philox4x32_10).
TEST(Philox, KnownAnswers) {
  auto expect = [](Philox4x32::Words got, std::array<std::uint32_t, 4> want) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], want[i]) << "lane " << i;
  };
  expect(Philox4x32::generate({{0, 0, 0, 0}}, 0, 0), {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  expect(Philox4x32::generate({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu),
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  expect(Philox4x32::generate({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u),
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST(Generator, StreamIsAFunctionOfSeedAndOffset) {
  Generator a(7), b(7), c(8);
  Tensor x = a.uniform({10}, 0, 1), y = b.uniform({10}, 0, 1), z = c.uniform({10}, 0, 1);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
  // Successive draws use disjoint counters: element i of the second draw is word i at the new offset.
  Tensor second = a.uniform({3}, 0, 1);
  EXPECT_EQ(second.to_vector<float>()[1], uniform_from_word(Philox4x32::word(7, 3, 1)));
}

TEST(Generator, MomentsAndPermutation) {
  Generator g(3);
  std::vector<double> n = g.normal({20000}, 1.0, 2.0, DType::Float64).to_vector<double>();
  double m = 0, v = 0;
  for (double x : n) m += x;
  m /= n.size();
  for (double x : n) v += (x - m) * (x - m);
  v /= n.size();
  EXPECT_NEAR(m, 1.0, 0.05);
  EXPECT_NEAR(std::sqrt(v), 2.0, 0.05);
  std::vector<std::int64_t> p = g.permutation(100);
  std::vector<std::int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(p, sorted);
}

// The fills take four words per Philox block and run on threads above 65,536
// elements; element i must still be word i (uniform) or the Box-Muller of
// words 2i and 2i+1 (normal), computed here one word at a time.
TEST(Generator, LargeFillsAreWordByWordTheStream) {
  const std::int64_t n = 70001;  // threaded, and not a multiple of 2 or 4
  Generator g(11);
  const std::vector<float> u = g.uniform({n}, -2, 3).to_vector<float>();
  const std::vector<float> z = g.normal({n}, 0.5, 1.5).to_vector<float>();
  const std::uint64_t normal_start = (n + 3) / 4;  // the uniform draw took ceil(n / 4) blocks
  for (std::int64_t i = 0; i < n; i += (i < 16 || i > n - 16) ? 1 : 997) {
    const auto k = static_cast<std::uint64_t>(i);
    const double w = static_cast<double>(uniform_from_word(Philox4x32::word(11, 0, k)));
    const float want_u = static_cast<float>(-2.0 + 5.0 * w);
    ASSERT_EQ(u[static_cast<std::size_t>(i)], want_u) << "uniform element " << i;
    const double u1 = 1.0 - static_cast<double>(uniform_from_word(Philox4x32::word(11, normal_start, 2 * k)));
    const double u2 = static_cast<double>(uniform_from_word(Philox4x32::word(11, normal_start, 2 * k + 1)));
    const float want_z =
        static_cast<float>(0.5 + 1.5 * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
    ASSERT_EQ(z[static_cast<std::size_t>(i)], want_z) << "normal element " << i;
  }
}
