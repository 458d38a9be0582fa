// conv2d through im2col + GEMM (forward and both backward passes) against the
// plain-loop reference of kernels/cpu/conv_reference.h, in float32 and
// float64; and im2col/col2im as an adjoint pair.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/ops/conv.h"
#include "engine/rng.h"
#include "kernels/cpu/conv_gemm.h"
#include "kernels/cpu/conv_implicit.h"
#include "kernels/cpu/conv_reference.h"
#include "kernels/cpu/im2col.h"
#include "support/tolerance.h"

using namespace sceald;
using namespace sceald::testing;
using kernels::cpu::ConvGeometry;

namespace {

struct ConvCase {
  Shape x;       // [N, C, H, W]
  Shape weight;  // [O, C, kh, kw]
  Conv2dParams params;
  bool bias;
};

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {{2, 3, 7, 5}, {4, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},
      {{2, 3, 7, 5}, {5, 3, 1, 1}, {{1, 1}, {0, 0}, {1, 1}}, true},   // pointwise
      {{2, 3, 7, 5}, {3, 3, 1, 1}, {{2, 2}, {0, 0}, {1, 1}}, false},
      {{1, 2, 7, 5}, {3, 2, 2, 3}, {{2, 2}, {1, 2}, {1, 1}}, true},
      {{2, 3, 7, 6}, {2, 3, 3, 3}, {{1, 1}, {2, 2}, {2, 2}}, true},
      {{1, 5, 6, 7}, {3, 5, 3, 3}, {{2, 1}, {0, 1}, {1, 1}}, false},
      {{2, 3, 5, 5}, {3, 3, 5, 5}, {{1, 1}, {0, 0}, {1, 1}}, true},
      // Larger: GEMM blocking edges, threads over images, parallel im2col.
      {{5, 17, 13, 11}, {33, 17, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},
      {{4, 19, 9, 10}, {7, 19, 1, 1}, {{1, 1}, {0, 0}, {1, 1}}, true},
      {{3, 6, 15, 12}, {10, 6, 3, 2}, {{2, 3}, {2, 1}, {2, 3}}, true},
      // 128+ channels, where the automatic choice takes the implicit GEMM
      // (kernels/cpu/conv_implicit.h): per tap on small images, dense on larger
      // ones, K split in blocks (C 9 > 512), O not a multiple of 8, stride 2
      // (forward only) and dilation 2 (backward data too).
      {{3, 130, 3, 3}, {129, 130, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},
      {{2, 520, 4, 5}, {136, 520, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, false},
      {{2, 128, 23, 25}, {130, 128, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},
      {{2, 6, 11, 9}, {128, 6, 3, 3}, {{2, 2}, {1, 1}, {1, 1}}, true},
      {{2, 131, 9, 8}, {128, 131, 3, 2}, {{1, 1}, {2, 1}, {2, 2}}, true},
      {{2, 4, 1, 1}, {3, 4, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},  // 8 of 9 taps see only padding
      // The batching paths of kernels/cpu/conv_gemm.h (ConvBatching below pins which is which):
      {{18, 2, 25, 40}, {3, 2, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},    // groups of 17, then 1
      {{3, 2, 130, 130}, {3, 2, 3, 3}, {{1, 1}, {1, 1}, {1, 1}}, true},   // one image per GEMM
      {{3, 4, 130, 130}, {16, 4, 1, 1}, {{1, 1}, {0, 0}, {1, 1}}, false},  // the same, pointwise in place
  };
  return cases;
}

std::string case_str(const ConvCase& c) {
  return str_cat("x ", shape_str(c.x), " w ", shape_str(c.weight), " stride [", c.params.stride[0], ", ",
                 c.params.stride[1], "] padding [", c.params.padding[0], ", ", c.params.padding[1], "] dilation [",
                 c.params.dilation[0], ", ", c.params.dilation[1], "]");
}

ConvGeometry geometry_of(const ConvCase& c, std::int64_t Ho, std::int64_t Wo) {
  const Conv2dParams& p = c.params;
  return {.C = c.x[1], .H = c.x[2], .W = c.x[3], .kh = c.weight[2], .kw = c.weight[3], .sh = p.stride[0],
          .sw = p.stride[1], .ph = p.padding[0], .pw = p.padding[1], .dh = p.dilation[0], .dw = p.dilation[1],
          .Ho = Ho, .Wo = Wo};
}

template <typename T>
Tensor from_values(const std::vector<T>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

template <typename T>
void check_against_reference(DType dtype, Tolerance tol) {
  for (std::size_t k = 0; k < conv_cases().size(); ++k) {
    const ConvCase& c = conv_cases()[k];
    SCOPED_TRACE(case_str(c));
    Generator gen(100 + k);
    Tensor x = gen.uniform(c.x, -1, 1, dtype), w = gen.uniform(c.weight, -1, 1, dtype);
    Tensor b = c.bias ? gen.uniform({c.weight[0]}, -1, 1, dtype) : Tensor();
    x.set_requires_grad(true);
    w.set_requires_grad(true);
    if (b.defined()) b.set_requires_grad(true);

    Tensor y = conv2d(x, w, b, c.params);
    const std::int64_t N = c.x[0], O = c.weight[0], Ho = y.size(2), Wo = y.size(3);
    const ConvGeometry g = geometry_of(c, Ho, Wo);

    const std::vector<T> xv = x.to_vector<T>(), wv = w.to_vector<T>();
    const std::vector<T> bv = b.defined() ? b.to_vector<T>() : std::vector<T>();
    std::vector<T> expected(static_cast<std::size_t>(N * O * Ho * Wo));
    kernels::cpu::conv2d_forward_reference(xv.data(), wv.data(), b.defined() ? bv.data() : nullptr, N, O, g,
                                           expected.data());
    EXPECT_TRUE(all_close(y, from_values(expected, y.shape()), tol)) << "forward";

    Tensor gy = gen.uniform(y.shape(), -1, 1, dtype);
    y.backward(gy);
    const std::vector<T> gyv = gy.to_vector<T>();
    std::vector<T> gx(xv.size()), gw(wv.size());
    kernels::cpu::conv2d_backward_data_reference(gyv.data(), wv.data(), N, O, g, gx.data());
    kernels::cpu::conv2d_backward_weight_reference(gyv.data(), xv.data(), N, O, g, gw.data());
    EXPECT_TRUE(all_close(x.grad(), from_values(gx, c.x), tol)) << "grad input";
    EXPECT_TRUE(all_close(w.grad(), from_values(gw, c.weight), tol)) << "grad weight";
    if (b.defined()) {
      std::vector<double> gb(static_cast<std::size_t>(O), 0.0);
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(gyv.size()); ++i) gb[(i / (Ho * Wo)) % O] += gyv[i];
      EXPECT_TRUE(all_close(b.grad().to_vector<double>(), gb, tol)) << "grad bias";
    }
  }
}

}  // namespace

TEST(ConvReference, Im2colGemmMatchesPlainLoopsFloat64) {
  check_against_reference<double>(DType::Float64, default_tolerance(DType::Float64));
}

TEST(ConvReference, Im2colGemmMatchesPlainLoopsFloat32) {
  // Sums of up to 4,680 products of values in [-1, 1], accumulated in float,
  // through the automatic choice and through each forward path forced (the
  // backward's grad input goes through the same choice).
  using kernels::cpu::ConvForwardPath;
  for (auto [name, path] : {std::pair<const char*, std::optional<ConvForwardPath>>{"automatic", std::nullopt},
                            {"im2col", ConvForwardPath::Im2col},
                            {"implicit dense", ConvForwardPath::ImplicitDense},
                            {"implicit per kernel row", ConvForwardPath::ImplicitPerKernelRow},
                            {"implicit per tap", ConvForwardPath::ImplicitPerTap}}) {
    SCOPED_TRACE(name);
    kernels::cpu::conv_force_forward_path(path);
    check_against_reference<float>(DType::Float32, {1e-4, 1e-4});
  }
  kernels::cpu::conv_force_forward_path(std::nullopt);
}

TEST(ConvReference, ImplicitPathsAreChosenWhereTheyPay) {
  using kernels::cpu::ConvForwardPath;
  using kernels::cpu::conv_forward_path;
  if (!kernels::cpu::implicit_conv_available(1, 128, {3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8}))
    GTEST_SKIP() << "no AVX-512 on this CPU: every convolution uses im2col";
  const auto vgg = [](std::int64_t C, std::int64_t side) {
    return ConvGeometry{C, side, side, 3, 3, 1, 1, 1, 1, 1, 1, side, side};
  };
  EXPECT_EQ(conv_forward_path(64, 64, vgg(64, 48)), ConvForwardPath::ImplicitDense);     // conv1_2: 2.8% padding
  EXPECT_EQ(conv_forward_path(1, 512, vgg(512, 14)), ConvForwardPath::Im2col);           // 196 columns only
  EXPECT_EQ(conv_forward_path(1, 512, vgg(512, 28)), ConvForwardPath::ImplicitDense);    // 4.7% padding
  EXPECT_EQ(conv_forward_path(64, 128, vgg(128, 24)), ConvForwardPath::ImplicitPerKernelRow);  // conv2_2: 5.5%
  EXPECT_EQ(conv_forward_path(64, 256, vgg(256, 12)), ConvForwardPath::ImplicitPerKernelRow);  // conv3_2: 11%
  EXPECT_EQ(conv_forward_path(64, 512, vgg(512, 6)), ConvForwardPath::ImplicitPerTap);   // conv4_2: 21%
  EXPECT_EQ(conv_forward_path(64, 512, vgg(512, 3)), ConvForwardPath::ImplicitPerTap);   // conv5_2: 40%
  EXPECT_NEAR(kernels::cpu::conv_padding_share(vgg(512, 3)), 1.0 - 49.0 / 81.0, 1e-12);
  EXPECT_EQ(kernels::cpu::conv_padding_share({3, 8, 8, 3, 3, 1, 1, 0, 0, 1, 1, 6, 6}), 0.0);
}

TEST(ConvReference, BatchingCoversEveryPath) {
  // The cases above must keep reaching grouped GEMMs with a short last group,
  // one image per GEMM on threads, and (small) whole-batch groups.
  const auto batching = [](const ConvCase& c) {
    const Conv2dParams& p = c.params;
    const std::int64_t Ho = (c.x[2] + 2 * p.padding[0] - (c.weight[2] - 1) - 1) / p.stride[0] + 1;
    const std::int64_t Wo = (c.x[3] + 2 * p.padding[1] - (c.weight[3] - 1) - 1) / p.stride[1] + 1;
    return kernels::cpu::conv_batching(c.x[0], c.weight[0], geometry_of(c, Ho, Wo), sizeof(float));
  };
  const auto& cases = conv_cases();
  const ConvCase& grouped = cases[cases.size() - 3];
  EXPECT_EQ(batching(grouped).images_per_gemm, 17);  // 1,000 columns each: 17 reach 16,384
  EXPECT_FALSE(batching(grouped).images_on_threads);
  for (std::size_t k : {cases.size() - 2, cases.size() - 1}) {
    EXPECT_EQ(batching(cases[k]).images_per_gemm, 1);
    EXPECT_EQ(batching(cases[k]).images_on_threads, omp_get_max_threads() > 1)
        << "needs 2+ OpenMP threads to cover the threaded path";
  }
  EXPECT_EQ(batching(cases[0]).images_per_gemm, 2);  // tiny images: the whole batch in one GEMM
}

TEST(ConvReference, Col2imIsTheAdjointOfIm2col) {
  // <im2col(x), c> == <x, col2im(c)> for every x and c, padding and strides included.
  for (const ConvCase& cc : conv_cases()) {
    SCOPED_TRACE(case_str(cc));
    const auto& p = cc.params;
    const std::int64_t Ho = (cc.x[2] + 2 * p.padding[0] - p.dilation[0] * (cc.weight[2] - 1) - 1) / p.stride[0] + 1;
    const std::int64_t Wo = (cc.x[3] + 2 * p.padding[1] - p.dilation[1] * (cc.weight[3] - 1) - 1) / p.stride[1] + 1;
    const ConvGeometry g = geometry_of(cc, Ho, Wo);
    Generator gen(7);
    const std::vector<double> x = gen.uniform({g.C, g.H, g.W}, -1, 1, DType::Float64).to_vector<double>();
    const std::vector<double> c = gen.uniform({g.col_rows(), g.col_cols()}, -1, 1, DType::Float64).to_vector<double>();
    std::vector<double> col(c.size(), std::nan("")), back(x.size(), 0.0);  // NaN: every entry must be written
    kernels::cpu::im2col(x.data(), g, col.data());
    kernels::cpu::col2im_accumulate(c.data(), g, back.data());
    double lhs = 0.0, rhs = 0.0;
    for (std::size_t i = 0; i < c.size(); ++i) lhs += col[i] * c[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * back[i];
    EXPECT_NEAR(lhs, rhs, 1e-10 * (1.0 + std::fabs(lhs)));
  }
}

TEST(ConvReference, AnEmptyBatchHasAZeroWeightGradient) {
  // The sum over no images is zero; the output buffer starts as garbage (NaN)
  // because a reused block may hold anything. Found by the GPU suite on the
  // emulated device, whose CPU reference read an unwritten gradient.
  const ConvGeometry g{3, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 6, 5};
  const std::int64_t O = 4;
  for (bool with_grad_x : {false, true}) {
    std::vector<float> grad_weight(static_cast<std::size_t>(O * g.col_rows()), std::nanf(""));
    std::vector<float> weight(grad_weight.size(), 1.0f);
    float unused = 0.0f;
    kernels::cpu::conv2d_backward<float>(&unused, &unused, weight.data(), 0, O, g, with_grad_x ? &unused : nullptr,
                                         grad_weight.data());
    for (float v : grad_weight) ASSERT_EQ(v, 0.0f);
    std::vector<double> grad_weight64(grad_weight.size(), std::nan(""));
    std::vector<double> weight64(grad_weight.size(), 1.0);
    double unused64 = 0.0;
    kernels::cpu::conv2d_backward<double>(&unused64, &unused64, weight64.data(), 0, O, g,
                                          with_grad_x ? &unused64 : nullptr, grad_weight64.data());
    for (double v : grad_weight64) ASSERT_EQ(v, 0.0);
  }
}
