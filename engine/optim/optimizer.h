// Optimizer: the base of SGD, Adam and AdamW, after torch.optim.Optimizer
// with a single parameter group.
//
// It holds handles to the parameters (the tensors themselves, so Module::to
// and load_state_dict stay visible), a learning rate that schedules change
// between steps, and per-parameter state slots created on a parameter's first
// step (momentum_buffer; step, exp_avg, exp_avg_sq). step() updates every
// parameter that has a gradient, in place and without autograd history;
// parameters without a gradient are skipped, as in PyTorch. Updates are
// plain loops over contiguous float32 or float64 CPU tensors.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sceald::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr, std::string name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  void zero_grad();  // drops every parameter's gradient

  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }
  const std::string& name() const { return name_; }

  // Everything a resumed run needs: "lr" (float64 scalar) and "<i>.<slot>"
  // for parameter i's state (e.g. "3.exp_avg"). The tensors are copies.
  NamedTensors state_dict() const;
  // Restores a state_dict() of an optimiser of the same kind over parameters
  // of the same shapes. Unknown keys, indices beyond the parameter list and
  // shape mismatches are reported together in one error, and nothing is
  // changed then. Slots are converted to each parameter's dtype and device.
  void load_state_dict(const std::map<std::string, Tensor>& state);
  void load_state_dict(const NamedTensors& state);

 protected:
  // The slots this optimiser keeps per parameter, for validation; "step" is
  // an int64 scalar, every other slot has the parameter's shape.
  virtual std::vector<std::string> slot_names() const = 0;
  // Parameter i's state (empty until its first step).
  std::map<std::string, Tensor>& state(std::size_t i) { return state_[i]; }
  // Parameter i's gradient, checked (CPU, floating, the parameter's dtype and
  // shape, both contiguous), or an undefined tensor when it has none.
  Tensor checked_grad(std::size_t i);

 private:
  std::vector<Tensor> params_;
  double lr_;
  std::string name_;
  std::vector<std::map<std::string, Tensor>> state_;
};

}  // namespace sceald::optim
