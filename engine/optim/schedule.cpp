#include "engine/optim/schedule.h"

#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace sceald::optim {

LRScheduler::LRScheduler(Optimizer& optimizer, LinearWarmup warmup)
    : optimizer_(optimizer), warmup_(warmup), base_lr_(optimizer.lr()) {
  SCEALD_CHECK(warmup.epochs >= 0, "LRScheduler: negative warm-up length ", warmup.epochs);
  SCEALD_CHECK(warmup.start_factor > 0.0 && warmup.start_factor <= 1.0,
               "LRScheduler: the warm-up start factor must be in (0, 1], got ", warmup.start_factor);
}

double LRScheduler::lr_at(std::int64_t epoch) const {
  SCEALD_CHECK(epoch >= 0, "LRScheduler: negative epoch ", epoch);
  if (epoch < warmup_.epochs) {
    const double progress = static_cast<double>(epoch) / static_cast<double>(warmup_.epochs);
    return base_lr_ * (warmup_.start_factor + (1.0 - warmup_.start_factor) * progress);
  }
  return schedule_lr(epoch - warmup_.epochs);
}

void LRScheduler::step() { set_epoch(epoch_ + 1); }

void LRScheduler::set_epoch(std::int64_t epoch) {
  const double lr = lr_at(epoch);
  epoch_ = epoch;
  optimizer_.set_lr(lr);
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma, LinearWarmup warmup)
    : LRScheduler(optimizer, warmup), step_size_(step_size), gamma_(gamma) {
  SCEALD_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  SCEALD_CHECK(gamma >= 0.0, "StepLR: gamma must be non-negative, got ", gamma);
  set_epoch(0);  // here, not in the base: the schedule is only complete now
}

double StepLR::schedule_lr(std::int64_t epoch) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min, LinearWarmup warmup)
    : LRScheduler(optimizer, warmup), T_max_(T_max), eta_min_(eta_min) {
  SCEALD_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  SCEALD_CHECK(eta_min >= 0.0, "CosineAnnealingLR: eta_min must be non-negative, got ", eta_min);
  set_epoch(0);
}

double CosineAnnealingLR::schedule_lr(std::int64_t epoch) const {
  const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(T_max_);
  return eta_min_ + (base_lr() - eta_min_) * (1.0 + std::cos(phase)) / 2.0;
}

}  // namespace sceald::optim
