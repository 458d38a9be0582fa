#include <gtest/gtest.h>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduction.h"
#include "support/tolerance.h"

using namespace sceald;

TEST(Autograd, AccumulatesAcrossUsesAndCalls) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  x.set_requires_grad(true);
  Tensor y = sum(mul(x, x) + x);  // dy/dx = 2x + 1
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 5, 7}));
  sum(x * 2.0).backward();  // gradients accumulate until zero_grad
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 7, 9}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, SkipsInputsThatNeedNoGradient) {
  Tensor a = Tensor::from_vector<double>({1, 2}, {2});
  Tensor b = Tensor::from_vector<double>({3, 4}, {2});
  a.set_requires_grad(true);
  sum(a * b).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_FALSE(b.grad().defined());
  EXPECT_FALSE(b.requires_grad());
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor a = Tensor::ones({2}, DType::Float64);
  a.set_requires_grad(true);
  Tensor y;
  {
    NoGradGuard guard;
    y = a * 3.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE(GradMode::enabled());
}

TEST(Autograd, GraphIsFreedUnlessRetained) {
  Tensor a = Tensor::ones({2}, DType::Float64);
  a.set_requires_grad(true);
  Tensor y = sum(a * a);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{4, 4}));
  try {
    y.backward();
    FAIL() << "a second backward through a freed graph must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, DeepChainNeedsNoRecursion) {
  // 100k nodes: a recursive traversal would overflow the stack.
  Tensor x = Tensor::ones({1}, DType::Float64);
  x.set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y + 1.0;
  y.backward(Tensor::ones({1}, DType::Float64));
  EXPECT_EQ(x.grad().item<double>(), 1.0);
}

TEST(Autograd, DeepChainIsFreedWithoutRecursion) {
  // A million nodes dropped without a backward pass: freeing them one inside
  // the other's destructor would need far more than the 8 MB main stack.
  Tensor x = Tensor::ones({1}, DType::Float64);
  x.set_requires_grad(true);
  {
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y + 1.0;
    EXPECT_EQ(y.item<double>(), 1000001.0);
  }
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, DiamondWithASkippedBranchStillReachesTheLeaf) {
  // x feeds a branch that needs no gradient downstream and one that does.
  Tensor x = Tensor::from_vector<double>({2.0}, {1});
  x.set_requires_grad(true);
  Tensor a = x * 3.0;
  Tensor b = a * 2.0;
  Tensor c = a + b;  // dc/dx = 3 + 6
  c.backward(Tensor::ones({1}, DType::Float64));
  EXPECT_EQ(x.grad().item<double>(), 9.0);
}

TEST(Autograd, BackwardNeedsAGradientForNonScalars) {
  Tensor a = Tensor::ones({2}, DType::Float64);
  a.set_requires_grad(true);
  EXPECT_THROW((a * 2.0).backward(), Error);
  EXPECT_THROW(Tensor::ones({2}).backward(), Error);
}

TEST(Autograd, LeafGradientsNeverShareMemoryWithAnythingElse) {
  // A leaf's first gradient may take over the incoming gradient's memory
  // (no copy) only when nothing else can reach it. Each case below would
  // alias if that rule were wrong: the leaves' gradients must stay
  // independent of each other and of tensors the caller holds.
  Tensor a = Tensor::from_vector<double>({1, 2, 3}, {3}), b = Tensor::from_vector<double>({4, 5, 6}, {3});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  add(a, b).backward(Tensor::ones({3}, DType::Float64));  // one gradient tensor for both inputs
  ASSERT_NE(a.grad().raw_data(), b.grad().raw_data());
  a.grad().fill_(7.0);
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{1, 1, 1}));

  Tensor c = Tensor::from_vector<double>({1, 2}, {2});
  c.set_requires_grad(true);
  Tensor seed = Tensor::from_vector<double>({5, 6}, {2});
  c.backward(seed);  // a leaf as the root: the caller's tensor is the gradient
  seed.fill_(0.0);
  EXPECT_EQ(c.grad().to_vector<double>(), (std::vector<double>{5, 6}));

  Tensor d = Tensor::from_vector<double>({1, 2, 3, 4}, {4});
  d.set_requires_grad(true);
  Tensor e = mul(d, 3.0);
  e.backward(Tensor::ones({4}, DType::Float64));  // a fresh gradient: adopted
  EXPECT_EQ(d.grad().to_vector<double>(), (std::vector<double>{3, 3, 3, 3}));
  EXPECT_EQ(d.grad().storage().use_count(), 1);
}
