// The network ops against their CPU twins: activations, dropout, softmax,
// the losses, pooling, up-sampling, batch norm, cosine similarity and L2
// normalisation. Forward and backward, float32 and float64, odd sizes,
// NaN-poisoned outputs, determinism (gpu_compare.h).
#include <cmath>

#include "engine/ops/activation.h"
#include "engine/ops/batch_norm.h"
#include "engine/ops/loss.h"
#include "engine/ops/pooling.h"
#include "engine/ops/similarity.h"
#include "engine/ops/softmax.h"
#include "engine/ops/upsample.h"
#include "gpu_compare.h"

using namespace sceald;
using namespace sceald::gpu_testing;

namespace {

class GpuNnOps : public ::testing::TestWithParam<DType> {};

TEST_P(GpuNnOps, Activations) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = distinct_tensor({3, 5, 7, 9}, 1, t, 0.003);  // no value at the ReLU kink
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return relu(v[0]); }, {x}, exact()));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sigmoid(v[0]); }, {x}, elementwise(t)));
  const Tensor per_channel = random_tensor({5}, 2, t, 0.0, 0.5), shared = random_tensor({1}, 3, t, 0.0, 0.5);
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& v) { return prelu(v[0], v[1]); }, {x, per_channel}, reduction(t)));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return prelu(v[0], v[1]); }, {x, shared}, reduction(t)));
}

TEST_P(GpuNnOps, DropoutDrawsTheCpuMask) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({4, 3, 11, 13}, 4, t);
  // Each run starts its generator at the same state, so both devices draw the same words.
  EXPECT_TRUE(matches_cpu(
      [](const std::vector<Tensor>& v) {
        Generator gen(77);
        gen.reserve(5);
        return dropout(v[0], 0.3, true, gen);
      },
      {x}, exact()));
}

TEST_P(GpuNnOps, SoftmaxAndLogSoftmax) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor rows = random_tensor({9, 301}, 5, t, -4.0, 4.0);      // inner == 1: a block per row
  const Tensor maps = random_tensor({2, 7, 5, 3}, 6, t, -4.0, 4.0);  // softmax over axis 1: a thread per line
  const Tolerance tol = reduction(t);
  for (const Tensor& x : {rows, maps}) {
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return softmax(v[0], 1); }, {x}, tol));
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return log_softmax(v[0], 1); }, {x}, tol));
  }
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return log_softmax(v[0], -1); }, {maps}, tol));
}

TEST_P(GpuNnOps, Losses) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor logits = random_tensor({13, 7}, 7, t, -3.0, 3.0);
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 13; ++i) labels.push_back((i * 5 + 3) % 7);
  const Tensor lab = Tensor::from_vector(labels, {13});
  const Tensor target = softmax(random_tensor({13, 7}, 8, t, -2.0, 2.0), 1).detach();
  const Tolerance tol = reduction(t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return cross_entropy(v[0], v[1]); }, {logits, lab}, tol));
  CompareOptions soft;
  soft.forward = soft.backward = tol;
  soft.no_grad = {1};  // no gradient flows to the target
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& v) { return soft_cross_entropy(v[0], v[1]); }, {logits, target}, soft));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return mse_loss(v[0], v[1]); }, {logits, target}, tol));
}

TEST(GpuLosses, OutOfRangeLabelIsAnErrorNotACrash) {
  SCEALD_REQUIRE_GPU();
  const Tensor logits = random_tensor({3, 4}, 9).to(Device::cuda(0));
  const Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{0, 4, 1}, {3}).to(Device::cuda(0));
  EXPECT_THROW(cross_entropy(logits, labels), Error);
}

TEST_P(GpuNnOps, MaxPooling) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  struct Case {
    Shape x;
    MaxPool2dParams p;
  };
  const Case cases[] = {
      {{2, 3, 12, 10}, {{2, 2}, {2, 2}, {0, 0}, {1, 1}, false}},
      {{2, 3, 13, 11}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}, true}},   // overlapping windows, padding, ceil mode
      {{1, 4, 15, 14}, {{3, 2}, {1, 2}, {1, 1}, {2, 1}, false}},  // dilation, stride 1: many windows per input
  };
  std::uint64_t seed = 10;
  for (const Case& c : cases) {
    const Tensor x = distinct_tensor(c.x, seed++, t);
    const MaxPool2dParams p = c.p;
    EXPECT_TRUE(matches_cpu([p](const std::vector<Tensor>& v) { return max_pool2d(v[0], p); }, {x}, exact()))
        << "input " << shape_str(c.x);
  }
  // Ties pick the first maximum on both devices (a constant input is all ties).
  const Tensor flat = Tensor::full({1, 2, 6, 6}, 0.5, t);
  EXPECT_TRUE(matches_cpu(
      [](const std::vector<Tensor>& v) {
        return max_pool2d(v[0], {{3, 3}, {1, 1}, {1, 1}, {1, 1}, false});
      },
      {flat}, exact()));
}

TEST_P(GpuNnOps, AdaptiveAveragePooling) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({2, 3, 13, 10}, 20, t);
  for (std::array<std::int64_t, 2> size : {std::array<std::int64_t, 2>{1, 1}, {5, 3}, {7, 7}, {20, 13}})
    EXPECT_TRUE(
        matches_cpu([size](const std::vector<Tensor>& v) { return adaptive_avg_pool2d(v[0], size); }, {x}, exact()))
        << "output " << size[0] << "x" << size[1];
}

TEST_P(GpuNnOps, NearestUpsampling) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({2, 3, 7, 5}, 30, t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return upsample_nearest2x(v[0]); }, {x}, exact()));
  for (std::array<std::int64_t, 2> size : {std::array<std::int64_t, 2>{22, 9}, {3, 4}, {26, 46}})
    EXPECT_TRUE(
        matches_cpu([size](const std::vector<Tensor>& v) { return upsample_nearest2d(v[0], size); }, {x}, exact()))
        << "output " << size[0] << "x" << size[1];
}

TEST_P(GpuNnOps, BatchNormTrainingAndEvaluation) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({5, 6, 7, 3}, 40, t, -2.0, 3.0);
  const Tensor w = random_tensor({6}, 41, t, 0.5, 1.5), b = random_tensor({6}, 42, t);
  const Tolerance tol = reduction(t);
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& v) { return batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), true); },
                  {x, w, b}, tol));
  EXPECT_TRUE(matches_cpu(
      [](const std::vector<Tensor>& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }, {x},
      tol));
  const Tensor rm = random_tensor({6}, 43, t), rv = random_tensor({6}, 44, t, 0.5, 2.0);
  CompareOptions eval;
  eval.forward = eval.backward = tol;
  eval.no_grad = {3, 4};
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return batch_norm(v[0], v[1], v[2], v[3], v[4], false); },
                          {x, w, b, rm, rv}, eval));
  // The running statistics are updated in place, as on the CPU.
  PoisonGuard poison;
  Tensor rm_cpu = rm.clone(), rv_cpu = rv.clone();
  Tensor rm_gpu = rm.to(Device::cuda(0)), rv_gpu = rv.to(Device::cuda(0));
  (void)batch_norm(x, w, b, rm_cpu, rv_cpu, true, 0.1);
  (void)batch_norm(x.to(Device::cuda(0)), w.to(Device::cuda(0)), b.to(Device::cuda(0)), rm_gpu, rv_gpu, true, 0.1);
  EXPECT_TRUE(all_close(rm_gpu.to(Device::cpu()), rm_cpu, tol));
  EXPECT_TRUE(all_close(rv_gpu.to(Device::cpu()), rv_cpu, tol));
}

TEST_P(GpuNnOps, CosineSimilarityAndL2Normalisation) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor a = random_tensor({7, 33}, 50, t), b = random_tensor({7, 33}, 51, t), row = random_tensor({33}, 52, t);
  const Tolerance tol = reduction(t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return cosine_similarity(v[0], v[1], 1); }, {a, b}, tol));
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& v) { return cosine_similarity(v[0], v[1], 1); }, {a, row}, tol));
  const Tensor maps = random_tensor({3, 5, 4, 6}, 53, t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return l2_normalize(v[0], 1); }, {maps}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return l2_normalize(v[0], -1); }, {a}, tol));
}

// A NaN in a line makes the line's norm NaN, and max(NaN, eps) keeps it, as
// on the CPU and in PyTorch (CUDA's fmax would return eps and hide it).
TEST_P(GpuNnOps, NanInALineStaysNanAsOnTheCpu) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  std::vector<double> values = random_tensor({4, 9}, 54, DType::Float64).to_vector<double>();
  values[2 * 9 + 5] = std::nan("");
  const Tensor x = Tensor::from_vector(values, {4, 9}).to(t), other = random_tensor({4, 9}, 55, t);
  const auto same = [](const Tensor& gpu, const Tensor& cpu) {
    const std::vector<double> g = gpu.to(Device::cpu()).to_vector<double>(), c = cpu.to_vector<double>();
    for (std::size_t i = 0; i < c.size(); ++i)
      if (std::isnan(g[i]) != std::isnan(c[i]) || (!std::isnan(c[i]) && std::abs(g[i] - c[i]) > 1e-6))
        return ::testing::AssertionFailure() << "[" << i << "]: GPU " << g[i] << ", CPU " << c[i];
    return ::testing::AssertionSuccess();
  };
  const Tensor gpu_x = x.to(Device::cuda(0)), gpu_other = other.to(Device::cuda(0));
  EXPECT_TRUE(same(l2_normalize(gpu_x, 1), l2_normalize(x, 1)));
  EXPECT_TRUE(same(cosine_similarity(gpu_x, gpu_other, 1), cosine_similarity(x, other, 1)));
  EXPECT_TRUE(std::isnan(l2_normalize(x, 1).to_vector<double>()[2 * 9]));  // the CPU rule this test relies on
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuNnOps, ::testing::Values(DType::Float32, DType::Float64),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
