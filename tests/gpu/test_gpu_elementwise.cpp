// Element-wise ops, reductions and layout ops: CUDA against the CPU twin,
// forward and backward, float32 and float64, odd sizes, strided and
// broadcast operands, NaN-poisoned outputs (gpu_compare.h).
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/reduction.h"
#include "gpu_compare.h"

using namespace sceald;
using namespace sceald::gpu_testing;

namespace {

class GpuElementwise : public ::testing::TestWithParam<DType> {};

TEST_P(GpuElementwise, BinaryOpsWithBroadcasting) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  struct Case {
    Shape a, b;
  };
  const Case cases[] = {{{37, 5}, {37, 5}},   {{3, 7, 5, 9}, {1, 7, 1, 1}},
                        {{6, 1, 13}, {5, 1}}, {{2, 3, 4, 5, 6}, {6}},
                        {{11}, {}},           {{1, 9}, {7, 1}}};
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    const Tensor a = random_tensor(c.a, seed++, t), b = random_tensor(c.b, seed++, t, 0.5, 2.0);  // b away from 0
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return add(x[0], x[1]); }, {a, b}, reduction(t)));
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return sub(x[0], x[1]); }, {a, b}, reduction(t)));
    // The backward of a broadcast op sums over the broadcast axes.
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return mul(x[0], x[1]); }, {a, b}, reduction(t)));
    EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& x) { return div(x[0], x[1]); }, {a, b}, reduction(t)));
  }
}

TEST_P(GpuElementwise, StridedOperandsAreReadInPlace) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor a = random_tensor({13, 7}, 3, t), b = random_tensor({7, 13}, 4, t);
  EXPECT_TRUE(
      matches_cpu([](const std::vector<Tensor>& x) { return mul(x[0], x[1].transpose(0, 1)); }, {a, b}, reduction(t)));
}

TEST_P(GpuElementwise, UnaryMaps) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({5, 19, 3}, 11, t, 0.1, 3.0);  // positive: log, sqrt, pow
  const Tolerance tol = elementwise(t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return neg(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return exp(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return log(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sqrt(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return pow(v[0], 2.5); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return mul(v[0], -1.75); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return add(v[0], 0.3); }, {x}, tol));
  // A strided input is made contiguous first.
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return exp(v[0].transpose(0, 2)); }, {x}, tol));
}

TEST_P(GpuElementwise, InPlaceAddBroadcasts) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  PoisonGuard poison;
  const Tensor dst = random_tensor({4, 6, 5}, 21, t), src = random_tensor({6, 1}, 22, t);
  Tensor cpu = dst.clone(), gpu = dst.to(Device::cuda(0));
  add_(cpu, src);
  add_(gpu, src.to(Device::cuda(0)));
  EXPECT_TRUE(all_close(gpu.to(Device::cpu()), cpu, exact()));
}

TEST_P(GpuElementwise, SumsAndMeans) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({6, 7, 5, 9}, 31, t);
  const Tolerance tol = reduction(t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return mean(v[0]); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0], {1}); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0], {1, 2}, true); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return mean(v[0], {0, 2, 3}); }, {x}, tol));  // gathered
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0], {-1}); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0].transpose(1, 3), {2}); }, {x}, tol));
}

TEST_P(GpuElementwise, LongReductionsSplitInTwoPasses) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  // Few long lines: the kernel splits each into chunks through a scratch buffer.
  const Tensor rows = random_tensor({3, 100003}, 41, t), columns = random_tensor({2, 70001, 3}, 42, t);
  const Tolerance tol = reduction(t);
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0], {1}); }, {rows}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0]); }, {rows}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return sum(v[0], {1}); }, {columns}, tol));
}

TEST_P(GpuElementwise, LayoutOps) {
  SCEALD_REQUIRE_GPU();
  const DType t = GetParam();
  const Tensor x = random_tensor({3, 5, 4, 7}, 51, t), y = random_tensor({3, 2, 4, 7}, 52, t);
  const Tolerance tol = exact();
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return permute(v[0], {2, 0, 3, 1}); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return v[0].transpose(1, 2).contiguous(); }, {x}, tol));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return concat({v[0], v[1], v[0]}, 1); }, {x, y}, tol));
  EXPECT_TRUE(matches_cpu(
      [](const std::vector<Tensor>& v) {
        return broadcast_to(v[0], {2, 3, 5, 4, 7});
      },
      {x}, reduction(t)));
  EXPECT_TRUE(matches_cpu([](const std::vector<Tensor>& v) { return flatten(v[0].transpose(0, 3)); }, {x}, tol));
  // A strided GPU tensor copied to the host.
  PoisonGuard poison;
  const Tensor strided = x.to(Device::cuda(0)).transpose(0, 3);
  EXPECT_TRUE(all_close(strided.to(Device::cpu()), x.transpose(0, 3).contiguous(), tol));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuElementwise, ::testing::Values(DType::Float32, DType::Float64),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
