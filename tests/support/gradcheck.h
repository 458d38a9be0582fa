// Float64 gradient check by central differences of <g, f(x)> for a random
// projection g: the number backward must produce for every input element.
// Bar: PyTorch's gradcheck tolerances for double (eps 1e-6, atol 1e-5,
// rtol 1e-3). Inputs must keep away from kinks (ReLU at 0, max-pool ties);
// the helpers below draw such inputs.
#pragma once

#include <functional>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "support/tolerance.h"

namespace sceald::testing {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  std::uint64_t seed = 1234;
};

// Random float64 leaf in [low, high) that requires a gradient.
inline Tensor random_input(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  Generator gen(seed);
  Tensor t = gen.uniform(shape, low, high, DType::Float64);
  t.set_requires_grad(true);
  return t;
}

// Float64 leaf whose values are a shuffled ladder spaced `gap` apart, so no
// two are within a finite-difference step of each other (max-pool ties) and,
// centred on 0 with an offset of gap/2, none is near 0 (ReLU).
inline Tensor distinct_input(const Shape& shape, std::uint64_t seed, double gap = 0.01) {
  Generator gen(seed);
  const std::int64_t n = shape_numel(shape);
  std::vector<std::int64_t> perm = gen.permutation(n);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = (static_cast<double>(perm[i]) - n / 2) * gap + gap / 2;
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

inline ::testing::AssertionResult gradcheck(const Function& f, const std::vector<Tensor>& inputs,
                                            GradcheckOptions opt = {}) {
  for (const Tensor& x : inputs) x.impl()->grad = Tensor();
  Tensor y = f(inputs);
  if (y.dtype() != DType::Float64) return ::testing::AssertionFailure() << "gradcheck needs float64 outputs";
  Generator gen(opt.seed);
  Tensor g = gen.uniform(y.shape(), -1.0, 1.0, DType::Float64);
  y.backward(g);
  const std::vector<double> gv = g.to_vector<double>();
  auto project = [&](const Tensor& out) {
    std::vector<double> ov = out.to_vector<double>();
    double s = 0.0;
    for (std::size_t i = 0; i < ov.size(); ++i) s += ov[i] * gv[i];
    return s;
  };
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor xc = x;  // a handle: perturbations below change the leaf's own data
    if (!x.is_contiguous()) return ::testing::AssertionFailure() << "gradcheck: input " << k << " not contiguous";
    double* p = xc.data<double>();
    std::vector<double> numeric(static_cast<std::size_t>(x.numel()));
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const double orig = p[i];
      p[i] = orig + opt.eps;
      const double plus = project(f(inputs));
      p[i] = orig - opt.eps;
      const double minus = project(f(inputs));
      p[i] = orig;
      numeric[static_cast<std::size_t>(i)] = (plus - minus) / (2 * opt.eps);
    }
    std::vector<double> analytic = x.grad().defined() ? x.grad().to_vector<double>()
                                                      : std::vector<double>(numeric.size(), 0.0);
    auto r = all_close(analytic, numeric, {opt.atol, opt.rtol});
    if (!r) return ::testing::AssertionFailure() << "gradient of input " << k << " " << x.str() << ":\n" << r.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sceald::testing
