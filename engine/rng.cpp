#include "engine/rng.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sceald {

// Both fills take each Philox block once (four words) and split the blocks
// among threads: every element is a pure function of its index, so the
// result is the same for any thread count (and the same as the CUDA twins').
constexpr std::int64_t kParallelDraws = std::int64_t{1} << 16;

Tensor Generator::uniform(const Shape& shape, double low, double high, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  const std::int64_t n = t.numel();
  const std::uint64_t start = reserve(static_cast<std::uint64_t>(n));
  dispatch_floating(dtype, "Generator::uniform", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    const std::int64_t blocks = (n + 3) / 4;
#pragma omp parallel for if (n > kParallelDraws) schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const Philox4x32::Words w = Philox4x32::block(seed_, start + static_cast<std::uint64_t>(b));
      for (std::int64_t i = 4 * b; i < std::min(4 * b + 4, n); ++i) {
        const float u = uniform_from_word(w.v[i - 4 * b]);
        p[i] = static_cast<T>(low + (high - low) * static_cast<double>(u));
      }
    }
  });
  return t;
}

Tensor Generator::normal(const Shape& shape, double mean, double stddev, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  const std::int64_t n = t.numel();
  const std::uint64_t start = reserve(2 * static_cast<std::uint64_t>(n));
  dispatch_floating(dtype, "Generator::normal", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    const std::int64_t blocks = (n + 1) / 2;
#pragma omp parallel for if (n > kParallelDraws) schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const Philox4x32::Words w = Philox4x32::block(seed_, start + static_cast<std::uint64_t>(b));
      for (std::int64_t i = 2 * b; i < std::min(2 * b + 2, n); ++i) {
        // Box-Muller on words 2i and 2i+1; u1 in (0, 1] keeps the log finite.
        const int lane = static_cast<int>(2 * (i - 2 * b));
        const double u1 = 1.0 - static_cast<double>(uniform_from_word(w.v[lane]));
        const double u2 = static_cast<double>(uniform_from_word(w.v[lane + 1]));
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
        p[i] = static_cast<T>(mean + stddev * z);
      }
    }
  });
  return t;
}

double Generator::next_uniform() {
  const std::uint64_t start = reserve(2);
  return uniform53_from_words(Philox4x32::word(seed_, start, 0), Philox4x32::word(seed_, start, 1));
}

std::uint64_t Generator::next_below(std::uint64_t n) {
  SCEALD_CHECK(n > 0, "Generator::next_below: n must be positive");
  // Multiply-shift on a 53-bit uniform: bias below 2^-40 for the n we use.
  return std::min(n - 1, static_cast<std::uint64_t>(next_uniform() * static_cast<double>(n)));
}

std::vector<std::int64_t> Generator::permutation(std::int64_t n) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(next_below(static_cast<std::uint64_t>(i + 1)));
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

}  // namespace sceald
