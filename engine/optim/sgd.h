// Stochastic gradient descent with momentum, after torch.optim.SGD (1.13):
//   d = g + weight_decay * p
//   b = d on the first step, else momentum * b + (1 - dampening) * d
//   d = d + momentum * b (nesterov) or d = b
//   p = p - lr * d
#pragma once

#include "engine/optim/optimizer.h"

namespace sceald::optim {

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0.0, double dampening = 0.0,
      double weight_decay = 0.0, bool nesterov = false);
  void step() override;

  double momentum, dampening, weight_decay;
  bool nesterov;

 protected:
  std::vector<std::string> slot_names() const override { return {"momentum_buffer"}; }
};

}  // namespace sceald::optim
