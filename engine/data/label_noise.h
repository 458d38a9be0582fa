// Synthetic label noise (SPEC, Table II): with probability `rate` each
// training label is replaced by one of the other c - 1 classes, chosen
// uniformly, from a seeded Generator. Every sample's original label is kept
// in Sample::original_label and the flipped indices are returned, so that
// later analysis can ask whether the confidence alpha separates clean from
// noisy samples.
//
// Draws: the call reserves 4 words per sample of the generator's stream;
// sample i uses words 4i, 4i+1 for "flip?" and 4i+2, 4i+3 for "to which
// class", whatever the outcome. So sample i's fate depends only on (seed,
// offset, i), and with one seed the samples flipped at a rate r are a subset
// of those flipped at any higher rate.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/rng.h"

namespace sceald::data {

struct LabelNoiseReport {
  double rate = 0;                    // the probability asked for
  std::int64_t total = 0;             // labels seen
  std::vector<std::int64_t> flipped;  // indices of the samples whose label changed, ascending
  double realised_rate() const { return total ? static_cast<double>(flipped.size()) / static_cast<double>(total) : 0.0; }
};

// Flips labels in place. rate in [0, 1]; labels must lie in [0, num_classes).
// Throws when a sample already carries an original_label (noise added twice).
LabelNoiseReport add_label_noise(std::vector<Sample>& samples, double rate, Generator& generator,
                                 int num_classes = kNumExpressions);
// The same on a dataset's samples; only the train split takes noise (the
// SPEC corrupts training labels; evaluation stays clean), others throw.
LabelNoiseReport add_label_noise(Dataset& dataset, double rate, Generator& generator);

// True when noise was added and changed this sample's label.
inline bool label_was_flipped(const Sample& sample) {
  return sample.original_label >= 0 && sample.original_label != sample.label;
}

}  // namespace sceald::data
