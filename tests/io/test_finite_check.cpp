#include "engine/io/finite_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "engine/error.h"

namespace sceald::io {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(RequireFinite, PassesFiniteTensorsAndNamesTheFirstBadValue) {
  const Tensor ok32 = Tensor::from_vector<float>({1, -2, 3e38f}, {3});
  const Tensor ok64 = Tensor::from_vector<double>({0, 1e308}, {2});
  const Tensor counts = Tensor::from_vector<std::int64_t>({-1, 7}, {2});  // integers are not looked at
  EXPECT_NO_THROW(require_finite({{"a", ok32}, {"b", ok64}, {"c", counts}}, "f.safetensors"));

  const float inf = std::numeric_limits<float>::infinity();
  const Tensor bad = Tensor::from_vector<float>({1, 2, 3, -inf, std::numeric_limits<float>::quiet_NaN()}, {5});
  try {
    require_finite({{"a", ok32}, {"layer.weight", bad}}, "f.safetensors");
    FAIL() << "-inf accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("f.safetensors: tensor 'layer.weight' float32[5]"), HasSubstr("-inf"),
                                HasSubstr("at element 3")));
  }
  // A strided view is read in its logical order.
  const Tensor matrix = Tensor::from_vector<double>({0, 1, std::nan(""), 3}, {2, 2});
  try {
    require_finite({{"m", matrix.transpose(0, 1)}}, "g");
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("tensor 'm'"), HasSubstr("nan at element 1")));
  }
}

}  // namespace
}  // namespace sceald::io
