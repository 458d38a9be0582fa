#include "nets/sceald/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace sceald::train {

std::unique_ptr<optim::LRScheduler> make_lr_scheduler(const LrSchedule& schedule, optim::Optimizer& optimizer,
                                                      int epochs, std::int64_t steps_per_epoch) {
  SCEALD_CHECK(epochs >= 1 && steps_per_epoch >= 1, "learning-rate schedule: ", epochs, " epochs of ",
               steps_per_epoch, " steps");
  const std::int64_t total = static_cast<std::int64_t>(epochs) * steps_per_epoch;
  const std::int64_t warmup =
      std::min(total, static_cast<std::int64_t>(std::llround(schedule.warmup_epochs * double(steps_per_epoch))));
  const optim::LinearWarmup w{warmup, 0.01};
  if (schedule.kind == "cosine")
    return std::make_unique<optim::CosineAnnealingLR>(optimizer, std::max<std::int64_t>(1, total - warmup),
                                                      schedule.min_lr, w);
  if (schedule.kind == "step")
    return std::make_unique<optim::StepLR>(optimizer, schedule.step_epochs * steps_per_epoch, schedule.step_gamma, w);
  SCEALD_CHECK(schedule.kind == "constant", "unknown learning-rate schedule '", schedule.kind,
               "' (expected constant, cosine or step)");
  return std::make_unique<optim::StepLR>(optimizer, total, 1.0, w);
}

}  // namespace sceald::train
