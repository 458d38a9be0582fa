// The fused optimiser updates: the emulated CUDA kernels
// (kernels/cuda/optim.cu) against the engine's CPU optimisers
// (engine/optim/sgd.cpp, adam.cpp) over several steps, so that the momentum
// and moment buffers carry from step to step. The same operations in the
// same order, which the GPU may fuse: the elementwise tolerance.
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "emulated_kernels.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "engine/tensor.h"
#include "twin_comparison.h"

namespace sceald::emulation_testing {
namespace {

constexpr std::int64_t kCount = 1001;  // no multiple of the block size
constexpr int kSteps = 4;

template <typename T>
Tensor parameter(const std::vector<T>& values) {
  Tensor p = Tensor::from_vector(values, {kCount});
  p.set_requires_grad(true);
  return p;
}

template <typename T>
class EmulatedOptimisers : public ::testing::Test {};
TYPED_TEST_SUITE(EmulatedOptimisers, FloatTypes);

struct SgdSettings {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};

TYPED_TEST(EmulatedOptimisers, Sgd) {
  using T = TypeParam;
  for (const SgdSettings& s : {SgdSettings{0.1, 0.0, 0.0, 0.0, false}, SgdSettings{0.05, 0.9, 0.0, 0.0, false},
                               SgdSettings{0.05, 0.9, 0.5, 1e-2, false}, SgdSettings{0.01, 0.8, 0.0, 5e-4, true}}) {
    SCOPED_TRACE("lr " + std::to_string(s.lr) + ", momentum " + std::to_string(s.momentum) + ", dampening " +
                 std::to_string(s.dampening) + ", weight decay " + std::to_string(s.weight_decay) +
                 (s.nesterov ? ", Nesterov" : ""));
    std::vector<T> p = random_values<T>(kCount, 1), buffer = poisoned<T>(kCount);
    Tensor p_cpu = parameter(p);
    optim::SGD sgd({p_cpu}, s.lr, s.momentum, s.dampening, s.weight_decay, s.nesterov);
    for (int step = 0; step < kSteps; ++step) {
      SCOPED_TRACE("step " + std::to_string(step + 1));
      const std::vector<T> g = random_values<T>(kCount, 10 + step);
      p_cpu.grad() = Tensor::from_vector(g, {kCount});
      sgd.step();
      // As the engine's CUDA path: no buffer without momentum; its first step fills it.
      emulated::sgd_update(p.data(), g.data(), s.momentum != 0.0 ? buffer.data() : nullptr, step == 0, kCount, s.lr,
                           s.momentum, s.dampening, s.weight_decay, s.nesterov, nullptr);
      ASSERT_TRUE(matches_twin(p, p_cpu.to_vector<T>(), elementwise(dtype_v<T>)));
    }
  }
}

// The per-step constants as the host computes them for the kernel
// (engine/cuda/ops_optim.cpp, which builds only with CUDA).
emulated::AdamStep adam_step(double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
                             std::int64_t step) {
  const double t = static_cast<double>(step);
  emulated::AdamStep s{};
  s.step_size = lr / (1.0 - std::pow(beta1, t));
  s.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
  s.beta1 = beta1;
  s.beta2 = beta2;
  s.eps = eps;
  s.weight_decay = weight_decay;
  s.decay = 1.0 - lr * weight_decay;
  s.decoupled = decoupled;
  return s;
}

struct AdamSettings {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
};

TYPED_TEST(EmulatedOptimisers, AdamAndAdamW) {
  using T = TypeParam;
  for (const AdamSettings& s :
       {AdamSettings{1e-3, 0.9, 0.999, 1e-8, 0.0, false}, AdamSettings{1e-2, 0.8, 0.99, 1e-6, 1e-2, false},
        AdamSettings{1e-3, 0.9, 0.999, 1e-8, 1e-2, true}}) {
    SCOPED_TRACE(std::string(s.decoupled ? "AdamW" : "Adam") + ", lr " + std::to_string(s.lr) + ", weight decay " +
                 std::to_string(s.weight_decay));
    std::vector<T> p = random_values<T>(kCount, 2), m(kCount, T(0)), v(kCount, T(0));
    Tensor p_cpu = parameter(p);
    std::unique_ptr<optim::Adam> adam =
        s.decoupled ? std::make_unique<optim::AdamW>(std::vector<Tensor>{p_cpu}, s.lr, std::pair{s.beta1, s.beta2},
                                                     s.eps, s.weight_decay)
                    : std::make_unique<optim::Adam>(std::vector<Tensor>{p_cpu}, s.lr, std::pair{s.beta1, s.beta2},
                                                    s.eps, s.weight_decay);
    for (int step = 1; step <= kSteps; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const std::vector<T> g = random_values<T>(kCount, 20 + step);
      p_cpu.grad() = Tensor::from_vector(g, {kCount});
      adam->step();
      emulated::adam_update(p.data(), g.data(), m.data(), v.data(), kCount,
                            adam_step(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.decoupled, step), nullptr);
      ASSERT_TRUE(matches_twin(p, p_cpu.to_vector<T>(), elementwise(dtype_v<T>)));
    }
  }
}

}  // namespace
}  // namespace sceald::emulation_testing
