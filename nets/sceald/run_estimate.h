// How long a `sceald train` run will take, measured rather than guessed:
// a few training steps of the Auto-Encoder and of the task network as they
// are configured (nets/benchmark.h), scaled to the run's images and epochs.
// A run whose estimate is hours says so at its start, with the preset that
// fits the usual budget, instead of leaving a progress line as the only
// warning (the SPEC's Module A at width 1 and h = 4096 trains at about 22
// images/s on 2 cores: 20 minutes per FERPlus epoch).
#pragma once

#include <cstdint>
#include <string>

#include "nets/sceald/train_config.h"

namespace sceald::train {

struct RunEstimate {
  double ae_images_per_s = 0;    // training steps, measured
  double task_images_per_s = 0;
  double ae_seconds = 0;         // the stage's epochs over the training images
  double task_seconds = 0;       // training steps only (evaluation and feature passes come on top)
  double total_seconds() const { return ae_seconds + task_seconds; }
};

// Times 3 training steps of each network (after 2 untimed) at the run's batch size.
RunEstimate estimate_run(const TrainConfig& config, std::int64_t train_images, std::int64_t in_channels);

// One or two lines for the start of a run: the estimate, and where it exceeds
// `warn_hours` a warning that names the options that dominate and the preset
// that fits (or, for a run of a preset, that the preset is meant to fit).
std::string describe_estimate(const RunEstimate& estimate, const TrainConfig& config, double warn_hours = 3.0);

}  // namespace sceald::train
