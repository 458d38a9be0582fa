// Learning-rate schedules, after torch.optim.lr_scheduler's closed forms,
// with an optional linear warm-up in front.
//
// A schedule counts epochs (or iterations: whatever the caller steps it by)
// from 0. It reads the optimiser's learning rate once, at construction, as
// base_lr, and sets the optimiser's rate to lr_at(epoch) at construction and
// after every step(), like PyTorch's schedulers. With a warm-up of W epochs,
// epochs 0..W-1 rise linearly from start_factor * base_lr towards base_lr,
// and epoch e >= W follows the schedule at e - W.
#pragma once

#include <cstdint>

#include "engine/optim/optimizer.h"

namespace sceald::optim {

struct LinearWarmup {
  std::int64_t epochs = 0;    // 0: no warm-up
  double start_factor = 0.1;  // the fraction of base_lr at epoch 0
};

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  double lr_at(std::int64_t epoch) const;  // warm-up included
  void step();                              // next epoch; sets the optimiser's rate
  void set_epoch(std::int64_t epoch);       // jump (resume); sets the optimiser's rate
  std::int64_t epoch() const { return epoch_; }
  double base_lr() const { return base_lr_; }

 protected:
  LRScheduler(Optimizer& optimizer, LinearWarmup warmup);
  virtual double schedule_lr(std::int64_t epoch) const = 0;  // the schedule itself, no warm-up

 private:
  Optimizer& optimizer_;
  LinearWarmup warmup_;
  double base_lr_;
  std::int64_t epoch_ = 0;
};

// base_lr * gamma^floor(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1, LinearWarmup warmup = {});

 protected:
  double schedule_lr(std::int64_t epoch) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

// eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2: from base_lr at
// 0 down to eta_min at T_max (and, past it, back up along the cosine, as PyTorch's closed form does).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0, LinearWarmup warmup = {});

 protected:
  double schedule_lr(std::int64_t epoch) const override;

 private:
  std::int64_t T_max_;
  double eta_min_;
};

}  // namespace sceald::optim
