// Adam and AdamW, after torch.optim.Adam and torch.optim.AdamW (1.13,
// single-tensor path, amsgrad off). Per parameter, at step t = 1, 2, ...:
//   Adam:  g = g + weight_decay * p             (L2 penalty folded into g)
//   AdamW: p = p * (1 - lr * weight_decay)      (decoupled decay, first)
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State slots: step (int64 scalar), exp_avg (m), exp_avg_sq (v).
#pragma once

#include <utility>

#include "engine/optim/optimizer.h"

namespace sceald::optim {

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, std::pair<double, double> betas = {0.9, 0.999},
       double eps = 1e-8, double weight_decay = 0.0);
  void step() override;

  std::pair<double, double> betas;
  double eps, weight_decay;

 protected:
  Adam(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps, double weight_decay,
       bool decoupled, const char* name);
  std::vector<std::string> slot_names() const override { return {"step", "exp_avg", "exp_avg_sq"}; }

 private:
  bool decoupled_;  // AdamW's weight decay
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, double lr = 1e-3, std::pair<double, double> betas = {0.9, 0.999},
        double eps = 1e-8, double weight_decay = 1e-2);
};

}  // namespace sceald::optim
