// The one tolerance policy of the test suites: |actual - expected| <= atol +
// rtol * |expected|, element by element; NaN never passes. On failure the
// message gives the worst index, both values and the first few mismatches.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "engine/tensor.h"

namespace sceald::testing {

struct Tolerance {
  double atol;
  double rtol;
};

// Defaults per dtype: float32 results of a handful of accumulations, and
// float64 results that should agree to rounding.
inline Tolerance default_tolerance(DType dtype) {
  return dtype == DType::Float64 ? Tolerance{1e-10, 1e-9} : Tolerance{1e-5, 1e-4};
}

inline ::testing::AssertionResult all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                                            Tolerance tol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "sizes differ: " << actual.size() << " vs " << expected.size();
  std::size_t bad = 0, worst = 0;
  double worst_excess = -1.0;
  std::ostringstream first;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    const double limit = tol.atol + tol.rtol * std::fabs(e);
    const double err = std::fabs(a - e);
    const bool ok = !std::isnan(a) && !std::isnan(e) && (err <= limit || a == e);
    if (ok) continue;
    if (bad < 5) first << "  [" << i << "] actual " << a << " expected " << e << "\n";
    ++bad;
    const double excess = std::isnan(err) ? INFINITY : err - limit;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << actual.size() << " elements differ beyond atol "
                                       << tol.atol << " + rtol " << tol.rtol << "; worst at [" << worst
                                       << "]: actual " << actual[worst] << " expected " << expected[worst]
                                       << "\nfirst mismatches:\n"
                                       << first.str();
}

inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  return all_close(actual.to_vector<double>(), expected.to_vector<double>(), tol);
}

inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected) {
  return all_close(actual, expected, default_tolerance(actual.dtype()));
}

}  // namespace sceald::testing
