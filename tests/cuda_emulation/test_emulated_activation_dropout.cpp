// ReLU, sigmoid, PReLU and dropout: the emulated CUDA kernels
// (kernels/cuda/activation.cu) against kernels/cpu/activation.h. Selections,
// single products and the Philox mask are exact on any IEEE device; sigmoid
// goes through exp (the elementwise tolerance) and PReLU's weight gradient
// through a block's tree sum (the reduction tolerance).
#include <cmath>
#include <limits>
#include <string>

#include "emulated_kernels.h"
#include "kernels/cpu/activation.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

// Odd sizes: no multiple of the block size (256) nor of a Philox block (4).
constexpr std::int64_t kOuter = 3, kChannels = 5, kInner = 63, kCount = kOuter * kChannels * kInner;

template <typename T>
class EmulatedActivation : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedActivation, FloatTypes);

TYPED_TEST(EmulatedActivation, Relu) {
  using T = TypeParam;
  std::vector<T> x = random_values<T>(kCount, 1, -2.0, 2.0);
  x[7] = T(0);
  x[8] = -T(0);  // the kink: no gradient there, as in PyTorch
  x[9] = std::numeric_limits<T>::quiet_NaN();  // stays NaN, and passes its gradient
  const std::vector<T> g = random_values<T>(kCount, 2);
  std::vector<T> y_cpu(kCount), y = poisoned<T>(kCount);
  kernels::cpu::relu_forward(x.data(), y_cpu.data(), kCount);
  emulated::relu_forward(x.data(), y.data(), kCount, nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu));
  std::vector<T> gx_cpu(kCount), gx = poisoned<T>(kCount);
  kernels::cpu::relu_backward(y_cpu.data(), g.data(), gx_cpu.data(), kCount);
  emulated::relu_backward(y_cpu.data(), g.data(), gx.data(), kCount, nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu));
  EXPECT_TRUE(std::isnan(y[9]));
  EXPECT_EQ(gx[9], g[9]);
}

TYPED_TEST(EmulatedActivation, Sigmoid) {
  using T = TypeParam;
  std::vector<T> x = random_values<T>(kCount, 3, -8.0, 8.0);
  x[0] = T(-1000);  // exp would overflow without the two-sided formula
  x[1] = T(1000);
  const std::vector<T> g = random_values<T>(kCount, 4);
  std::vector<T> y_cpu(kCount), y = poisoned<T>(kCount);
  kernels::cpu::sigmoid_forward(x.data(), y_cpu.data(), kCount);
  emulated::sigmoid_forward(x.data(), y.data(), kCount, nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu, elementwise(dtype_v<T>)));
  std::vector<T> gx_cpu(kCount), gx = poisoned<T>(kCount);
  kernels::cpu::sigmoid_backward(y_cpu.data(), g.data(), gx_cpu.data(), kCount);
  emulated::sigmoid_backward(y_cpu.data(), g.data(), gx.data(), kCount, nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu, elementwise(dtype_v<T>)));
}

TYPED_TEST(EmulatedActivation, PreluPerChannelAndShared) {
  using T = TypeParam;
  const std::vector<T> x = random_values<T>(kCount, 5, -2.0, 2.0), g = random_values<T>(kCount, 6);
  for (std::int64_t channels : {kChannels, std::int64_t{1}}) {
    SCOPED_TRACE(std::to_string(channels) + " weight(s)");
    const std::int64_t inner = kCount / kOuter / channels;
    const std::size_t c = static_cast<std::size_t>(channels);
    const std::vector<T> weight = random_values<T>(c, 7, 0.0, 0.5);
    std::vector<T> y_cpu(kCount), y = poisoned<T>(kCount);
    kernels::cpu::prelu_forward(x.data(), weight.data(), y_cpu.data(), kOuter, channels, inner);
    emulated::prelu_forward(x.data(), weight.data(), y.data(), kOuter, channels, inner, nullptr);
    EXPECT_TRUE(matches_twin(y, y_cpu));

    // The weight gradient's device scratch (per-plane sums), poisoned: a sum read before it is written shows.
    std::vector<double> scratch =
        poisoned<double>(emulated::prelu_grad_weight_scratch_bytes(kOuter, channels) / sizeof(double));
    std::vector<T> gx_cpu(kCount), gw_cpu(c), gx = poisoned<T>(kCount), gw = poisoned<T>(c);
    kernels::cpu::prelu_backward(x.data(), weight.data(), g.data(), gx_cpu.data(), gw_cpu.data(), kOuter, channels,
                                 inner);
    emulated::prelu_backward(x.data(), weight.data(), g.data(), gx.data(), gw.data(), kOuter, channels, inner,
                             scratch.data(), nullptr);
    EXPECT_TRUE(matches_twin(gx, gx_cpu));
    EXPECT_TRUE(matches_twin(gw, gw_cpu, reduction(dtype_v<T>)));

    // Either gradient alone.
    std::vector<T> gx_alone = poisoned<T>(kCount), gw_alone = poisoned<T>(c);
    emulated::prelu_backward(x.data(), weight.data(), g.data(), gx_alone.data(), static_cast<T*>(nullptr), kOuter,
                             channels, inner, nullptr, nullptr);
    scratch = poisoned<double>(scratch.size());
    emulated::prelu_backward(x.data(), weight.data(), g.data(), static_cast<T*>(nullptr), gw_alone.data(), kOuter,
                             channels, inner, scratch.data(), nullptr);
    EXPECT_TRUE(matches_twin(gx_alone, gx_cpu));
    EXPECT_TRUE(matches_twin(gw_alone, gw_cpu, reduction(dtype_v<T>)));
  }
}

// A weight gradient over several planes per channel needs the scratch buffer.
TYPED_TEST(EmulatedActivation, PreluWeightGradientWithoutScratchIsAnError) {
  using T = TypeParam;
  ASSERT_GT(emulated::prelu_grad_weight_scratch_bytes(kOuter, kChannels), 0u);
  const std::vector<T> x = random_values<T>(kCount, 5), g = random_values<T>(kCount, 6), weight(kChannels, T(0.25));
  std::vector<T> gw(kChannels);
  EXPECT_THROW(emulated::prelu_backward(x.data(), weight.data(), g.data(), static_cast<T*>(nullptr), gw.data(), kOuter,
                                        kChannels, kCount / kOuter / kChannels, nullptr, nullptr),
               std::runtime_error);
}

// The same Philox words, hence the same mask, for any (seed, start).
TYPED_TEST(EmulatedActivation, DropoutDrawsTheCpuMask) {
  using T = TypeParam;
  const std::vector<T> x = random_values<T>(kCount, 8);
  struct Draw {
    std::uint64_t seed, start;
    double p;
  };
  for (const Draw& d :
       {Draw{77, 5, 0.3}, Draw{0, 0, 0.5}, Draw{0xFFFFFFFF12345678ull, 1ull << 40, 0.9}, Draw{3, 1, 0.0}}) {
    SCOPED_TRACE("seed " + std::to_string(d.seed) + ", start " + std::to_string(d.start) + ", p " +
                 std::to_string(d.p));
    std::vector<T> y_cpu(kCount), mask_cpu(kCount), y = poisoned<T>(kCount), mask = poisoned<T>(kCount);
    kernels::cpu::dropout_forward(x.data(), y_cpu.data(), mask_cpu.data(), kCount, d.seed, d.start, d.p);
    emulated::dropout_forward(x.data(), y.data(), mask.data(), kCount, d.seed, d.start, d.p, nullptr);
    EXPECT_TRUE(matches_twin(mask, mask_cpu));
    EXPECT_TRUE(matches_twin(y, y_cpu));
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
