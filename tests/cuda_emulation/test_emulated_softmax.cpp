// Softmax, log-softmax and the fused cross-entropies: the emulated CUDA
// kernels (kernels/cuda/softmax.cu) against kernels/cpu/softmax.h. Sums in
// double in another order (a block's tree sum for rows), then rounded: the
// reduction tolerance.
#include <limits>
#include <string>

#include "emulated_kernels.h"
#include "kernels/cpu/softmax.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

struct Lines {
  std::int64_t outer, axis, inner;
};

std::string describe(const Lines& s, bool log_output) {
  return std::string(log_output ? "log-softmax " : "softmax ") + "[" + std::to_string(s.outer) + ", " +
         std::to_string(s.axis) + ", " + std::to_string(s.inner) + "]";
}

template <typename T>
void expect_softmax_matches(const Lines& s, const std::vector<T>& x, bool log_output) {
  SCOPED_TRACE(describe(s, log_output));
  const Tolerance tol = reduction(dtype_v<T>);
  const std::size_t n = x.size();
  std::vector<T> y_cpu(n), y = poisoned<T>(n);
  kernels::cpu::softmax_forward(x.data(), y_cpu.data(), s.outer, s.axis, s.inner, log_output);
  emulated::softmax_forward(x.data(), y.data(), s.outer, s.axis, s.inner, log_output, nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu, tol));

  const std::vector<T> g = random_values<T>(n, 5);
  std::vector<T> gx_cpu(n), gx = poisoned<T>(n);
  kernels::cpu::softmax_backward(y_cpu.data(), g.data(), gx_cpu.data(), s.outer, s.axis, s.inner, log_output);
  emulated::softmax_backward(y_cpu.data(), g.data(), gx.data(), s.outer, s.axis, s.inner, log_output, nullptr);
  EXPECT_TRUE(matches_twin(gx, gx_cpu, tol));
}

template <typename T>
class EmulatedSoftmax : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedSoftmax, FloatTypes);

TYPED_TEST(EmulatedSoftmax, RowsAndLines) {
  // inner == 1 takes a block per row (more rows than blocks, rows longer and
  // shorter than a block); inner > 1 a thread per line.
  for (const Lines& s : {Lines{9, 301, 1}, Lines{10, 3, 1}, Lines{3, 1000, 1}, Lines{1, 1, 1}, Lines{4, 256, 1},
                         Lines{2, 7, 15}, Lines{3, 5, 97}, Lines{1, 1, 300}}) {
    const std::vector<TypeParam> x = random_values<TypeParam>(s.outer * s.axis * s.inner, s.axis, -4.0, 4.0);
    for (bool log_output : {false, true}) expect_softmax_matches<TypeParam>(s, x, log_output);
  }
}

// Rows far apart in scale (+-800: farther than exp's range): each row's
// maximum must be its own, or exp underflows to a zero sum. The maximum only
// shifts the exponent, so with logits of one scale a wrong maximum (say, a
// missing barrier before its tree) passes unseen; here it does not.
TYPED_TEST(EmulatedSoftmax, RowsFarApartInScale) {
  using T = TypeParam;
  const Lines s{8, 301, 1};
  std::vector<T> x = random_values<T>(s.outer * s.axis, 13, -4.0, 4.0);
  for (std::int64_t r = 0; r < s.outer; ++r)
    for (std::int64_t k = 0; k < s.axis; ++k) x[r * s.axis + k] += static_cast<T>(r % 2 == 0 ? 800 : -800);
  for (bool log_output : {false, true}) expect_softmax_matches<T>(s, x, log_output);
}

// A NaN makes its row NaN, and a row of -inf is NaN (-inf - -inf), on both
// devices: the maximum ignores NaN as the CPU's sequential loop does.
TYPED_TEST(EmulatedSoftmax, NanAndInfinityInARow) {
  using T = TypeParam;
  for (const Lines& s : {Lines{5, 300, 1}, Lines{5, 7, 3}}) {
    std::vector<T> x = random_values<T>(s.outer * s.axis * s.inner, 9, -4.0, 4.0);
    const std::int64_t row = s.axis * s.inner;
    x[1 * row + 2] = std::numeric_limits<T>::quiet_NaN();
    for (std::int64_t k = 0; k < row; ++k) x[3 * row + k] = -std::numeric_limits<T>::infinity();
    x[4 * row + 1] = std::numeric_limits<T>::infinity();
    for (bool log_output : {false, true}) expect_softmax_matches<T>(s, x, log_output);
  }
}

// The loss's gradient scale: d(mean)/d(sum) times the incoming gradient, as the engine computes it.
template <typename T>
double gradient_scale(const std::vector<T>& grad_loss, std::int64_t n) {
  return static_cast<double>(grad_loss[0]) / static_cast<double>(n);
}

template <typename T>
void expect_cross_entropy_matches(std::int64_t n, std::int64_t c) {
  SCOPED_TRACE("cross-entropy [" + std::to_string(n) + ", " + std::to_string(c) + "]");
  const Tolerance tol = reduction(dtype_v<T>);
  const std::size_t size = static_cast<std::size_t>(n * c);
  const std::vector<T> logits = random_values<T>(size, 11, -3.0, 3.0), grad_loss{T(0.7)};
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) labels[i] = (i * 5 + 3) % c;

  std::vector<T> log_probs_cpu(size), log_probs = poisoned<T>(size), loss = poisoned<T>(1);
  const double total = kernels::cpu::cross_entropy_forward(logits.data(), labels.data(), log_probs_cpu.data(), n, c);
  emulated::cross_entropy_forward(logits.data(), labels.data(), log_probs.data(), loss.data(), n, c, nullptr);
  EXPECT_TRUE(matches_twin(log_probs, log_probs_cpu, tol));
  EXPECT_TRUE(matches_twin(loss, {static_cast<T>(total / static_cast<double>(n))}, tol));

  std::vector<T> grad_cpu(size), grad = poisoned<T>(size);
  kernels::cpu::cross_entropy_backward(log_probs_cpu.data(), labels.data(), gradient_scale(grad_loss, n),
                                       grad_cpu.data(), n, c);
  emulated::cross_entropy_backward(log_probs_cpu.data(), labels.data(), grad_loss.data(), grad.data(), n, c, nullptr);
  EXPECT_TRUE(matches_twin(grad, grad_cpu, tol));
}

template <typename T>
void expect_soft_cross_entropy_matches(std::int64_t n, std::int64_t c) {
  SCOPED_TRACE("soft cross-entropy [" + std::to_string(n) + ", " + std::to_string(c) + "]");
  const Tolerance tol = reduction(dtype_v<T>);
  const std::size_t size = static_cast<std::size_t>(n * c);
  const std::vector<T> logits = random_values<T>(size, 12, -3.0, 3.0), grad_loss{T(0.7)};
  const std::vector<T> target = random_values<T>(size, 13, 0.0, 1.0);  // rows need not sum to 1

  std::vector<T> log_probs_cpu(size), log_probs = poisoned<T>(size), loss = poisoned<T>(1);
  const double total =
      kernels::cpu::soft_cross_entropy_forward(logits.data(), target.data(), log_probs_cpu.data(), n, c);
  emulated::soft_cross_entropy_forward(logits.data(), target.data(), log_probs.data(), loss.data(), n, c, nullptr);
  EXPECT_TRUE(matches_twin(log_probs, log_probs_cpu, tol));
  EXPECT_TRUE(matches_twin(loss, {static_cast<T>(total / static_cast<double>(n))}, tol));

  std::vector<T> grad_cpu(size), grad = poisoned<T>(size);
  kernels::cpu::soft_cross_entropy_backward(log_probs_cpu.data(), target.data(), gradient_scale(grad_loss, n),
                                            grad_cpu.data(), n, c);
  emulated::soft_cross_entropy_backward(log_probs_cpu.data(), target.data(), grad_loss.data(), grad.data(), n, c,
                                        nullptr);
  EXPECT_TRUE(matches_twin(grad, grad_cpu, tol));
}

TYPED_TEST(EmulatedSoftmax, CrossEntropies) {
  for (const auto& [n, c] : {std::pair<std::int64_t, std::int64_t>{13, 7}, {1, 1}, {3, 1000}}) {
    expect_cross_entropy_matches<TypeParam>(n, c);
    expect_soft_cross_entropy_matches<TypeParam>(n, c);  // [3, 1000]: more terms than threads
  }
  // More rows than threads, for the loss kernel's block-stride loop. The
  // log-softmax before it costs some twenty barriers a row, so only once.
  expect_cross_entropy_matches<TypeParam>(257, 3);
}

}  // namespace
}  // namespace sceald::emulation_testing
