// sgemm and dgemm against the double-accumulating triple loop: every
// transpose case, sizes that are not multiples of any tile, padded strides,
// alpha/beta variants, every micro-kernel this CPU can run, and 1 vs 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "support/tolerance.h"

namespace {

using namespace sceald::kernels::cpu;
using sceald::testing::all_close;
using sceald::testing::Tolerance;

struct GemmCase {
  bool trans_a = false, trans_b = false;
  std::int64_t M = 1, N = 1, K = 1;
  std::int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra elements per row beyond the minimum stride
  double alpha = 1, beta = 0;
};

std::string describe(const GemmCase& c) {
  return std::string(c.trans_a ? "T" : "N") + (c.trans_b ? "T" : "N") + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + " pads=" + std::to_string(c.pad_a) + "," +
         std::to_string(c.pad_b) + "," + std::to_string(c.pad_c) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta);
}

// Rounding of a blocked float dot product grows with K; 1e-6 * K is far above
// what the kernels show (about 1e-8 * K) yet far below one dropped term.
template <typename T>
Tolerance gemm_tolerance(const GemmCase& c) {
  const double scale = std::max(1.0, std::fabs(c.alpha)) * static_cast<double>(std::max<std::int64_t>(c.K, 1));
  if constexpr (std::is_same_v<T, float>) return {1e-5 + 1e-6 * scale, 1e-4};
  return {1e-13 * scale, 1e-11};
}

// Runs one case through `gemm` (sgemm or dgemm) and the reference. C's row
// padding holds a sentinel that must survive; with beta == 0, C starts as NaN.
template <typename T, typename F>
::testing::AssertionResult check_case(const GemmCase& c, F&& gemm, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<T> uniform(T(-1), T(1));
  const std::int64_t a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
  const std::int64_t b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
  const std::int64_t lda = std::max<std::int64_t>(a_cols, 1) + c.pad_a;
  const std::int64_t ldb = std::max<std::int64_t>(b_cols, 1) + c.pad_b;
  const std::int64_t ldc = std::max<std::int64_t>(c.N, 1) + c.pad_c;
  std::vector<T> A(a_rows * lda), B(b_rows * ldb);
  for (T& x : A) x = uniform(rng);
  for (T& x : B) x = uniform(rng);
  const T sentinel = T(12345.5);
  std::vector<T> C(c.M * ldc, sentinel);
  for (std::int64_t i = 0; i < c.M; ++i)
    for (std::int64_t j = 0; j < c.N; ++j)
      C[i * ldc + j] = c.beta == 0 ? std::numeric_limits<T>::quiet_NaN() : uniform(rng);
  std::vector<T> expected = C;

  gemm(c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta), C.data(), ldc);
  gemm_reference<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta),
                    expected.data(), ldc);

  std::vector<double> got, want;
  for (std::int64_t i = 0; i < c.M; ++i) {
    for (std::int64_t j = 0; j < ldc; ++j) {
      const T g = C[i * ldc + j];
      if (j >= c.N) {
        if (g != sentinel)
          return ::testing::AssertionFailure() << describe(c) << ": padding at row " << i << " col " << j
                                               << " overwritten with " << g;
        continue;
      }
      got.push_back(g);
      want.push_back(expected[i * ldc + j]);
    }
  }
  auto result = all_close(got, want, gemm_tolerance<T>(c));
  if (!result) result << "(index = row * N + col) in case " << describe(c);
  return result;
}

const std::int64_t kOddSizes[] = {1, 2, 3, 7, 17, 33, 65, 129};

// ---- sgemm on each micro-kernel path -------------------------------------

class GemmIsa : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    try {
      sgemm_force_isa(GetParam());
    } catch (const std::runtime_error& e) {
      GTEST_SKIP() << "path '" << GetParam() << "' not supported here: " << e.what();
    }
    ASSERT_STREQ(sgemm_isa(), GetParam());
  }
  void TearDown() override { sgemm_force_isa(""); }
};

TEST_P(GemmIsa, AllTransposesAllOddSizes) {
  std::uint32_t seed = 1;
  for (int t = 0; t < 4; ++t)
    for (std::int64_t M : kOddSizes)
      for (std::int64_t N : kOddSizes)
        for (std::int64_t K : kOddSizes) {
          GemmCase c;
          c.trans_a = t & 1;
          c.trans_b = t & 2;
          c.M = M, c.N = N, c.K = K;
          ASSERT_TRUE(check_case<float>(c, sgemm, seed++));
        }
}

TEST_P(GemmIsa, MixedShapesPaddedStridesAndScalars) {
  const GemmCase shapes[] = {
      {false, false, 5, 300, 77},   {false, true, 300, 5, 77},  {true, false, 77, 5, 300},
      {true, true, 48, 49, 513},    {false, false, 9, 47, 1},   {false, false, 1, 1000, 3},
      {true, false, 1000, 1, 3},    {false, true, 31, 97, 1100},  // several kc blocks
      {false, false, 3, 1000, 600},                              // several nc blocks
      {false, true, 8200, 3, 5},                                 // several mc blocks
  };
  const double scalars[][2] = {{1, 0}, {1, 1}, {-0.5, 0}, {2.5, -1.5}, {1, 0.25}};
  std::uint32_t seed = 1000;
  for (const GemmCase& shape : shapes)
    for (const auto& ab : scalars)
      for (int pad : {0, 5}) {
        GemmCase c = shape;
        c.alpha = ab[0];
        c.beta = ab[1];
        c.pad_a = pad, c.pad_b = 2 * pad, c.pad_c = 3 * pad;
        ASSERT_TRUE(check_case<float>(c, sgemm, seed++));
      }
}

// 1 vs 2 threads, and 3 (more threads than the grid can use evenly, so some
// may idle) on a 2-core machine.
TEST_P(GemmIsa, OneAndTwoThreadsAgree) {
  const int saved = omp_get_max_threads();
  // Big enough to be split: along N, along M, and two square-ish ones.
  const GemmCase shapes[] = {{false, false, 40, 1500, 300, 0, 0, 3, 1, 0},
                             {true, false, 520, 130, 300, 0, 0, 0, 1, 0},
                             {false, true, 300, 257, 250, 1, 2, 0, 0.5, 1},
                             {true, true, 131, 283, 517, 0, 0, 0, 1, 0}};
  for (const GemmCase& c : shapes) {
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> out;
      auto capture = [&](bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                         const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                         std::int64_t ldc) {
        sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        out.assign(C, C + M * ldc);
      };
      EXPECT_TRUE(check_case<float>(c, capture, 77)) << "threads " << threads;
      results.push_back(out);
    }
    omp_set_num_threads(saved);
    const std::vector<double> one(results[0].begin(), results[0].end());
    for (std::size_t t = 1; t < results.size(); ++t) {
      const std::vector<double> many(results[t].begin(), results[t].end());
      EXPECT_TRUE(all_close(many, one, gemm_tolerance<float>(c))) << t + 1 << " threads vs 1 in " << describe(c);
    }
  }
  omp_set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(GemmPaths, GemmIsa, ::testing::Values("avx512", "avx2", "portable"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

// ---- contract: degenerate sizes, alpha == 0, beta == 0, errors ------------

TEST(GemmContract, ZeroSizes) {
  std::vector<float> C(6, 7.0f);
  const float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 2, 3, 4, 5, 6};
  sgemm(false, false, 0, 3, 2, 1.0f, A, 2, B, 3, 0.0f, C.data(), 3);  // M == 0: nothing
  sgemm(false, false, 2, 0, 2, 1.0f, A, 2, B, 3, 0.0f, C.data(), 3);  // N == 0: nothing
  for (float x : C) EXPECT_EQ(x, 7.0f);
  sgemm(false, false, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.5f, C.data(), 3);  // K == 0: C = beta C
  for (float x : C) EXPECT_EQ(x, 3.5f);
  std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  sgemm(false, false, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.0f, C.data(), 3);  // K == 0, beta == 0: zeros
  for (float x : C) EXPECT_EQ(x, 0.0f);
  std::vector<double> D(6, std::numeric_limits<double>::quiet_NaN());
  dgemm(true, true, 2, 3, 0, 1.0, nullptr, 2, nullptr, 1, 0.0, D.data(), 3);
  for (double x : D) EXPECT_EQ(x, 0.0);
}

TEST(GemmContract, AlphaZeroReadsNeitherAnorB) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> A(12, nan), B(12, nan), C(9, 2.0f);
  sgemm(false, false, 3, 3, 4, 0.0f, A.data(), 4, B.data(), 3, 3.0f, C.data(), 3);
  for (float x : C) EXPECT_EQ(x, 6.0f);
  std::fill(C.begin(), C.end(), nan);
  sgemm(true, true, 3, 3, 4, 0.0f, A.data(), 3, B.data(), 4, 0.0f, C.data(), 3);
  for (float x : C) EXPECT_EQ(x, 0.0f);
}

TEST(GemmContract, BetaZeroIgnoresNaNAndBetaOneAccumulates) {
  // The odd-size sweeps poison C with NaN whenever beta == 0; here a second
  // call with beta == 1 must add exactly the same product again.
  const std::int64_t M = 37, N = 53, K = 29;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> A(M * K), B(K * N), C(M * N, std::numeric_limits<float>::quiet_NaN());
  for (float& x : A) x = u(rng);
  for (float& x : B) x = u(rng);
  sgemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  std::vector<float> once = C;
  for (float x : once) ASSERT_TRUE(std::isfinite(x));
  sgemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 1.0f, C.data(), N);
  for (std::size_t i = 0; i < C.size(); ++i) EXPECT_FLOAT_EQ(C[i], 2.0f * once[i]) << "at " << i;
}

TEST(GemmContract, BadArgumentsThrow) {
  float buf[64] = {};
  EXPECT_THROW(sgemm(false, false, -1, 2, 2, 1.0f, buf, 2, buf, 2, 0.0f, buf, 2), std::invalid_argument);
  EXPECT_THROW(sgemm(false, false, 2, 2, 3, 1.0f, buf, 2, buf, 2, 0.0f, buf, 2), std::invalid_argument);  // lda < K
  EXPECT_THROW(sgemm(true, false, 4, 2, 3, 1.0f, buf, 3, buf, 2, 0.0f, buf, 2), std::invalid_argument);  // lda < M
  EXPECT_THROW(sgemm(false, true, 2, 2, 3, 1.0f, buf, 3, buf, 2, 0.0f, buf, 2), std::invalid_argument);  // ldb < K
  EXPECT_THROW(sgemm(false, false, 2, 4, 3, 1.0f, buf, 3, buf, 4, 0.0f, buf, 3), std::invalid_argument);  // ldc < N
  EXPECT_THROW(dgemm(false, false, 2, 2, 2, 1.0, nullptr, 1, nullptr, 2, 0.0, nullptr, 2), std::invalid_argument);
}

TEST(GemmContract, ForceIsa) {
  const std::string automatic = sgemm_isa();
  EXPECT_TRUE(automatic == "avx512" || automatic == "avx2" || automatic == "portable") << automatic;
  EXPECT_THROW(sgemm_force_isa("sse9"), std::invalid_argument);
  sgemm_force_isa("portable");
  EXPECT_STREQ(sgemm_isa(), "portable");
  sgemm_force_isa("");
  EXPECT_EQ(std::string(sgemm_isa()), automatic);
  sgemm_force_isa(nullptr);
  EXPECT_EQ(std::string(sgemm_isa()), automatic);
}

// ---- dgemm ----------------------------------------------------------------

TEST(GemmDouble, AllTransposesOddSizesAndScalars) {
  std::uint32_t seed = 5000;
  for (int t = 0; t < 4; ++t)
    for (std::int64_t M : {1, 3, 17, 65})
      for (std::int64_t N : {2, 7, 33, 129})
        for (std::int64_t K : {1, 17, 129}) {
          GemmCase c;
          c.trans_a = t & 1;
          c.trans_b = t & 2;
          c.M = M, c.N = N, c.K = K;
          c.pad_a = (M + K) % 3, c.pad_b = (N + K) % 4, c.pad_c = M % 2;
          c.alpha = (seed % 3 == 0) ? -0.75 : 1.0;
          c.beta = (seed % 2 == 0) ? 0.0 : 1.0;
          ASSERT_TRUE(check_case<double>(c, dgemm, seed++));
        }
}

TEST(GemmDouble, BlockedAndThreaded) {
  const int saved = omp_get_max_threads();
  const GemmCase shapes[] = {{false, true, 31, 97, 1100, 1, 0, 2, 1, 0.5},
                             {true, false, 300, 260, 250, 0, 0, 0, 1, 0}};
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (const GemmCase& c : shapes) EXPECT_TRUE(check_case<double>(c, dgemm, 9)) << "threads " << threads;
  }
  omp_set_num_threads(saved);
}

}  // namespace
