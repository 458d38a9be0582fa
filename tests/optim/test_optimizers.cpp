// SGD, Adam and AdamW against steps computed by hand, their checks, and the
// state save/load used to resume a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "support/tolerance.h"

namespace sceald::optim {
namespace {

using ::testing::HasSubstr;

Tensor leaf(std::vector<double> values) {
  const auto n = static_cast<std::int64_t>(values.size());
  Tensor t = Tensor::from_vector(values, {n});
  t.set_requires_grad(true);
  return t;
}

void set_grad(Tensor& p, std::vector<double> g) { p.grad() = Tensor::from_vector(g, p.shape()); }

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-14) << "element " << i;
}

TEST(SGD, PlainStepAndSkippedParameters) {
  Tensor p = leaf({1.0, -2.0}), q = leaf({5.0});
  SGD opt({p, q}, 0.1);
  set_grad(p, {0.5, -1.0});
  opt.step();  // q has no gradient: untouched
  expect_near(values(p), {0.95, -1.9});
  EXPECT_EQ(values(q), std::vector<double>{5.0});
}

TEST(SGD, MomentumDampeningWeightDecay) {
  Tensor p = leaf({1.0});
  SGD opt({p}, 0.1, 0.9, 0.5, 0.01);
  set_grad(p, {2.0});
  opt.step();
  // d = 2 + 0.01 * 1 = 2.01; first step: buf = d (no dampening); p = 1 - 0.1 * 2.01
  double buf = 2.01, x = 1.0 - 0.201;
  expect_near(values(p), {x});
  set_grad(p, {-1.0});
  opt.step();
  const double d = -1.0 + 0.01 * x;
  buf = 0.9 * buf + 0.5 * d;
  x -= 0.1 * buf;
  expect_near(values(p), {x});
}

TEST(SGD, Nesterov) {
  Tensor p = leaf({0.0});
  SGD opt({p}, 1.0, 0.5, 0.0, 0.0, true);
  set_grad(p, {1.0});
  opt.step();  // buf = 1; d = 1 + 0.5 * 1
  expect_near(values(p), {-1.5});
  set_grad(p, {1.0});
  opt.step();  // buf = 0.5 + 1 = 1.5; d = 1 + 0.75
  expect_near(values(p), {-3.25});
}

TEST(SGD, WorksInFloat32AndChecksSettings) {
  Tensor p = Tensor::from_vector<float>({1.0f, 2.0f}, {2});
  p.set_requires_grad(true);
  SGD opt({p}, 0.5, 0.9);
  p.grad() = Tensor::from_vector<float>({1.0f, 1.0f}, {2});
  opt.step();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_THROW(SGD({p}, 0.1, 0.9, 0.1, 0.0, /*nesterov=*/true), Error);
  EXPECT_THROW(SGD({p}, -0.1), Error);
  EXPECT_THROW(SGD({p, p}, 0.1), Error);
  p.grad() = Tensor::from_vector<double>({1.0, 1.0}, {2});  // a gradient of the wrong dtype
  EXPECT_THROW(opt.step(), Error);
}

TEST(Adam, FirstStepsByHand) {
  // Step 1: m = (1 - b1) g, v = (1 - b2) g^2, so the corrected ratio is g / |g|
  // and every element moves by lr * g / (|g| + eps).
  Tensor p = leaf({1.0, -1.0, 0.5});
  Adam opt({p}, 0.1);
  set_grad(p, {3.0, -0.02, 1e-9});
  opt.step();
  expect_near(values(p), {1.0 - 0.1 * 3.0 / (3.0 + 1e-8), -1.0 + 0.1 * 0.02 / (0.02 + 1e-8),
                          0.5 - 0.1 * 1e-9 / (1e-9 + 1e-8)});
  // Step 2, element 0, from the formulas.
  const double g1 = 3.0, g2 = -1.0;
  const double m = 0.9 * (0.1 * g1) + 0.1 * g2, v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
  const double expected = values(p)[0] - 0.1 / (1 - 0.81) * m / (std::sqrt(v) / std::sqrt(1 - 0.998001) + 1e-8);
  set_grad(p, {g2, 0.0, 0.0});
  opt.step();
  EXPECT_NEAR(values(p)[0], expected, 1e-14);
}

TEST(Adam, CoupledAndDecoupledWeightDecay) {
  Tensor a = leaf({2.0}), w = leaf({2.0});
  Adam adam({a}, 0.1, {0.9, 0.999}, 1e-8, 0.5);
  AdamW adamw({w}, 0.1, {0.9, 0.999}, 1e-8, 0.5);
  set_grad(a, {-0.5});
  set_grad(w, {-0.5});
  adam.step();
  adamw.step();
  // Adam: g = -0.5 + 0.5 * 2 = 0.5 > 0, so the step goes down by ~lr.
  expect_near(values(a), {2.0 - 0.1 * 0.5 / (0.5 + 1e-8)});
  // AdamW: p = 2 (1 - 0.05) = 1.9 first, then up by ~lr along -g.
  expect_near(values(w), {1.9 + 0.1 * 0.5 / (0.5 + 1e-8)});
  EXPECT_EQ(AdamW({w}).weight_decay, 1e-2);
  EXPECT_THROW(Adam({w}, 0.1, {1.0, 0.999}), Error);
}

TEST(Optimizer, StateRoundTripResumesExactly) {
  Tensor p = leaf({1.0, 2.0}), q = leaf({3.0});
  Adam opt({p, q}, 0.05);
  set_grad(p, {0.3, -0.7});
  opt.step();  // q has no gradient yet: no state for it
  const NamedTensors saved = opt.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, _] : saved) keys.push_back(k);
  EXPECT_THAT(keys, ::testing::ElementsAre("lr", "0.exp_avg", "0.exp_avg_sq", "0.step"));
  EXPECT_EQ(saved[3].second.dtype(), DType::Int64);

  Tensor p2 = leaf(values(p)), q2 = leaf({3.0});
  Adam resumed({p2, q2}, 0.999);
  resumed.load_state_dict(saved);
  EXPECT_EQ(resumed.lr(), 0.05);
  for (auto* pair : {&p, &p2}) set_grad(*pair, {-0.1, 0.2});
  set_grad(q, {1.0});
  set_grad(q2, {1.0});
  opt.step();
  resumed.step();
  EXPECT_EQ(values(p), values(p2));
  EXPECT_EQ(values(q), values(q2));
  // The saved state is a copy: later steps did not change it.
  EXPECT_EQ(saved[3].second.item<std::int64_t>(), 1);
}

TEST(Optimizer, LoadStateListsEveryProblem) {
  Tensor p = leaf({1.0, 2.0});
  SGD opt({p}, 0.1, 0.9);
  std::map<std::string, Tensor> bad = {{"0.momentum_buffer", Tensor::zeros({3}, DType::Float64)},
                                       {"0.exp_avg", Tensor::zeros({2}, DType::Float64)},
                                       {"4.momentum_buffer", Tensor::zeros({2}, DType::Float64)},
                                       {"junk", Tensor::zeros({1})}};
  try {
    opt.load_state_dict(bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("0.momentum_buffer: checkpoint [3] vs expected [2]"));
    EXPECT_THAT(msg, HasSubstr("0.exp_avg: SGD keeps no slot 'exp_avg'"));
    EXPECT_THAT(msg, HasSubstr("4.momentum_buffer: parameter 4 does not exist (1 parameters)"));
    EXPECT_THAT(msg, HasSubstr("junk: not a key"));
  }
  Adam adam({p});
  EXPECT_THROW(adam.load_state_dict(std::map<std::string, Tensor>{{"0.step", Tensor::zeros({}, DType::Int64)}}),
               Error);  // exp_avg and exp_avg_sq missing
}

TEST(Optimizer, ZeroGradAndLearningRate) {
  Tensor p = leaf({1.0});
  SGD opt({p}, 0.1);
  set_grad(p, {1.0});
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.set_lr(0.5);
  EXPECT_EQ(opt.lr(), 0.5);
  EXPECT_THROW(opt.set_lr(NAN), Error);
}

}  // namespace
}  // namespace sceald::optim
