// Sums: the emulated CUDA kernels (kernels/cuda/reduce.cu) against
// kernels/cpu/reduce.h and the CPU convolution's bias gradient. Both sum in
// double, in different orders (block tree sums, chunks): the reduction
// tolerance. The long sums take values in [0, 1), without cancellation, so
// that the bound measures the order of the additions and not the luck of
// a sum near 0.
#include <stdexcept>
#include <string>

#include "emulated_kernels.h"
#include "kernels/cpu/conv_gemm.h"
#include "kernels/cpu/reduce.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

struct Extents {
  std::int64_t outer, reduce, inner;
};

template <typename T>
class EmulatedReductions : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedReductions, FloatTypes);

// Shapes for each path of sum_middle_axis.
struct SumCase {
  Extents extents;
  bool split;  // summed in chunks, then a second pass
  const char* path;
};
const SumCase kSumCases[] = {
    {{3, 100003, 1}, true, "few long rows: chunks summed by blocks"},
    {{1, 300009, 1}, true, "one long row: chunks summed by blocks"},
    {{7, 300, 2}, true, "few columns: chunks summed by threads"},
    {{2, 40001, 3}, true, "few long columns: chunks summed by threads"},
    {{6, 7, 45}, false, "a thread per column"},
    {{42, 5, 9}, false, "a thread per column"},
    {{1, 64, 4096}, false, "a thread per column"},
    {{9, 301, 1}, false, "a block per row"},
    {{1, 1, 1}, false, "a block per row"},
    {{5, 0, 3}, false, "nothing to add: zeros"},
};

TYPED_TEST(EmulatedReductions, SumOverTheMiddleAxis) {
  using T = TypeParam;
  for (const auto& [s, split, path] : kSumCases) {
    SCOPED_TRACE("[" + std::to_string(s.outer) + ", " + std::to_string(s.reduce) + ", " + std::to_string(s.inner) +
                 "]: " + path);
    const std::vector<T> x = random_values<T>(s.outer * s.reduce * s.inner, s.reduce, 0.0, 1.0);
    const std::size_t out = static_cast<std::size_t>(s.outer * s.inner);
    std::vector<T> sum_cpu(out), sum = poisoned<T>(out);
    kernels::cpu::sum_middle_axis(x.data(), sum_cpu.data(), s.outer, s.reduce, s.inner);
    std::vector<double> scratch(emulated::sum_middle_axis_scratch_bytes(s.outer, s.reduce, s.inner) / sizeof(double));
    ASSERT_EQ(!scratch.empty(), split) << "the shape no longer takes the path it was chosen for";
    emulated::sum_middle_axis(x.data(), sum.data(), s.outer, s.reduce, s.inner,
                              scratch.empty() ? nullptr : scratch.data(), nullptr);
    EXPECT_TRUE(matches_twin(sum, sum_cpu, reduction(dtype_v<T>)));
  }
}

TYPED_TEST(EmulatedReductions, ASplitSumWithoutScratchIsAnError) {
  using T = TypeParam;
  ASSERT_GT(emulated::sum_middle_axis_scratch_bytes(1, 300009, 1), 0u);
  const std::vector<T> x(300009, T(1));
  std::vector<T> out(1);
  EXPECT_THROW(emulated::sum_middle_axis(x.data(), out.data(), 1, 300009, 1, nullptr, nullptr), std::runtime_error);
}

// A convolution's bias gradient: the sum over images and pixels per channel,
// per (image, channel) plane first, then over the images (one image: one pass).
TYPED_TEST(EmulatedReductions, SumPerChannel) {
  using T = TypeParam;
  for (const Extents& s : {Extents{3, 5, 7}, Extents{2, 3, 1000}, Extents{4, 7, 300}, Extents{1, 6, 37},
                           Extents{0, 4, 9}, Extents{2, 3, 0}}) {
    SCOPED_TRACE("[" + std::to_string(s.outer) + ", " + std::to_string(s.reduce) + ", " + std::to_string(s.inner) +
                 "]");
    const std::vector<T> x = random_values<T>(s.outer * s.reduce * s.inner, 3);
    const std::size_t channels = static_cast<std::size_t>(s.reduce);
    std::vector<T> sum_cpu(channels), sum = poisoned<T>(channels);
    std::vector<double> scratch = poisoned<double>(emulated::sum_per_channel_scratch_bytes(s.outer, s.reduce, s.inner) /
                                                   sizeof(double));
    kernels::cpu::conv2d_backward_bias(x.data(), s.outer, s.reduce, s.inner, sum_cpu.data());
    emulated::sum_per_channel(x.data(), sum.data(), s.outer, s.reduce, s.inner,
                              scratch.empty() ? nullptr : scratch.data(), nullptr);
    EXPECT_TRUE(matches_twin(sum, sum_cpu, reduction(dtype_v<T>)));
  }
}

TYPED_TEST(EmulatedReductions, SumPerChannelOfSeveralImagesWithoutScratchIsAnError) {
  using T = TypeParam;
  ASSERT_GT(emulated::sum_per_channel_scratch_bytes(2, 3, 5), 0u);
  const std::vector<T> x(2 * 3 * 5, T(1));
  std::vector<T> out(3);
  EXPECT_THROW(emulated::sum_per_channel(x.data(), out.data(), 2, 3, 5, nullptr, nullptr), std::runtime_error);
}

}  // namespace
}  // namespace sceald::emulation_testing
