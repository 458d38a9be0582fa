#include "engine/data/label_noise.h"

#include <algorithm>

#include "engine/error.h"

namespace sceald::data {

LabelNoiseReport add_label_noise(std::vector<Sample>& samples, double rate, Generator& generator, int num_classes) {
  SCEALD_CHECK(rate >= 0.0 && rate <= 1.0, "add_label_noise: the noise rate must lie in [0, 1], got ", rate);
  SCEALD_CHECK(num_classes >= 2, "add_label_noise: need at least 2 classes to flip between, got ", num_classes);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    SCEALD_CHECK(s.label >= 0 && s.label < num_classes, "add_label_noise: sample ", i, " (", s.id, ") has label ",
                 s.label, ", outside 0..", num_classes - 1);
    SCEALD_CHECK(s.original_label < 0, "add_label_noise: sample ", i, " (", s.id,
                 ") already carries an original label; noise was added before");
  }
  LabelNoiseReport report;
  report.rate = rate;
  report.total = static_cast<std::int64_t>(samples.size());
  const std::uint64_t seed = generator.seed();
  const std::uint64_t start = generator.reserve(4 * static_cast<std::uint64_t>(samples.size()));
  const auto uniform = [&](std::uint64_t word) {
    return uniform53_from_words(Philox4x32::word(seed, start, word), Philox4x32::word(seed, start, word + 1));
  };
  const int others = num_classes - 1;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    Sample& s = samples[i];
    s.original_label = s.label;
    const double flip = uniform(4 * i);
    const double pick = uniform(4 * i + 2);
    if (!(flip < rate)) continue;
    // Uniform over the c - 1 other classes: draw in [0, c-1) and skip the
    // original class.
    int to = std::min(others - 1, static_cast<int>(pick * others));
    if (to >= s.label) ++to;
    s.label = to;
    report.flipped.push_back(static_cast<std::int64_t>(i));
  }
  return report;
}

LabelNoiseReport add_label_noise(Dataset& dataset, double rate, Generator& generator) {
  SCEALD_CHECK(dataset.split == Split::Train, "add_label_noise: noise goes on training labels only; ", dataset.name,
               " split is '", split_name(dataset.split), "'");
  return add_label_noise(dataset.samples, rate, generator, kNumExpressions);
}

}  // namespace sceald::data
