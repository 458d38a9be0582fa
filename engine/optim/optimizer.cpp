#include "engine/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"

namespace sceald::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr, std::string name)
    : params_(std::move(params)), lr_(0.0), name_(std::move(name)), state_(params_.size()) {
  set_lr(lr);
  std::set<const TensorImpl*> seen;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    SCEALD_CHECK(p.defined(), name_, ": parameter ", i, " is an undefined tensor");
    SCEALD_CHECK(is_floating(p.dtype()), name_, ": parameter ", i, " must be float32 or float64, got ", p.str());
    SCEALD_CHECK(p.is_leaf(), name_, ": parameter ", i, " ", p.str(), " is not a leaf tensor");
    SCEALD_CHECK(seen.insert(p.impl()).second, name_, ": parameter ", i, " appears more than once in the list");
  }
}

void Optimizer::set_lr(double lr) {
  SCEALD_CHECK(std::isfinite(lr) && lr >= 0.0, name_, ": invalid learning rate ", lr);
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

Tensor Optimizer::checked_grad(std::size_t i) {
  Tensor& p = params_[i];
  Tensor& g = p.grad();
  if (!g.defined()) return Tensor();
  SCEALD_CHECK(p.device().is_cpu() && g.device().is_cpu(), name_, ": parameter ", i, " ", p.str(),
               " is not on the CPU; the CUDA optimiser step does not exist yet");
  SCEALD_CHECK(g.dtype() == p.dtype() && g.shape() == p.shape(), name_, ": parameter ", i, " ", p.str(),
               " has a gradient ", g.str(), " of another dtype or shape");
  SCEALD_CHECK(p.is_contiguous(), name_, ": parameter ", i, " ", p.str(), " is not contiguous");
  if (!g.is_contiguous()) g = g.contiguous();
  return g;
}

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  out.emplace_back("lr", Tensor::scalar(lr_, DType::Float64));
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < state_.size(); ++i)
    for (const auto& [slot, t] : state_[i]) out.emplace_back(std::to_string(i) + "." + slot, t.detach().clone());
  return out;
}

namespace {

// "12.exp_avg" -> (12, "exp_avg"); false when the key has another form.
bool split_key(const std::string& key, std::size_t& index, std::string& slot) {
  const std::size_t dot = key.find('.');
  if (dot == 0 || dot == std::string::npos || dot + 1 == key.size()) return false;
  if (key.find_first_not_of("0123456789") != dot || dot > 9) return false;
  index = static_cast<std::size_t>(std::stoul(key.substr(0, dot)));
  slot = key.substr(dot + 1);
  return true;
}

}  // namespace

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  const std::vector<std::string> slots = slot_names();
  std::vector<std::string> problems;
  for (const auto& [key, t] : state) {
    if (key == "lr") {
      if (!t.defined() || t.numel() != 1) problems.push_back("lr: expected a scalar");
      continue;
    }
    std::size_t index = 0;
    std::string slot;
    if (!split_key(key, index, slot)) {
      problems.push_back(key + ": not a key of an optimiser state (expected lr or <index>.<slot>)");
    } else if (index >= params_.size()) {
      problems.push_back(key + ": parameter " + std::to_string(index) + " does not exist (" +
                         std::to_string(params_.size()) + " parameters)");
    } else if (std::find(slots.begin(), slots.end(), slot) == slots.end()) {
      problems.push_back(key + ": " + name_ + " keeps no slot '" + slot + "'");
    } else if (!t.defined()) {
      problems.push_back(key + ": undefined tensor");
    } else {
      const Shape expected = slot == "step" ? Shape{} : params_[index].shape();
      if (t.shape() != expected)
        problems.push_back(key + ": checkpoint " + shape_str(t.shape()) + " vs expected " + shape_str(expected));
    }
  }
  // A parameter's slots come as a set: all of them or none (not yet stepped).
  std::map<std::size_t, std::size_t> slots_per_param;
  for (const auto& [key, _] : state) {
    std::size_t index = 0;
    std::string slot;
    if (split_key(key, index, slot)) ++slots_per_param[index];
  }
  for (const auto& [index, count] : slots_per_param)
    if (count != slots.size())
      problems.push_back("parameter " + std::to_string(index) + ": " + std::to_string(count) + " of the " +
                         std::to_string(slots.size()) + " state slots present");
  if (!problems.empty()) {
    std::ostringstream msg;
    msg << name_ << "::load_state_dict: the state does not fit this optimiser (" << problems.size() << " problems):";
    for (const std::string& p : problems) msg << "\n  " << p;
    throw Error(msg.str());
  }

  NoGradGuard no_grad;
  std::vector<std::map<std::string, Tensor>> restored(params_.size());
  for (const auto& [key, t] : state) {
    if (key == "lr") continue;
    std::size_t index = 0;
    std::string slot;
    split_key(key, index, slot);
    const Tensor& p = params_[index];
    Tensor host = t.device().is_cpu() ? t.detach() : t.detach().to(Device::cpu());
    Tensor value = slot == "step" ? host.to(DType::Int64).clone() : host.to(p.dtype()).clone();
    if (slot != "step" && !p.device().is_cpu()) value = value.to(p.device());
    restored[index][slot] = value;
  }
  state_ = std::move(restored);
  if (auto it = state.find("lr"); it != state.end()) set_lr(it->second.to(Device::cpu()).to_vector<double>()[0]);
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  std::map<std::string, Tensor> by_key;
  for (const auto& [key, t] : state)
    SCEALD_CHECK(by_key.emplace(key, t).second, name_, "::load_state_dict: the state holds '", key, "' twice");
  load_state_dict(by_key);
}

}  // namespace sceald::optim
