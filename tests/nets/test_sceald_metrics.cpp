// Run metrics (nets/sceald/metrics.h): accuracy, per-class and mean class
// accuracy and the confusion matrix on a small example counted by hand; KL
// divergences by hand; AUROC on known cases and against a brute-force count
// over all positive-negative pairs.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/error.h"
#include "engine/rng.h"
#include "nets/sceald/metrics.h"
#include "support/tolerance.h"

namespace sceald {
namespace {

using namespace method;

template <typename F>
bool throws_error(F&& f) {
  try {
    f();
  } catch (const Error&) {
    return true;
  }
  return false;
}

TEST(SceAldMetrics, ConfusionMatrixAndPerClassAccuracy) {
  // 4 classes, class 3 never occurs in the truth.
  const std::vector<std::int64_t> truth = {0, 0, 1, 1, 1, 2, 2, 2, 2};
  const std::vector<std::int64_t> pred = {0, 1, 1, 1, 0, 2, 2, 0, 3};
  const ClassificationMetrics m = classification_metrics(truth, pred, 4);
  EXPECT_EQ(m.total, 9);
  EXPECT_EQ(m.correct, 5);
  EXPECT_DOUBLE_EQ(m.accuracy, 5.0 / 9.0);
  const std::vector<std::int64_t> expected_confusion = {1, 1, 0, 0,   // true 0
                                                        1, 2, 0, 0,   // true 1
                                                        1, 0, 2, 1,   // true 2
                                                        0, 0, 0, 0};  // true 3
  EXPECT_EQ(m.confusion, expected_confusion);
  EXPECT_EQ(m.count(2, 3), 1);
  EXPECT_EQ(m.class_count, (std::vector<std::int64_t>{2, 3, 4, 0}));
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[0], 0.5);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[2], 0.5);
  EXPECT_TRUE(std::isnan(m.per_class_accuracy[3]));  // no sample: left out of the mean
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy, (0.5 + 2.0 / 3.0 + 0.5) / 3.0);
}

TEST(SceAldMetrics, AccumulatesLogitsOverBatches) {
  ConfusionMatrix cm(3);
  EXPECT_TRUE(throws_error([&] { cm.metrics(); }));
  // Ties go to the first maximum: row 1 predicts class 0.
  cm.add(Tensor::from_vector(std::vector<float>{0.1f, 2.0f, 0.3f, 1.0f, 1.0f, 0.0f}, {2, 3}),
         Tensor::from_vector(std::vector<std::int64_t>{1, 1}, {2}));
  cm.add(Tensor::from_vector(std::vector<double>{-1.0, -2.0, -0.5}, {1, 3}),
         Tensor::from_vector(std::vector<std::int64_t>{2}, {1}));
  const ClassificationMetrics m = cm.metrics();
  EXPECT_EQ(m.total, 3);
  EXPECT_EQ(m.correct, 2);
  EXPECT_EQ(m.count(1, 0), 1);
  EXPECT_EQ(argmax_rows(Tensor::from_vector(std::vector<double>{3, 3, 3}, {1, 3})), std::vector<std::int64_t>{0});
  EXPECT_TRUE(throws_error([&] {
    cm.add(std::vector<std::int64_t>{0, 3}, std::vector<std::int64_t>{0, 0});
  }));
  EXPECT_TRUE(throws_error([&] {
    cm.add(Tensor::from_vector(std::vector<double>{1, 2}, {1, 2}), Tensor::from_vector(std::vector<std::int64_t>{0}, {1}));
  }));
}

TEST(SceAldMetrics, KlDivergenceByHand) {
  // KL((1/2, 1/2, 0) || (1/4, 1/4, 1/2)) = ln 2; 0 log 0 = 0.
  EXPECT_NEAR(kl_divergence(std::vector<double>{0.5, 0.5, 0.0}, std::vector<double>{0.25, 0.25, 0.5}), std::log(2.0),
              1e-15);
  EXPECT_EQ(kl_divergence(std::vector<double>{0.2, 0.8}, std::vector<double>{0.2, 0.8}), 0.0);
  // q = 0 where p > 0: clamped at kKlEps, large but finite.
  EXPECT_NEAR(kl_divergence(std::vector<double>{1.0, 0.0}, std::vector<double>{0.0, 1.0}), -std::log(kKlEps), 1e-9);
  // Votes as counts, renormalised per row; logits (0, 0, ln 2) give softmax (1/4, 1/4, 1/2).
  const Tensor votes = Tensor::from_vector(std::vector<double>{2, 2, 0, 0, 0, 10}, {2, 3});
  const Tensor logits = Tensor::from_vector(std::vector<double>{0, 0, std::log(2.0), 5, 5, 5 + std::log(2.0)}, {2, 3});
  EXPECT_NEAR(mean_kl_votes_to_logits(votes, logits), std::log(2.0), 1e-14);
  EXPECT_NEAR(mean_kl_votes_to_logits(votes.to(DType::Float32), logits.to(DType::Float32)), std::log(2.0), 1e-6);
  // Huge logits stay finite (log-softmax, no exp overflow).
  const Tensor big = Tensor::from_vector(std::vector<double>{1000, 0, 0}, {1, 3});
  EXPECT_NEAR(mean_kl_votes_to_logits(Tensor::from_vector(std::vector<double>{1, 0, 0}, {1, 3}), big), 0.0, 1e-12);
  EXPECT_TRUE(throws_error([&] {
    mean_kl_votes_to_logits(Tensor::from_vector(std::vector<double>{0, 0, 0}, {1, 3}), big);
  }));
}

TEST(SceAldMetrics, AurocKnownCases) {
  const std::vector<bool> pos = {false, false, true, true};
  EXPECT_EQ(auroc(std::vector<double>{0.1, 0.2, 0.3, 0.4}, pos), 1.0);  // perfect
  EXPECT_EQ(auroc(std::vector<double>{0.4, 0.3, 0.2, 0.1}, pos), 0.0);  // reversed
  EXPECT_EQ(auroc(std::vector<double>{0.5, 0.5, 0.5, 0.5}, pos), 0.5);  // all tied
  EXPECT_EQ(auroc(std::vector<double>{0.1, 0.4, 0.35, 0.8}, pos), 0.75);
  // A tie between a positive and a negative counts one half: (0.5 + 1) / 2.
  EXPECT_EQ(auroc(std::vector<double>{0.5, 0.5, 0.9}, std::vector<bool>{true, false, true}), 0.75);
  EXPECT_TRUE(throws_error([] { auroc(std::vector<double>{1, 2}, std::vector<bool>{true, true}); }));
  EXPECT_TRUE(throws_error([] { auroc(std::vector<double>{1, NAN}, std::vector<bool>{true, false}); }));
}

TEST(SceAldMetrics, AurocEqualsThePairCountWithTies) {
  Generator gen(9);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 5 + trial * 3;
    std::vector<double> scores(n);
    std::vector<bool> pos(n);
    for (int i = 0; i < n; ++i) {
      scores[i] = std::floor(gen.next_uniform() * 5);  // many ties
      pos[i] = gen.next_uniform() < 0.4;
    }
    pos[0] = true;
    pos[1] = false;
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (pos[i] && !pos[j]) {
          wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
          pairs += 1;
        }
    EXPECT_NEAR(auroc(scores, pos), wins / pairs, 1e-14);
  }
}

TEST(SceAldMetrics, ConfidenceAurocTreatsCleanSamplesAsPositives) {
  // Samples 1 and 3 were flipped and have the lowest confidences.
  const Tensor alpha = Tensor::from_vector(std::vector<double>{50, 2, 40, 1, 45}, {5});
  EXPECT_EQ(confidence_auroc(alpha, {1, 3}), 1.0);
  EXPECT_EQ(confidence_auroc(alpha, {0, 4}), 0.0);  // the two highest were flipped
  EXPECT_EQ(confidence_auroc(alpha, {0, 3}), 0.5);  // alpha 50 vs the clean {2, 40, 45}, alpha 1 below all
  EXPECT_TRUE(throws_error([&] { confidence_auroc(alpha, {7}); }));
}

}  // namespace
}  // namespace sceald
