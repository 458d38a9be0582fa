// The nearest source index follows PyTorch's float32 rule, which differs from
// exact integer division for some ratios. Expected indices printed by
// torch 1.13: F.interpolate(arange(in).view(1,1,1,in), size=(1,out), mode='nearest').
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/upsample.h"

using sceald::kernels::cpu::nearest_source_index;

namespace {
std::vector<std::int64_t> indices(std::int64_t in, std::int64_t out) {
  std::vector<std::int64_t> v;
  for (std::int64_t j = 0; j < out; ++j) v.push_back(nearest_source_index(j, in, out));
  return v;
}
}  // namespace

TEST(UpsampleIndex, MatchesPyTorchWhereIntegerDivisionDiffers) {
  EXPECT_EQ(indices(26, 22), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18,
                                                         20, 21, 22, 23, 24}));
  EXPECT_EQ(indices(14, 46), (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4,
                                                         4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9,
                                                         9, 10, 10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13}));
  EXPECT_EQ(indices(3, 7), (std::vector<std::int64_t>{0, 0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(indices(1, 3), (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(indices(24, 48)[47], 23);
  // Here a product taken in double would give 0 and 1; PyTorch's float32 product gives 1 and 2.
  EXPECT_EQ(indices(2, 50)[25], 1);
  EXPECT_EQ(indices(4, 50)[25], 2);
}
