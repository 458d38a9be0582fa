// What the emulation tests share: reproducible random inputs, outputs
// poisoned before a kernel runs, and the comparison of an emulated kernel's
// output with its CPU twin's under the GPU tests' tolerance policy
// (tests/gpu/gpu_tolerance.h: exact for data movement and selections,
// elementwise and reduction bounds otherwise). The emulation keeps those
// bounds rather than its own, often exact, agreement: the kernels' contract is
// what the GPU must meet, with nvcc's FMA contraction and CUDA's math library,
// neither of which the emulation reproduces.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>
#include <type_traits>
#include <vector>

#include "engine/dtype.h"
#include "gpu/gpu_tolerance.h"

namespace sceald::emulation_testing {

using gpu_testing::elementwise;
using gpu_testing::exact;
using gpu_testing::reduction;
using gpu_testing::Tolerance;

using FloatTypes = ::testing::Types<float, double>;

template <typename T>
constexpr DType dtype_v = dtype_of<T>::value;

// Uniform values in [low, high), the same for the same seed.
template <typename T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(uniform(gen));
  return v;
}

// A value no kernel computes: a NaN with a payload of our own (or the lowest
// int64), so an output element the kernel never wrote is told apart from a
// NaN it did write.
template <typename T>
T poison_value() {
  if constexpr (std::is_same_v<T, float>)
    return std::bit_cast<float>(std::uint32_t{0x7FC0DEADu});
  else if constexpr (std::is_same_v<T, double>)
    return std::bit_cast<double>(std::uint64_t{0x7FF80000DEADBEEFull});
  else
    return std::numeric_limits<T>::lowest();
}

template <typename T>
bool is_poison(T v) {
  const T p = poison_value<T>();
  if constexpr (std::is_floating_point_v<T>)
    return std::memcmp(&v, &p, sizeof(T)) == 0;
  else
    return v == p;
}

template <typename T>
std::vector<T> poisoned(std::size_t n) {
  return std::vector<T>(n, poison_value<T>());
}

namespace detail {

template <typename T>
bool agrees(T emulated, T twin, Tolerance tol) {
  if constexpr (!std::is_floating_point_v<T>) {
    return emulated == twin;
  } else {
    if (std::isnan(emulated) || std::isnan(twin)) return std::isnan(emulated) && std::isnan(twin);
    if (tol.atol == 0.0 && tol.rtol == 0.0)
      return std::memcmp(&emulated, &twin, sizeof(T)) == 0;  // bits, signed zeros too
    const double e = emulated, t = twin;
    return e == t || std::fabs(e - t) <= tol.atol + tol.rtol * std::fabs(t);
  }
}

}  // namespace detail

// The emulated kernel's output against its CPU twin's, element by element:
// within `tol` (|emulated - twin| <= atol + rtol |twin|), bit for bit when
// `tol` is exact(); a NaN exactly where the twin has one; never the poison.
template <typename T>
::testing::AssertionResult matches_twin(const std::vector<T>& emulated, const std::vector<T>& twin,
                                        Tolerance tol = exact()) {
  if (emulated.size() != twin.size())
    return ::testing::AssertionFailure() << "sizes differ: emulated " << emulated.size() << ", CPU " << twin.size();
  std::size_t bad = 0;
  std::ostringstream first;
  first << std::setprecision(std::numeric_limits<T>::max_digits10);
  for (std::size_t i = 0; i < emulated.size(); ++i) {
    const bool unwritten = is_poison(emulated[i]);
    if (!unwritten && detail::agrees(emulated[i], twin[i], tol)) continue;
    if (bad < 5) {
      first << "  [" << i << "] emulated ";
      if (unwritten)
        first << "never written";
      else
        first << emulated[i];
      first << ", CPU " << twin[i] << "\n";
    }
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << emulated.size() << " elements differ beyond atol "
                                       << tol.atol << " + rtol " << tol.rtol << "; the first:\n"
                                       << first.str();
}

}  // namespace sceald::emulation_testing
