// The learning rate of a training stage, step by step (TrainConfig's
// LrSchedule): the scheduler counts optimiser steps, not epochs, so a
// cosine or a warm-up changes the rate at every batch.
//
//   warm-up   over round(warmup_epochs * steps_per_epoch) steps, linearly
//             from lr / 100 towards lr (engine/optim/schedule.h)
//   constant  lr
//   cosine    from lr down to min_lr at the run's last step (PyTorch's
//             CosineAnnealingLR with T_max = the steps after the warm-up)
//   step      lr * step_gamma^floor(s / (step_epochs * steps_per_epoch)),
//             s counted after the warm-up
//
// The rate of step s (from 0) is a function of s alone, so a resumed run
// sets the scheduler to the steps already taken (epochs done times
// steps_per_epoch) and continues exactly; checkpoints record that count
// (metadata lr_step) and the rate, and resume checks both.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/optim/optimizer.h"
#include "engine/optim/schedule.h"
#include "nets/sceald/train_config.h"

namespace sceald::train {

// A scheduler over `optimizer`, whose current rate must be the base rate
// (construct it before loading a checkpoint). It sets the rate of step 0.
std::unique_ptr<optim::LRScheduler> make_lr_scheduler(const LrSchedule& schedule, optim::Optimizer& optimizer,
                                                      int epochs, std::int64_t steps_per_epoch);

}  // namespace sceald::train
