// The optimisers and gradient clipping against PyTorch 1.13 (fixtures written
// by tests/golden/make_optim_fixtures.py): five steps of SGD, Adam and AdamW on
// two float64 parameters, one of which sometimes has no gradient, straight
// through and again resumed from a state_dict() after step 2.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "engine/optim/adam.h"
#include "engine/optim/clip.h"
#include "engine/optim/sgd.h"
#include "golden/golden.h"

namespace sceald::golden {
namespace {

constexpr int kSteps = 5;
const testing::Tolerance kTol{1e-10, 0.0};

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

double scalar(const GoldenCase& c, const std::string& key) { return c.expected(key).to_vector<double>().at(0); }

// Row k of a [K, ...] tensor, as a new tensor of shape [...].
Tensor row(const Tensor& t, std::int64_t k) {
  Shape shape(t.shape().begin() + 1, t.shape().end());
  const std::int64_t n = shape_numel(shape);
  std::vector<double> all = t.to_vector<double>();
  return Tensor::from_vector(std::vector<double>(all.begin() + k * n, all.begin() + (k + 1) * n), shape);
}

// Runs the case's five steps; with resume_after >= 0, the optimiser is
// replaced by a fresh one loaded from state_dict() after that many steps.
void run_case(const GoldenCase& c, const MakeOptimizer& make, int resume_after = -1) {
  Tensor w = c.leaf("w0"), b = c.leaf("b0");
  auto opt = make({w, b});
  const auto b_has_grad = c.ints("b_has_grad");
  for (int k = 0; k < kSteps; ++k) {
    if (k == resume_after) {
      const auto saved = opt->state_dict();
      opt = make({w, b});
      opt->load_state_dict(saved);
    }
    w.grad() = row(c.expected("w_grads"), k);
    b.grad() = b_has_grad.at(k) ? row(c.expected("b_grads"), k) : Tensor();
    opt->step();
    EXPECT_TRUE(testing::all_close(w, row(c.expected("w_after"), k), kTol)) << "w after step " << k;
    EXPECT_TRUE(testing::all_close(b, row(c.expected("b_after"), k), kTol)) << "b after step " << k;
  }
}

void run_both_ways(const GoldenCase& c, const MakeOptimizer& make) {
  {
    SCOPED_TRACE("straight");
    run_case(c, make);
  }
  {
    SCOPED_TRACE("resumed after step 2");
    run_case(c, make, 2);
  }
}

TEST(GoldenOptim, SGD) {
  const auto file = load_fixture("optim_sgd.safetensors");
  for_each_case(file, {"plain", "momentum", "nesterov", "weight_decay"}, [](const GoldenCase& c) {
    run_both_ways(c, [&](std::vector<Tensor> params) {
      return std::make_unique<optim::SGD>(std::move(params), scalar(c, "lr"), scalar(c, "momentum"),
                                          scalar(c, "dampening"), scalar(c, "weight_decay"),
                                          c.int_value("nesterov") != 0);
    });
  });
}

TEST(GoldenOptim, Adam) {
  const auto file = load_fixture("optim_adam.safetensors");
  for_each_case(file, {"default", "weight_decay"}, [](const GoldenCase& c) {
    run_both_ways(c, [&](std::vector<Tensor> params) {
      return std::make_unique<optim::Adam>(std::move(params), scalar(c, "lr"),
                                           std::pair{scalar(c, "beta1"), scalar(c, "beta2")}, scalar(c, "eps"),
                                           scalar(c, "weight_decay"));
    });
  });
}

TEST(GoldenOptim, AdamW) {
  const auto file = load_fixture("optim_adamw.safetensors");
  for_each_case(file, {"weight_decay", "large_lr"}, [](const GoldenCase& c) {
    run_both_ways(c, [&](std::vector<Tensor> params) {
      return std::make_unique<optim::AdamW>(std::move(params), scalar(c, "lr"),
                                            std::pair{scalar(c, "beta1"), scalar(c, "beta2")}, scalar(c, "eps"),
                                            scalar(c, "weight_decay"));
    });
  });
}

TEST(GoldenOptim, ClipGradNorm) {
  const auto file = load_fixture("optim_clip_grad_norm.safetensors");
  for_each_case(file, {"l2_clipped", "l2_unclipped", "inf_clipped", "p3_clipped"}, [](const GoldenCase& c) {
    Tensor a = Tensor::zeros(c.expected("a_grad").shape(), DType::Float64);
    Tensor b = Tensor::zeros(c.expected("b_grad").shape(), DType::Float64);
    a.set_requires_grad(true);
    b.set_requires_grad(true);
    a.grad() = c.tensor("a_grad");
    b.grad() = c.tensor("b_grad");
    const double total = optim::clip_grad_norm({a, b}, scalar(c, "max_norm"), scalar(c, "norm_type"));
    EXPECT_NEAR(total, scalar(c, "total_norm"), 1e-10);
    EXPECT_TRUE(testing::all_close(a.grad(), c.expected("a_grad_after"), kTol));
    EXPECT_TRUE(testing::all_close(b.grad(), c.expected("b_grad_after"), kTol));
  });
}

}  // namespace
}  // namespace sceald::golden
