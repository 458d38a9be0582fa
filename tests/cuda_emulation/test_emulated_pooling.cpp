// Max pooling and adaptive average pooling: the emulated CUDA kernels
// (kernels/cuda/pooling.cu) against kernels/cpu/pooling.h. Bit for bit: both
// read the same elements and add them in the same order, and the gathering
// backward kernels must find every window the CPU's scatter reaches.
#include <random>
#include <sstream>
#include <string>

#include "emulated_kernels.h"
#include "kernels/cpu/pooling.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

using kernels::cpu::PoolGeometry;

struct Window {
  std::int64_t kernel, stride, pad, dilation;
};

// PyTorch's output extent: floor (or ceil) of the window count, and in ceil
// mode no last window that starts inside the right padding.
std::int64_t pooled_extent(std::int64_t in, const Window& w, bool ceil_mode) {
  const std::int64_t span = w.dilation * (w.kernel - 1) + 1;
  const std::int64_t num = in + 2 * w.pad - span + (ceil_mode ? w.stride - 1 : 0);
  std::int64_t out = (num >= 0 ? num / w.stride : -((-num + w.stride - 1) / w.stride)) + 1;
  if (ceil_mode && (out - 1) * w.stride >= in + w.pad) --out;
  return out;
}

PoolGeometry geometry(std::int64_t H, std::int64_t W, const Window& rows, const Window& cols, bool ceil_mode) {
  return PoolGeometry{.H = H,
                      .W = W,
                      .kh = rows.kernel,
                      .kw = cols.kernel,
                      .sh = rows.stride,
                      .sw = cols.stride,
                      .ph = rows.pad,
                      .pw = cols.pad,
                      .dh = rows.dilation,
                      .dw = cols.dilation,
                      .Ho = pooled_extent(H, rows, ceil_mode),
                      .Wo = pooled_extent(W, cols, ceil_mode)};
}

std::string describe(const PoolGeometry& g) {
  std::ostringstream s;
  s << g.H << "x" << g.W << " -> " << g.Ho << "x" << g.Wo << ", kernel " << g.kh << "x" << g.kw << ", stride " << g.sh
    << "x" << g.sw << ", padding " << g.ph << "x" << g.pw << ", dilation " << g.dh << "x" << g.dw;
  return s.str();
}

// Small integers, so windows hold ties (the first maximum wins), with a few
// -inf and NaN (the window's last NaN wins).
template <typename T>
std::vector<T> pooling_input(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int> pick(0, 39);
  std::vector<T> v(n);
  for (T& x : v) {
    const int r = pick(gen);
    x = r == 0 ? std::numeric_limits<T>::quiet_NaN() : r == 1 ? -std::numeric_limits<T>::infinity() : T(r % 4);
  }
  return v;
}

template <typename T>
void expect_max_pooling_matches(const PoolGeometry& g, std::uint64_t seed) {
  SCOPED_TRACE(describe(g));
  const std::int64_t planes = 3, in = planes * g.H * g.W, out = planes * g.Ho * g.Wo;
  const std::vector<T> x = pooling_input<T>(in, seed);
  std::vector<T> y_cpu(out);
  std::vector<std::int64_t> argmax_cpu(out);
  kernels::cpu::max_pool2d_forward(x.data(), planes, g, y_cpu.data(), argmax_cpu.data());
  std::vector<T> y = poisoned<T>(out);
  std::vector<std::int64_t> argmax = poisoned<std::int64_t>(out);
  emulated::max_pool2d_forward(x.data(), planes, g, y.data(), argmax.data(), nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu));
  EXPECT_TRUE(matches_twin(argmax, argmax_cpu));

  const std::vector<T> gy = random_values<T>(out, seed + 1);
  std::vector<T> gx_cpu(in);
  kernels::cpu::max_pool2d_backward(gy.data(), argmax_cpu.data(), planes, g.H * g.W, g.Ho * g.Wo, gx_cpu.data());
  std::vector<T> gx = poisoned<T>(in);
  emulated::max_pool2d_backward(gy.data(), argmax_cpu.data(), planes, g, gx.data(), nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu));
}

template <typename T>
class EmulatedPooling : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedPooling, FloatTypes);

TYPED_TEST(EmulatedPooling, MaxPoolingOfTheNetworks) {
  const Window vgg{2, 2, 0, 1}, overlapping{3, 2, 1, 1};
  expect_max_pooling_matches<TypeParam>(geometry(12, 10, vgg, vgg, false), 1);  // float: the CPU's 2x2 fast path
  expect_max_pooling_matches<TypeParam>(geometry(13, 11, vgg, vgg, false), 2);  // odd: the last row and column dropped
  expect_max_pooling_matches<TypeParam>(geometry(13, 11, vgg, vgg, true), 3);   // ceil mode: partial windows
  expect_max_pooling_matches<TypeParam>(geometry(15, 14, overlapping, overlapping, true), 4);
}

TYPED_TEST(EmulatedPooling, MaxPoolingOnRandomGeometries) {
  std::mt19937_64 gen(2024);
  const auto draw = [&](int lo, int hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen); };
  int tried = 0;
  while (tried < 48) {
    const auto window = [&] {
      Window w{draw(1, 4), draw(1, 3), 0, draw(1, 3)};
      w.pad = draw(0, static_cast<int>(w.kernel / 2));  // PyTorch's limit: half the kernel
      return w;
    };
    const Window rows = window(), cols = window();
    const PoolGeometry g = geometry(draw(1, 12), draw(1, 12), rows, cols, draw(0, 1) == 1);
    if (g.Ho < 1 || g.Wo < 1) continue;  // the window does not fit
    expect_max_pooling_matches<TypeParam>(g, 100 + tried);
    ++tried;
  }
}

template <typename T>
void expect_adaptive_average_matches(std::int64_t H, std::int64_t W, std::int64_t oh, std::int64_t ow,
                                     std::uint64_t seed) {
  SCOPED_TRACE(std::to_string(H) + "x" + std::to_string(W) + " -> " + std::to_string(oh) + "x" + std::to_string(ow));
  const std::int64_t planes = 3, in = planes * H * W, out = planes * oh * ow;
  const std::vector<T> x = random_values<T>(in, seed);
  std::vector<T> y_cpu(out), y = poisoned<T>(out);
  kernels::cpu::adaptive_avg_pool2d_forward(x.data(), planes, H, W, oh, ow, y_cpu.data());
  emulated::adaptive_avg_pool2d_forward(x.data(), planes, H, W, oh, ow, y.data(), nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu));

  const std::vector<T> gy = random_values<T>(out, seed + 1);
  std::vector<T> gx_cpu(in), gx = poisoned<T>(in);
  kernels::cpu::adaptive_avg_pool2d_backward(gy.data(), planes, H, W, oh, ow, gx_cpu.data());
  emulated::adaptive_avg_pool2d_backward(gy.data(), planes, H, W, oh, ow, gx.data(), nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu));
}

TYPED_TEST(EmulatedPooling, AdaptiveAveragePooling) {
  expect_adaptive_average_matches<TypeParam>(13, 10, 1, 1, 10);    // global pooling
  expect_adaptive_average_matches<TypeParam>(13, 10, 5, 3, 11);    // bins of unequal sizes
  expect_adaptive_average_matches<TypeParam>(13, 10, 7, 7, 12);    // overlapping bins
  expect_adaptive_average_matches<TypeParam>(13, 10, 20, 13, 13);  // more bins than inputs
  expect_adaptive_average_matches<TypeParam>(7, 5, 7, 5, 14);      // the identity
  expect_adaptive_average_matches<TypeParam>(1, 1, 3, 2, 15);
  expect_adaptive_average_matches<TypeParam>(9, 14, 4, 16, 16);
}

}  // namespace
}  // namespace sceald::emulation_testing
