// Batch normalisation: the emulated CUDA kernels (kernels/cuda/batch_norm.cu)
// against kernels/cpu/batch_norm.h one by one, then chained as the CUDA op
// chains them (engine/cuda/ops_spatial.cpp) against the engine's CPU op,
// forward and backward, training and evaluation. Per-channel sums in double
// in another order: the reduction tolerance; the element-wise update of the
// running statistics: the elementwise one.
#include <string>

#include "emulated_kernels.h"
#include "engine/ops/batch_norm.h"
#include "engine/tensor.h"
#include "kernels/cpu/batch_norm.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

struct Extents {
  std::int64_t n, channels, inner;
};

std::string describe(const Extents& s) {
  return "[" + std::to_string(s.n) + ", " + std::to_string(s.channels) + ", " + std::to_string(s.inner) + "]";
}

// The kernels' device scratch, poisoned: a sum read before it is written shows.
std::vector<double> scratch_for(const Extents& s) {
  return poisoned<double>(emulated::batch_norm_scratch_bytes(s.n, s.channels) / sizeof(double));
}

// More channels than blocks, channels longer than a block, tiny ones.
const Extents kShapes[] = {{5, 6, 21}, {2, 3, 1}, {4, 7, 3}, {1, 2, 700}};

template <typename T>
class EmulatedBatchNorm : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedBatchNorm, FloatTypes);

TYPED_TEST(EmulatedBatchNorm, StatisticsAndRunningUpdate) {
  using T = TypeParam;
  for (const Extents& s : kShapes) {
    SCOPED_TRACE(describe(s));
    const std::size_t c = static_cast<std::size_t>(s.channels);
    const std::vector<T> x = random_values<T>(s.n * s.channels * s.inner, 1, -2.0, 3.0);
    std::vector<T> mean_cpu(c), var_cpu(c), mean = poisoned<T>(c), var = poisoned<T>(c);
    kernels::cpu::batch_norm_statistics(x.data(), s.n, s.channels, s.inner, mean_cpu.data(), var_cpu.data());
    std::vector<double> scratch = scratch_for(s);
    emulated::batch_norm_statistics(x.data(), s.n, s.channels, s.inner, mean.data(), var.data(), scratch.data(),
                                    nullptr);
    EXPECT_TRUE(matches_twin(mean, mean_cpu, reduction(dtype_v<T>)));
    EXPECT_TRUE(matches_twin(var, var_cpu, reduction(dtype_v<T>)));

    const std::int64_t count = s.n * s.inner;
    std::vector<T> running_mean_cpu = random_values<T>(c, 2), running_var_cpu = random_values<T>(c, 3, 0.5, 2.0);
    std::vector<T> running_mean = running_mean_cpu, running_var = running_var_cpu;
    kernels::cpu::batch_norm_update_running(mean_cpu.data(), var_cpu.data(), s.channels, count, 0.1,
                                            running_mean_cpu.data(), running_var_cpu.data());
    emulated::batch_norm_update_running(mean_cpu.data(), var_cpu.data(), s.channels, count, 0.1, running_mean.data(),
                                        running_var.data(), nullptr);
    EXPECT_TRUE(matches_twin(running_mean, running_mean_cpu, elementwise(dtype_v<T>)));
    EXPECT_TRUE(matches_twin(running_var, running_var_cpu, elementwise(dtype_v<T>)));
  }
}

TYPED_TEST(EmulatedBatchNorm, ForwardAndBackwardKernels) {
  using T = TypeParam;
  for (const Extents& s : kShapes) {
    SCOPED_TRACE(describe(s));
    const std::size_t c = static_cast<std::size_t>(s.channels), total = static_cast<std::size_t>(s.n * c * s.inner);
    const std::vector<T> x = random_values<T>(total, 4, -2.0, 3.0), g = random_values<T>(total, 5);
    const std::vector<T> mean = random_values<T>(c, 6), inv_std = random_values<T>(c, 7, 0.5, 2.0);
    const std::vector<T> weight = random_values<T>(c, 8, 0.5, 1.5), bias = random_values<T>(c, 9);
    for (const T* w : {weight.data(), static_cast<const T*>(nullptr)}) {
      SCOPED_TRACE(w ? "with weight and bias" : "no affine transform");
      const T* b = w ? bias.data() : nullptr;
      std::vector<T> y_cpu(total), y = poisoned<T>(total);
      kernels::cpu::batch_norm_forward(x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), w, b,
                                       y_cpu.data());
      emulated::batch_norm_forward(x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), w, b, y.data(),
                                   nullptr);
      EXPECT_TRUE(matches_twin(y, y_cpu, elementwise(dtype_v<T>)));

      for (bool batch_stats : {true, false}) {
        SCOPED_TRACE(batch_stats ? "batch statistics" : "running statistics");
        std::vector<T> gx_cpu(total), gw_cpu(c), gb_cpu(c);
        kernels::cpu::batch_norm_backward(g.data(), x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), w,
                                          batch_stats, gx_cpu.data(), gw_cpu.data(), gb_cpu.data());
        std::vector<T> gx = poisoned<T>(total), gw = poisoned<T>(c), gb = poisoned<T>(c);
        std::vector<double> scratch = scratch_for(s);
        emulated::batch_norm_backward(g.data(), x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), w,
                                      batch_stats, gx.data(), gw.data(), gb.data(), scratch.data(), nullptr);
        EXPECT_TRUE(matches_twin(gx, gx_cpu, reduction(dtype_v<T>)));
        EXPECT_TRUE(matches_twin(gw, gw_cpu, reduction(dtype_v<T>)));
        EXPECT_TRUE(matches_twin(gb, gb_cpu, reduction(dtype_v<T>)));

        // Only the input's gradient wanted: the sums still feed it.
        std::vector<T> gx_alone = poisoned<T>(total);
        emulated::batch_norm_backward(g.data(), x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), w,
                                      batch_stats, gx_alone.data(), static_cast<T*>(nullptr), static_cast<T*>(nullptr),
                                      scratch.data(), nullptr);
        EXPECT_TRUE(matches_twin(gx_alone, gx_cpu, reduction(dtype_v<T>)));
      }
    }
  }
}

template <typename T>
Tensor tensor(const std::vector<T>& values, const Shape& shape) {
  return Tensor::from_vector(values, shape);
}

// The engine's CPU batch norm against the emulated kernels chained as
// engine/cuda/ops_spatial.cpp chains them on the GPU; the gradients through
// the engine's autograd against batch_norm_backward.
template <typename T>
void expect_batch_norm_op_matches(const Extents& s, bool training) {
  SCOPED_TRACE(describe(s) + (training ? " training" : " evaluation"));
  const Tolerance tol = reduction(dtype_v<T>);
  const double momentum = 0.1, eps = 1e-5;
  const std::size_t c = static_cast<std::size_t>(s.channels), total = static_cast<std::size_t>(s.n * c * s.inner);
  const Shape shape{s.n, s.channels, s.inner}, per_channel{s.channels};
  const std::vector<T> x = random_values<T>(total, 10, -2.0, 3.0), g = random_values<T>(total, 11);
  const std::vector<T> weight = random_values<T>(c, 12, 0.5, 1.5), bias = random_values<T>(c, 13);
  const std::vector<T> running_mean0 = random_values<T>(c, 14), running_var0 = random_values<T>(c, 15, 0.5, 2.0);

  Tensor xt = tensor(x, shape), wt = tensor(weight, per_channel), bt = tensor(bias, per_channel);
  for (Tensor* t : {&xt, &wt, &bt}) t->set_requires_grad(true);
  Tensor running_mean_cpu = tensor(running_mean0, per_channel), running_var_cpu = tensor(running_var0, per_channel);
  Tensor y_cpu = batch_norm(xt, wt, bt, running_mean_cpu, running_var_cpu, training, momentum, eps);
  y_cpu.backward(tensor(g, shape));

  std::vector<T> mean = poisoned<T>(c), inv_std = poisoned<T>(c), y = poisoned<T>(total);
  std::vector<T> running_mean = running_mean0, running_var = running_var0;
  if (training) {
    std::vector<double> scratch = scratch_for(s);
    emulated::batch_norm_statistics(x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), scratch.data(),
                                    nullptr);
    emulated::batch_norm_update_running(mean.data(), inv_std.data(), s.channels, s.n * s.inner, momentum,
                                        running_mean.data(), running_var.data(), nullptr);
  } else {
    mean = running_mean0;
    inv_std = running_var0;
  }
  emulated::batch_norm_inverse_std(inv_std.data(), s.channels, eps, nullptr);
  emulated::batch_norm_forward(x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(), weight.data(),
                               bias.data(), y.data(), nullptr);
  EXPECT_TRUE(matches_twin(y, y_cpu.to_vector<T>(), tol));
  EXPECT_TRUE(matches_twin(running_mean, running_mean_cpu.to_vector<T>(), tol));
  EXPECT_TRUE(matches_twin(running_var, running_var_cpu.to_vector<T>(), tol));

  std::vector<T> gx = poisoned<T>(total), gw = poisoned<T>(c), gb = poisoned<T>(c);
  std::vector<double> scratch = scratch_for(s);
  emulated::batch_norm_backward(g.data(), x.data(), s.n, s.channels, s.inner, mean.data(), inv_std.data(),
                                weight.data(), training, gx.data(), gw.data(), gb.data(), scratch.data(), nullptr);
  EXPECT_TRUE(matches_twin(gx, xt.grad().to_vector<T>(), tol));
  EXPECT_TRUE(matches_twin(gw, wt.grad().to_vector<T>(), tol));
  EXPECT_TRUE(matches_twin(gb, bt.grad().to_vector<T>(), tol));
}

TYPED_TEST(EmulatedBatchNorm, TheOpInTrainingAndEvaluation) {
  for (const Extents& s : kShapes) {
    expect_batch_norm_op_matches<TypeParam>(s, true);
    expect_batch_norm_op_matches<TypeParam>(s, false);
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
