// Matrix products (cuBLAS) and convolutions (cuDNN) against the CPU: both
// math modes, both dtypes, transposed operands read in place, geometries
// with stride, padding, dilation and odd sizes.
#include "engine/ops/conv.h"
#include "engine/ops/linalg.h"
#include "gpu_compare.h"

using namespace sceald;
using namespace sceald::gpu_testing;

namespace {

class GpuLinalg : public ::testing::TestWithParam<DType> {};

TEST_P(GpuLinalg, Matmul) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor a = random_tensor({23, 37}, 1, t), b = random_tensor({37, 19}, 2, t);
  const Tolerance tol = gemm(t, 37);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); }, {a, b}, tol));
  // Transposed views are GEMM operands with the transpose flag, not copies.
  const Tensor at = random_tensor({37, 23}, 3, t), bt = random_tensor({19, 37}, 4, t);
  EXPECT_TRUE(matches_cpu(
      [](const std::vector<Tensor>& x) { return matmul(x[0].transpose(0, 1), x[1].transpose(0, 1)); }, {at, bt}, tol));
  // Batched.
  const Tensor ba = random_tensor({5, 9, 13}, 5, t), bb = random_tensor({5, 13, 7}, 6, t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); }, {ba, bb}, gemm(t, 13)));
}

TEST_P(GpuLinalg, Linear) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({17, 45}, 7, t), w = random_tensor({29, 45}, 8, t), b = random_tensor({29}, 9, t);
  const Tolerance tol = gemm(t, 45);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); }, {x, w, b}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return linear(v[0], v[1], Tensor()); }, {x, w}, tol));
}

struct ConvCase {
  Shape x, w;
  Conv2dParams p;
};

const ConvCase kConvCases[] = {
    {{2, 3, 13, 11}, {5, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}},  // "same" 3x3
    {{3, 4, 17, 15}, {6, 4, 3, 5}, {{2, 3}, {1, 2}, {1, 1}}},  // strided, rectangular kernel
    {{2, 5, 14, 16}, {3, 5, 3, 3}, {{1, 1}, {2, 2}, {2, 2}}},  // dilated
    {{4, 7, 9, 9}, {11, 7, 1, 1}, {{1, 1}, {0, 0}, {1, 1}}},   // pointwise
};

// The longest sum any of the three passes makes: C kh kw (forward),
// O kh kw (backward-data), N Ho Wo (backward-filter).
std::int64_t longest_sum(const ConvCase& c) {
  return std::max({c.w[1] * c.w[2] * c.w[3], c.w[0] * c.w[2] * c.w[3], c.x[0] * c.x[2] * c.x[3]});
}

TEST_P(GpuLinalg, Conv2dForwardAndBothBackwardPasses) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  std::uint64_t seed = 20;
  for (const ConvCase& c : kConvCases) {
    const Tensor x = random_tensor(c.x, seed++, t), w = random_tensor(c.w, seed++, t);
    const Tensor b = random_tensor({c.w[0]}, seed++, t);
    const Conv2dParams p = c.p;
    const Tolerance tol = gemm(t, longest_sum(c));
    EXPECT_TRUE(matches_cpu([p](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], v[2], p); }, {x, w, b}, tol))
        << "input " << shape_str(c.x) << ", weight " << shape_str(c.w);
    EXPECT_TRUE(matches_cpu([p](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], Tensor(), p); }, {x, w}, tol))
        << "without bias, input " << shape_str(c.x);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuLinalg, ::testing::Values(DType::Float32, DType::Float64),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

// Fast mode: TF32 tensor cores in cuBLAS and cuDNN, within the documented TF32 bound.
TEST(GpuLinalgFast, Tf32MatmulAndConvStayWithinTheTf32Bound) {
  SCEALD_REQUIRE_GPU();
  CompareOptions opt;
  opt.mode = cuda::MathMode::Fast;
  opt.check_determinism = false;  // fast mode may pick non-deterministic algorithms
  const Tensor a = random_tensor({64, 96}, 61), b = random_tensor({96, 80}, 62);
  opt.forward = opt.backward = tf32_gemm(96);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); }, {a, b}, opt));
  const ConvCase c{{4, 16, 20, 20}, {32, 16, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}};
  const Tensor x = random_tensor(c.x, 63), w = random_tensor(c.w, 64);
  opt.forward = opt.backward = tf32_gemm(longest_sum(c));
  EXPECT_TRUE(
      matches_cpu([&c](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], Tensor(), c.p); }, {x, w}, opt));
}

TEST(GpuLinalgFast, EmptyBatchConvolution) {
  SCEALD_REQUIRE_GPU();
  const Tensor x = random_tensor({0, 3, 8, 8}, 71), w = random_tensor({4, 3, 3, 3}, 72);
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], Tensor(), {}); }, {x, w}, exact()));
}

}  // namespace
