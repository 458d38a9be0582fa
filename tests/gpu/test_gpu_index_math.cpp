// The index arithmetic of the CUDA backward kernels (kernels/cuda/index_math.h)
// checked on the host against brute force, and the strided-layout merging of
// the element-wise kernels. These run on every machine.
#include <gtest/gtest.h>

#include <set>

#include "kernels/cpu/upsample.h"
#include "kernels/cuda/index_math.h"
#ifdef SCEALD_WITH_CUDA
#include "kernels/cuda/strided_layout.h"
#endif

using namespace sceald::kernels;

namespace {

// PyTorch's pooled size (engine/ops/pooling.cpp), for the brute force below.
std::int64_t pooled(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d, bool ceil_mode) {
  const std::int64_t span = d * (k - 1) + 1;
  const std::int64_t num = in + 2 * p - span + (ceil_mode ? s - 1 : 0);
  std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

TEST(GpuIndexMath, PoolingWindowRangeHoldsEveryWindowThatTouchesAnInput) {
  int checked = 0;
  for (std::int64_t k = 1; k <= 4; ++k)
    for (std::int64_t s = 1; s <= 3; ++s)
      for (std::int64_t p = 0; p <= k / 2; ++p)
        for (std::int64_t d = 1; d <= 3; ++d)
          for (std::int64_t in = 1; in <= 13; ++in)
            for (bool ceil_mode : {false, true}) {
              const std::int64_t outs = pooled(in, k, s, p, d, ceil_mode);
              if (outs < 1) continue;
              for (std::int64_t pos = 0; pos < in; ++pos) {
                const cuda::IndexRange r = cuda::pool_windows_touching(pos, k, s, p, d, outs);
                ASSERT_GE(r.lo, 0);
                ASSERT_LE(r.hi, outs - 1);
                for (std::int64_t o = 0; o < outs; ++o)
                  for (std::int64_t i = 0; i < k; ++i)
                    if (o * s - p + i * d == pos)
                      ASSERT_TRUE(o >= r.lo && o <= r.hi)
                          << "window " << o << " touches " << pos << " (k " << k << ", s " << s << ", p " << p << ", d "
                          << d << ", in " << in << ") but lies outside [" << r.lo << ", " << r.hi << "]";
                ++checked;
              }
            }
  EXPECT_GT(checked, 1000);
}

TEST(GpuIndexMath, AdaptiveBinRangeIsExactlyTheBinsHoldingAnInput) {
  for (std::int64_t ins = 1; ins <= 31; ++ins)
    for (std::int64_t outs = 1; outs <= 31; ++outs)
      for (std::int64_t pos = 0; pos < ins; ++pos) {
        std::set<std::int64_t> holding;
        for (std::int64_t i = 0; i < outs; ++i)
          if (cuda::adaptive_start(i, ins, outs) <= pos && pos < cuda::adaptive_end(i, ins, outs)) holding.insert(i);
        const cuda::IndexRange r = cuda::adaptive_bins_holding(pos, ins, outs);
        ASSERT_FALSE(holding.empty());
        ASSERT_EQ(*holding.begin(), r.lo) << ins << " -> " << outs << ", position " << pos;
        ASSERT_EQ(*holding.rbegin(), r.hi) << ins << " -> " << outs << ", position " << pos;
        ASSERT_EQ(static_cast<std::int64_t>(holding.size()), r.hi - r.lo + 1);
      }
}

TEST(GpuIndexMath, NearestSourcesMatchTheCpuAndTheirInverseRanges) {
  for (std::int64_t in = 1; in <= 40; ++in)
    for (std::int64_t out = 1; out <= 100; ++out) {
      for (std::int64_t i = 0; i < out; ++i)
        ASSERT_EQ(cuda::nearest_source(i, in, out), cpu::nearest_source_index(i, in, out)) << in << " -> " << out;
      for (std::int64_t s = 0; s <= in; ++s) {
        std::int64_t first = out;
        for (std::int64_t i = 0; i < out; ++i)
          if (cpu::nearest_source_index(i, in, out) >= s) {
            first = i;
            break;
          }
        ASSERT_EQ(cuda::first_output_at_or_after(s, in, out), first) << in << " -> " << out << ", source " << s;
      }
    }
}

#ifdef SCEALD_WITH_CUDA
TEST(GpuIndexMath, StridedLayoutDropsUnitAxesAndMergesContiguousOnes) {
  cuda::StridedLayout l;
  // A contiguous [2, 3, 4] and a broadcast [1, 3, 1] view of it.
  ASSERT_TRUE(cuda::make_strided_layout({2, 3, 4}, {12, 4, 1}, {0, 1, 0}, l));
  EXPECT_EQ(l.dims, 3);  // b breaks every merge
  ASSERT_TRUE(cuda::make_strided_layout({2, 1, 3, 4}, {12, 12, 4, 1}, {12, 5, 4, 1}, l));
  EXPECT_EQ(l.dims, 1);  // both contiguous: one axis, the unit axis dropped
  EXPECT_EQ(l.shape[0], 24);
  EXPECT_EQ(l.a[0], 1);
  // A transposed view merges nothing.
  ASSERT_TRUE(cuda::make_strided_layout({4, 3}, {1, 4}, {3, 1}, l));
  EXPECT_EQ(l.dims, 2);
  EXPECT_EQ(l.a[0], 1);
  EXPECT_EQ(l.a[1], 4);
  // Nine axes that cannot merge are refused (the op reports it).
  EXPECT_FALSE(cuda::make_strided_layout(std::vector<std::int64_t>(9, 2), {1, 2, 4, 8, 16, 32, 64, 128, 256},
                                         {256, 128, 64, 32, 16, 8, 4, 2, 1}, l));
}
#endif

}  // namespace
