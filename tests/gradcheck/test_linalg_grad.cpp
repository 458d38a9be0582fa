// matmul and linear: float64 gradient checks, values against the plain GEMM
// reference, strided (transposed) operands, and shape errors.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/ops/linalg.h"
#include "kernels/cpu/gemm.h"
#include "support/gradcheck.h"

using namespace sceald;
using namespace sceald::testing;

namespace {

// a [M, K] @ b [K, N] by the triple-loop reference, both read row-major.
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  const std::int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  std::vector<double> c(static_cast<std::size_t>(M * N));
  kernels::cpu::gemm_reference<double>(false, false, M, N, K, 1.0, av.data(), K, bv.data(), N, 0.0, c.data(), N);
  return Tensor::from_vector(c, {M, N});
}

}  // namespace

TEST(GradcheckLinalg, Matmul2D) {
  const std::vector<std::array<std::int64_t, 3>> sizes = {{3, 5, 4}, {1, 7, 3}, {6, 1, 5}, {5, 4, 1}};
  for (const auto& [M, K, N] : sizes) {
    SCOPED_TRACE(::testing::Message() << M << "x" << K << " @ " << K << "x" << N);
    Tensor a = random_input({M, K}, 1), b = random_input({K, N}, 2);
    EXPECT_TRUE(gradcheck([](const auto& v) { return matmul(v[0], v[1]); }, {a, b}));
  }
}

TEST(GradcheckLinalg, MatmulTransposedOperandsReadInPlace) {
  // Transposed views reach the GEMM as trans flags; gradients flow back through transpose.
  Tensor a = random_input({5, 3}, 3), b = random_input({4, 5}, 4);
  EXPECT_TRUE(gradcheck([](const auto& v) { return matmul(v[0].transpose(0, 1), v[1].transpose(0, 1)); }, {a, b}));
  Tensor ab = matmul(a.transpose(0, 1), b.transpose(0, 1));
  EXPECT_TRUE(all_close(ab, reference_matmul(a.transpose(0, 1).contiguous(), b.transpose(0, 1).contiguous())));
}

TEST(GradcheckLinalg, MatmulBatched) {
  Tensor a = random_input({3, 4, 5}, 5), b = random_input({3, 5, 2}, 6);
  EXPECT_TRUE(gradcheck([](const auto& v) { return matmul(v[0], v[1]); }, {a, b}));
  // Batch-transposed views: [B, K, M] read as [B, M, K].
  Tensor at = random_input({2, 5, 3}, 7), bt = random_input({2, 4, 5}, 8);
  EXPECT_TRUE(gradcheck([](const auto& v) { return matmul(v[0].transpose(1, 2), v[1].transpose(1, 2)); }, {at, bt}));
}

TEST(Linalg, MatmulValuesMatchReference) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<double>(), (std::vector<double>{58, 64, 139, 154}));
  // Batched equals per-matrix products, float32 against the double reference.
  Generator gen(9);
  Tensor x = gen.uniform({3, 17, 33}, -1, 1), y = gen.uniform({3, 33, 9}, -1, 1);
  Tensor z = matmul(x, y);
  ASSERT_EQ(z.shape(), (Shape{3, 17, 9}));
  const std::vector<float> zv = z.to_vector<float>(), xv = x.to_vector<float>(), yv = y.to_vector<float>();
  for (std::int64_t i = 0; i < 3; ++i) {
    std::vector<double> xi(xv.begin() + i * 17 * 33, xv.begin() + (i + 1) * 17 * 33);
    std::vector<double> yi(yv.begin() + i * 33 * 9, yv.begin() + (i + 1) * 33 * 9);
    Tensor expected = reference_matmul(Tensor::from_vector(xi, {17, 33}), Tensor::from_vector(yi, {33, 9}));
    std::vector<double> actual(zv.begin() + i * 17 * 9, zv.begin() + (i + 1) * 17 * 9);
    EXPECT_TRUE(all_close(actual, expected.to_vector<double>(), {1e-5, 1e-4})) << "batch " << i;
  }
}

TEST(GradcheckLinalg, LinearWithAndWithoutBias) {
  Tensor x = random_input({4, 7}, 10), w = random_input({5, 7}, 11), b = random_input({5}, 12);
  EXPECT_TRUE(gradcheck([](const auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b}));
  EXPECT_TRUE(gradcheck([](const auto& v) { return linear(v[0], v[1], Tensor()); }, {x, w}));
  Tensor x1 = random_input({1, 3}, 13), w1 = random_input({1, 3}, 14), b1 = random_input({1}, 15);
  EXPECT_TRUE(gradcheck([](const auto& v) { return linear(v[0], v[1], v[2]); }, {x1, w1, b1}));
}

TEST(Linalg, LinearValuesAndSkippedGradients) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor w = Tensor::from_vector<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor b = Tensor::from_vector<double>({10, 20, 30}, {3});
  EXPECT_EQ(linear(x, w, b).to_vector<double>(), (std::vector<double>{11, 22, 33, 13, 24, 37}));
  w.set_requires_grad(true);
  Tensor y = linear(x, w, Tensor());
  y.backward(Tensor::ones({2, 3}, DType::Float64));
  // dW[o, i] = sum_n x[n, i]
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{4, 6, 4, 6, 4, 6}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Linalg, ShapeErrorsNameTheOp) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 2});
  try {
    matmul(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("matmul"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 2})), Error);  // batch sizes differ
  EXPECT_THROW(matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), Error);
  try {
    linear(Tensor::zeros({2, 3}), Tensor::zeros({5, 4}), Tensor());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("linear"), std::string::npos) << e.what();
  }
  EXPECT_THROW(linear(Tensor::zeros({2, 4}), Tensor::zeros({5, 4}), Tensor::zeros({4})), Error);
}
