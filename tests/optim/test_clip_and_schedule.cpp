// clip_grad_norm by hand, and the learning-rate schedules' closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "engine/optim/clip.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"

namespace sceald::optim {
namespace {

Tensor leaf_with_grad(std::vector<double> grad) {
  const auto n = static_cast<std::int64_t>(grad.size());
  Tensor t = Tensor::zeros({n}, DType::Float64);
  t.set_requires_grad(true);
  t.grad() = Tensor::from_vector(grad, {n});
  return t;
}

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  Tensor a = leaf_with_grad({3.0}), b = leaf_with_grad({0.0, 4.0}), none = Tensor::zeros({2}, DType::Float64);
  none.set_requires_grad(true);
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, none}, 10.0), 5.0);  // below: unchanged
  EXPECT_EQ(a.grad().to_vector<double>(), std::vector<double>{3.0});
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, none}, 1.0), 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(a.grad().to_vector<double>()[0], 3.0 * c);
  EXPECT_DOUBLE_EQ(b.grad().to_vector<double>()[1], 4.0 * c);
  EXPECT_FALSE(none.grad().defined());
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b}, 1.0, INFINITY), 4.0 * c);
  EXPECT_EQ(clip_grad_norm({none}, 1.0), 0.0);
  EXPECT_THROW(clip_grad_norm({a}, -1.0), Error);
}

TEST(Schedules, StepLR) {
  Tensor p = Tensor::zeros({1});
  p.set_requires_grad(true);
  SGD opt({p}, 0.1);
  StepLR schedule(opt, 3, 0.5);
  std::vector<double> seen = {opt.lr()};
  for (int e = 0; e < 7; ++e) {
    schedule.step();
    seen.push_back(opt.lr());
  }
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(seen[i], expected[i]) << "epoch " << i;
}

TEST(Schedules, CosineAnnealingWithWarmup) {
  Tensor p = Tensor::zeros({1});
  p.set_requires_grad(true);
  SGD opt({p}, 1.0);
  CosineAnnealingLR cosine(opt, 10, 0.1);
  EXPECT_DOUBLE_EQ(opt.lr(), 1.0);
  EXPECT_DOUBLE_EQ(cosine.lr_at(5), 0.1 + 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(cosine.lr_at(10), 0.1);
  EXPECT_DOUBLE_EQ(cosine.lr_at(3), 0.1 + 0.9 * (1 + std::cos(std::numbers::pi * 0.3)) / 2);
  cosine.set_epoch(10);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);

  SGD opt2({p}, 0.4);
  CosineAnnealingLR warm(opt2, 8, 0.0, LinearWarmup{4, 0.25});
  EXPECT_DOUBLE_EQ(opt2.lr(), 0.1);  // 0.25 * base at epoch 0
  warm.step();
  EXPECT_DOUBLE_EQ(opt2.lr(), 0.4 * (0.25 + 0.75 * 0.25));
  EXPECT_DOUBLE_EQ(warm.lr_at(4), 0.4);  // the cosine starts after the warm-up
  EXPECT_DOUBLE_EQ(warm.lr_at(8), 0.2);
  EXPECT_NEAR(warm.lr_at(12), 0.0, 1e-17);
  EXPECT_THROW(CosineAnnealingLR(opt2, 0), Error);
  EXPECT_THROW(StepLR(opt2, 1, 0.1, LinearWarmup{2, 0.0}), Error);
}

}  // namespace
}  // namespace sceald::optim
