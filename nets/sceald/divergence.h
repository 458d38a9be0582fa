// A run whose loss or features turn NaN or infinite has diverged: every step
// after it only spreads the NaNs through the weights (and Adam's moments),
// and the checkpoint saved at the end of the epoch would carry them. So the
// stages stop at the first sign, before the epoch's checkpoint is written,
// and say what to change.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/tensor.h"

namespace sceald::train {

// Where a stage is, for the message.
struct TrainingPoint {
  std::string_view stage;  // "ae", "task"
  int epoch = 0;
  std::int64_t seen = 0;       // images of this epoch, the current batch included
  std::string_view lr_option;  // "--lr", "--ae-lr"
  double lr = 0;
};

// Throw sceald::Error naming the point, the bad value and the learning rate
// to lower, unless the loss (every element of the CPU tensor `features`) is
// finite.
void check_loss_finite(double loss, const TrainingPoint& point);
void check_features_finite(const Tensor& features, const TrainingPoint& point);

}  // namespace sceald::train
