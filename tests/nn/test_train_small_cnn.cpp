// End to end: a small CNN learns a seeded synthetic 4-class problem (a bright
// bar, horizontal, vertical, diagonal or anti-diagonal, at a random place in
// a noisy 12x12 image) with Adam, to a low loss and near-perfect accuracy on
// held-out images. Everything (data, initialisation, shuffling) is seeded,
// so the run is the same every time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <iostream>

#include "engine/autograd/grad_mode.h"
#include "engine/nn/layers.h"
#include "engine/ops/loss.h"
#include "engine/optim/adam.h"

namespace sceald::nn {
namespace {

constexpr std::int64_t kSide = 12, kBar = 7, kClasses = 4;

struct Dataset {
  Tensor images;  // [N, 1, 12, 12] float32
  Tensor labels;  // [N] int64
};

Dataset make_bars(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor noise = gen.normal({n, 1, kSide, kSide}, 0.0, 0.3);
  float* px = noise.data<float>();
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t k = static_cast<std::int64_t>(gen.next_below(kClasses));
    labels[static_cast<std::size_t>(i)] = k;
    // Any place where the whole bar fits.
    const auto r0 = static_cast<std::int64_t>(gen.next_below(kSide - kBar + 1));
    const auto c0 = static_cast<std::int64_t>(gen.next_below(kSide - kBar + 1));
    const auto line = static_cast<std::int64_t>(gen.next_below(kSide));
    for (std::int64_t t = 0; t < kBar; ++t) {
      std::int64_t r = 0, c = 0;
      switch (k) {
        case 0: r = line; c = c0 + t; break;               // horizontal
        case 1: r = r0 + t; c = line; break;               // vertical
        case 2: r = r0 + t; c = c0 + t; break;             // diagonal
        default: r = r0 + t; c = c0 + kBar - 1 - t; break;  // anti-diagonal
      }
      px[i * kSide * kSide + r * kSide + c] += 1.0f;
    }
  }
  return {noise, Tensor::from_vector(labels, {n})};
}

// Rows `order[begin, begin + count)` of the dataset as one batch.
Dataset gather(const Dataset& d, const std::vector<std::int64_t>& order, std::size_t begin, std::size_t count) {
  const std::int64_t pixels = kSide * kSide;
  Tensor images = Tensor::empty({static_cast<std::int64_t>(count), 1, kSide, kSide});
  std::vector<std::int64_t> labels(count);
  const float* src = d.images.data<float>();
  const std::int64_t* lab = d.labels.data<std::int64_t>();
  for (std::size_t j = 0; j < count; ++j) {
    const std::int64_t i = order[begin + j];
    std::memcpy(images.data<float>() + j * pixels, src + i * pixels, pixels * sizeof(float));
    labels[j] = lab[i];
  }
  return {images, Tensor::from_vector(labels, {static_cast<std::int64_t>(count)})};
}

double accuracy(Module& net, const Dataset& d) {
  NoGradGuard no_grad;
  const std::vector<float> logits = net(d.images).to_vector<float>();
  const std::vector<std::int64_t> labels = d.labels.to_vector<std::int64_t>();
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::int64_t best = 0;
    for (std::int64_t k = 1; k < kClasses; ++k)
      if (logits[i * kClasses + k] > logits[i * kClasses + best]) best = k;
    correct += best == labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

TEST(TrainSmallCnn, LearnsBarOrientations) {
  const auto start = std::chrono::steady_clock::now();
  const Dataset train = make_bars(512, 101), test = make_bars(256, 202);

  Generator init_gen(7);
  Sequential net;
  net.emplace_back<Conv2d>(1, 8, 3, 1, 1, 1, true, init_gen);
  net.emplace_back<ReLU>();
  net.emplace_back<MaxPool2d>(2);
  net.emplace_back<Conv2d>(8, 16, 3, 1, 1, 1, true, init_gen);
  net.emplace_back<ReLU>();
  net.emplace_back<AdaptiveAvgPool2d>(1);
  net.emplace_back<Flatten>();
  net.emplace_back<Linear>(16, kClasses, true, init_gen);
  optim::Adam opt(net.parameters(), 2e-2);

  constexpr int kSteps = 400;
  constexpr std::size_t kBatch = 32;
  Generator shuffle(303);
  std::vector<std::int64_t> order;
  std::size_t cursor = 512;
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    if (cursor + kBatch > order.size()) {  // a new epoch
      order = shuffle.permutation(512);
      cursor = 0;
    }
    const Dataset batch = gather(train, order, cursor, kBatch);
    cursor += kBatch;
    opt.zero_grad();
    Tensor loss = cross_entropy(net(batch.images), batch.labels);
    loss.backward();
    opt.step();
    losses.push_back(loss.item<float>());
  }

  // The loss curve: mean over each window of 25 steps.
  std::cout << "[ loss    ] mean cross-entropy per 25 steps:";
  std::vector<double> window_means;
  for (int w = 0; w < kSteps / 25; ++w) {
    double s = 0;
    for (int i = 0; i < 25; ++i) s += losses[w * 25 + i];
    window_means.push_back(s / 25);
    std::cout << " " << window_means.back();
  }
  const double train_loss = [&] {
    NoGradGuard no_grad;
    return static_cast<double>(cross_entropy(net(train.images), train.labels).item<float>());
  }();
  const double test_loss = [&] {
    NoGradGuard no_grad;
    return static_cast<double>(cross_entropy(net(test.images), test.labels).item<float>());
  }();
  const double train_acc = accuracy(net, train), test_acc = accuracy(net, test);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\n[ loss    ] full train set " << train_loss << " (accuracy " << train_acc << "), held-out "
            << test_loss << " (accuracy " << test_acc << "), " << seconds << " s\n";

  // Seed 7 reaches about 0.008 / 0.018 (train / held-out) with accuracy 1.0 /
  // 0.996; initialisation seeds 1-6 stayed under 0.05 / 0.05 and above 98%.
  // The bounds leave room for other rounding (another GEMM path) without
  // letting a model that has not learnt the task pass.
  EXPECT_GT(window_means.front(), 1.2) << "an untrained 4-way classifier starts near ln 4 = 1.386";
  EXPECT_LT(train_loss, 0.06);
  EXPECT_LT(test_loss, 0.1);
  EXPECT_GE(train_acc, 0.98);
  EXPECT_GE(test_acc, 0.98);
  EXPECT_LT(seconds, 20.0);
}

}  // namespace
}  // namespace sceald::nn
