// The harness of the GPU comparison tests: run an op (or any differentiable
// function of tensors) on the CPU and on the GPU from the same inputs,
// forward and backward, and compare.
//
// On the GPU side every allocation is poisoned (0xFF bytes: NaN in float32
// and float64), so an output element a kernel forgets to write shows up as a
// NaN and fails; the math mode is Precise unless the caller chooses; and the
// GPU run is done twice and must agree bit for bit (determinism).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/math_mode.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "gpu_test.h"
#include "gpu_tolerance.h"

namespace sceald::gpu_testing {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

// Random CPU tensor, uniform in [low, high).
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, DType dtype = DType::Float32, double low = -1.0,
                            double high = 1.0) {
  Generator gen(seed);
  return gen.uniform(shape, low, high, dtype);
}

// CPU tensor of distinct values `gap` apart, shuffled and kept away from 0:
// no ties for max pooling, no ReLU kinks.
inline Tensor distinct_tensor(const Shape& shape, std::uint64_t seed, DType dtype = DType::Float32, double gap = 0.01) {
  Generator gen(seed);
  const std::int64_t n = shape_numel(shape);
  const std::vector<std::int64_t> perm = gen.permutation(n);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = (static_cast<double>(perm[i]) - n / 2) * gap + gap / 2;
  return Tensor::from_vector(v, shape).to(dtype);
}

class PoisonGuard {
 public:
  PoisonGuard() : previous_(cuda::poison_allocations()) { cuda::set_poison_allocations(true); }
  ~PoisonGuard() { cuda::set_poison_allocations(previous_); }

 private:
  bool previous_;
};

struct CompareOptions {
  Tolerance forward;
  Tolerance backward;
  cuda::MathMode mode = cuda::MathMode::Precise;
  bool check_determinism = true;  // run the GPU twice; require identical bits
  std::uint64_t seed = 97;        // of the random gradient projection
  // Inputs that get no gradient (by index); int64 inputs never do.
  std::vector<std::size_t> no_grad = {};
};

namespace detail {

struct Run {
  Tensor out;
  std::vector<Tensor> grads;  // per input; undefined where none
};

inline Run run(const Function& f, const std::vector<Tensor>& inputs, Device device, const std::vector<bool>& wants_grad,
               const Tensor& projection) {
  std::vector<Tensor> xs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Tensor x = inputs[i].detach().clone().to(device);  // a fresh leaf with its own storage
    if (wants_grad[i]) x.set_requires_grad(true);
    xs.push_back(x);
  }
  Run r;
  r.out = f(xs);
  if (projection.defined() && r.out.requires_grad()) r.out.backward(projection.to(device));
  for (const Tensor& x : xs) r.grads.push_back(x.requires_grad() ? x.grad() : Tensor());
  return r;
}

inline ::testing::AssertionResult bitwise_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i)
    if (!(va[i] == vb[i]) && !(std::isnan(va[i]) && std::isnan(vb[i])))
      return ::testing::AssertionFailure() << what << " differs between two GPU runs at [" << i << "]: " << va[i]
                                           << " vs " << vb[i] << " (not deterministic)";
  return ::testing::AssertionSuccess();
}

}  // namespace detail

// f on the CPU and on cuda:0 from the same inputs (CPU tensors): the outputs
// within opt.forward, the gradient of <projection, f> w.r.t. every floating
// input within opt.backward.
inline ::testing::AssertionResult matches_cpu(const Function& f, const std::vector<Tensor>& inputs,
                                              const CompareOptions& opt) {
  std::vector<bool> wants_grad;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    bool skip = false;
    for (std::size_t j : opt.no_grad) skip = skip || j == i;
    wants_grad.push_back(is_floating(inputs[i].dtype()) && !skip);
  }
  // The random projection has the output's shape: a first CPU forward tells it.
  const Tensor probe = detail::run(f, inputs, Device::cpu(), wants_grad, Tensor()).out;
  const Tensor projection = random_tensor(probe.shape(), opt.seed, probe.dtype());
  const detail::Run ref = detail::run(f, inputs, Device::cpu(), wants_grad, projection);

  PoisonGuard poison;
  cuda::MathModeGuard mode(opt.mode);
  const detail::Run gpu = detail::run(f, inputs, Device::cuda(0), wants_grad, projection);
  if (!gpu.out.device().is_cuda())
    return ::testing::AssertionFailure() << "the GPU run returned " << gpu.out.str() << ", not a CUDA tensor";
  if (auto r = ::sceald::testing::all_close(gpu.out.to(Device::cpu()), ref.out, opt.forward); !r)
    return ::testing::AssertionFailure() << "forward: " << r.message();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!ref.grads[i].defined()) continue;
    if (!gpu.grads[i].defined()) return ::testing::AssertionFailure() << "input " << i << " got no gradient on the GPU";
    if (auto r = ::sceald::testing::all_close(gpu.grads[i].to(Device::cpu()), ref.grads[i], opt.backward); !r)
      return ::testing::AssertionFailure() << "gradient of input " << i << ": " << r.message();
  }
  if (opt.check_determinism) {
    const detail::Run again = detail::run(f, inputs, Device::cuda(0), wants_grad, projection);
    if (auto r = detail::bitwise_equal(again.out, gpu.out, "the output"); !r) return r;
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (gpu.grads[i].defined())
        if (auto r = detail::bitwise_equal(again.grads[i], gpu.grads[i], "gradient " + std::to_string(i)); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

// The common case: one tolerance for both directions.
inline ::testing::AssertionResult matches_cpu(const Function& f, const std::vector<Tensor>& inputs, Tolerance tol) {
  CompareOptions opt;
  opt.forward = tol;
  opt.backward = tol;
  return matches_cpu(f, inputs, opt);
}

}  // namespace sceald::gpu_testing
