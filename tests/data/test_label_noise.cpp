// Synthetic label noise: the realised rate, flips only to other classes,
// uniform over them, reproducible from the seed, nested across rates.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/data/label_noise.h"
#include "tests/data/dataset_fixtures.h"

namespace sceald::data {
namespace {

using testing::throws_with;

std::vector<Sample> samples_with_labels(std::int64_t n) {
  std::vector<Sample> samples(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    samples[i].id = std::to_string(i);
    samples[i].label = static_cast<int>((i * 5 + i / 7) % kNumExpressions);
  }
  return samples;
}

// The flips, read off the samples: every changed label, and never a "flip" to itself.
std::vector<std::int64_t> changed(const std::vector<Sample>& samples) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (samples[i].label != samples[i].original_label) out.push_back(static_cast<std::int64_t>(i));
  return out;
}

TEST(LabelNoise, RealisedRateIsCloseToTheRateAsked) {
  for (double rate : {0.1, 0.2, 0.3}) {
    std::vector<Sample> samples = samples_with_labels(10000);
    const std::vector<Sample> clean = samples;
    Generator generator(1234);
    const LabelNoiseReport report = add_label_noise(samples, rate, generator);
    EXPECT_EQ(report.total, 10000);
    EXPECT_EQ(report.rate, rate);
    // Binomial(10000, rate): 4 standard deviations.
    const double sigma = std::sqrt(rate * (1 - rate) / 10000.0);
    EXPECT_NEAR(report.realised_rate(), rate, 4 * sigma) << "rate " << rate;
    // The report's indices are exactly the changed labels, and the originals are kept.
    EXPECT_EQ(report.flipped, changed(samples));
    for (std::size_t i = 0; i < samples.size(); ++i) {
      EXPECT_EQ(samples[i].original_label, clean[i].label);
      EXPECT_EQ(label_was_flipped(samples[i]), samples[i].label != clean[i].label);
      ASSERT_GE(samples[i].label, 0);
      ASSERT_LT(samples[i].label, kNumExpressions);
    }
  }
}

TEST(LabelNoise, FlipsAreUniformOverTheOtherClasses) {
  // Rate 1: every label flips; 1200 per class, so 200 expected per (from, to) pair.
  std::vector<Sample> samples(7 * 1200);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i].label = static_cast<int>(i % 7);
  Generator generator(99);
  const LabelNoiseReport report = add_label_noise(samples, 1.0, generator);
  ASSERT_EQ(report.flipped.size(), samples.size());
  std::array<std::array<int, 7>, 7> transitions{};
  for (const Sample& s : samples) ++transitions[s.original_label][s.label];
  double chi_square = 0;
  for (int from = 0; from < 7; ++from) {
    EXPECT_EQ(transitions[from][from], 0) << "a label flipped to itself";
    for (int to = 0; to < 7; ++to) {
      if (to == from) continue;
      const double expected = 1200.0 / 6.0;
      chi_square += (transitions[from][to] - expected) * (transitions[from][to] - expected) / expected;
    }
  }
  // 7 x 5 = 35 degrees of freedom: mean 35, P(chi2 > 80) < 1e-4.
  EXPECT_LT(chi_square, 80.0);
  EXPECT_GT(chi_square, 10.0);  // and not suspiciously regular either (P < 1e-4)
}

TEST(LabelNoise, SameSeedSameFlipsAndNestedAcrossRates) {
  auto flips = [](double rate, std::uint64_t seed) {
    std::vector<Sample> samples = samples_with_labels(5000);
    Generator generator(seed);
    add_label_noise(samples, rate, generator);
    return samples;
  };
  const std::vector<Sample> a = flips(0.2, 7), b = flips(0.2, 7), c = flips(0.2, 8);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].label, b[i].label) << i;
  EXPECT_NE(changed(a), changed(c));
  // With one seed, the flips at 10% are among those at 20%, to the same classes.
  const std::vector<Sample> low = flips(0.1, 7);
  const std::vector<std::int64_t> low_flips = changed(low);
  EXPECT_GT(low_flips.size(), 0u);
  for (std::int64_t i : low_flips) EXPECT_EQ(low[i].label, a[i].label) << i;
}

TEST(LabelNoise, RatesZeroAndOneAndTheGeneratorMovesOn) {
  std::vector<Sample> samples = samples_with_labels(100);
  Generator generator(3);
  EXPECT_TRUE(add_label_noise(samples, 0.0, generator).flipped.empty());
  for (const Sample& s : samples) EXPECT_EQ(s.original_label, s.label);
  EXPECT_EQ(generator.offset(), 100u);  // 4 words per sample, one Philox block

  // Two calls on one generator draw different numbers.
  std::vector<Sample> first = samples_with_labels(1000), second = samples_with_labels(1000);
  Generator g(5);
  add_label_noise(first, 0.5, g);
  add_label_noise(second, 0.5, g);
  EXPECT_NE(changed(first), changed(second));
}

TEST(LabelNoise, Errors) {
  std::vector<Sample> samples = samples_with_labels(10);
  Generator generator(1);
  EXPECT_TRUE(throws_with([&] { add_label_noise(samples, 1.5, generator); }, {"rate", "[0, 1]", "1.5"}));
  EXPECT_TRUE(throws_with([&] { add_label_noise(samples, -0.1, generator); }, {"-0.1"}));
  samples[3].label = 7;
  EXPECT_TRUE(throws_with([&] { add_label_noise(samples, 0.1, generator); }, {"sample 3", "label 7"}));
  samples[3].label = 1;
  add_label_noise(samples, 0.1, generator);
  EXPECT_TRUE(throws_with([&] { add_label_noise(samples, 0.1, generator); }, {"noise was added before"}));
  Dataset valid;
  valid.name = "ferplus";
  valid.split = Split::Valid;
  valid.samples = samples_with_labels(10);
  EXPECT_TRUE(throws_with([&] { add_label_noise(valid, 0.1, generator); }, {"training labels only", "'valid'"}));
  Dataset train = valid;
  train.split = Split::Train;
  EXPECT_EQ(add_label_noise(train, 1.0, generator).flipped.size(), 10u);
}

}  // namespace
}  // namespace sceald::data
