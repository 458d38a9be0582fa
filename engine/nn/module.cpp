#include "engine/nn/module.h"

#include <set>
#include <sstream>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"

namespace sceald::nn {

Tensor Module::forward(const Tensor&) {
  throw Error(str_cat(type_name(), " has no single-input forward(); call its own methods instead"));
}

// ---- registration

void Module::check_new_name(const std::string& name) const {
  SCEALD_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(), ": the name '", name,
               "' is not valid for a parameter, buffer or child (it must be non-empty and contain no '.')");
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  SCEALD_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), type_name(), ": the name '", name,
               "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  SCEALD_CHECK(t.defined() && t.is_leaf(), type_name(), ": parameter '", name, "' must be a defined leaf tensor");
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  SCEALD_CHECK(t.defined(), type_name(), ": buffer '", name, "' must be a defined tensor");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name);
  SCEALD_CHECK(child != nullptr, type_name(), ": child '", name, "' is null");
  SCEALD_CHECK(child.get() != this, type_name(), ": a module cannot be its own child");
  children_.emplace_back(name, std::move(child));
}

// ---- walking the tree

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors all, unique;
  collect("", true, false, all);
  // A tensor shared by two modules is one parameter (PyTorch lists it once, under its first name).
  std::set<const TensorImpl*> seen;
  for (auto& entry : all)
    if (seen.insert(entry.second.impl()).second) unique.push_back(std::move(entry));
  return unique;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

std::int64_t Module::parameter_count() const {
  std::int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor t : parameters()) t.zero_grad();
}

// ---- checkpoints

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, out);  // per module: parameters, buffers, then the children (PyTorch's order)
  for (auto& entry : out) entry.second = entry.second.detach();
  return out;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

// `src` converted to dst's dtype and made copyable into dst (copy_ between
// devices needs equal dtypes and contiguous tensors).
Tensor prepared_source(const Tensor& src, const Tensor& dst) {
  Tensor s = src.detach();
  if (s.dtype() != dst.dtype()) s = (s.device().is_cpu() ? s : s.to(Device::cpu())).to(dst.dtype());
  if (s.device() != dst.device()) s = s.contiguous();
  return s;
}

}  // namespace

LoadResult Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NamedTensors own = state_dict();
  LoadResult result;
  std::vector<std::string> mismatches;
  std::set<std::string> own_names;
  for (const auto& [name, target] : own) {
    own_names.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      result.missing_keys.push_back(name);
      continue;
    }
    const Tensor& src = it->second;
    if (!src.defined())
      mismatches.push_back(name + ": the checkpoint's tensor is undefined");
    else if (src.shape() != target.shape())
      mismatches.push_back(name + ": checkpoint " + shape_str(src.shape()) + " vs model " +
                           shape_str(target.shape()));
  }
  for (const auto& [name, _] : state)
    if (!own_names.count(name)) result.unexpected_keys.push_back(name);

  const bool key_errors = strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty());
  if (key_errors || !mismatches.empty()) {
    std::ostringstream msg;
    msg << "load_state_dict into " << type_name() << ": the checkpoint does not match the model";
    if (strict && !result.missing_keys.empty())
      msg << "\n  missing keys (" << result.missing_keys.size() << "): " << join(result.missing_keys);
    if (strict && !result.unexpected_keys.empty())
      msg << "\n  unexpected keys (" << result.unexpected_keys.size() << "): " << join(result.unexpected_keys);
    if (!mismatches.empty()) msg << "\n  shape mismatches (" << mismatches.size() << "): " << join(mismatches);
    throw Error(msg.str());
  }

  NoGradGuard no_grad;
  for (auto& [name, target] : own) {
    auto it = state.find(name);
    if (it != state.end()) target.copy_(prepared_source(it->second, target));
  }
  return result;
}

LoadResult Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, Tensor> by_name;
  for (const auto& [name, t] : state)
    SCEALD_CHECK(by_name.emplace(name, t).second, "load_state_dict into ", type_name(), ": the checkpoint holds '",
                 name, "' twice");
  return load_state_dict(by_name, strict);
}

// ---- placement

namespace {

// Points `t`'s handle (shared by everyone holding it) at `moved`'s data.
void adopt_data(Tensor& t, const Tensor& moved) {
  if (moved.same(t)) return;
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->shape = moved.shape();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
  impl->dtype = moved.dtype();
}

}  // namespace

template <typename F>
void Module::for_each_tensor(F&& f) {
  for (auto& [_, t] : params_) f(t);
  for (auto& [_, t] : buffers_) f(t);
  for (auto& [_, child] : children_) child->for_each_tensor(f);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  std::set<const TensorImpl*> done;  // a shared tensor moves once
  for_each_tensor([&](Tensor& t) {
    if (!done.insert(t.impl()).second) return;
    adopt_data(t, t.detach().to(device));
    if (t.grad().defined()) t.grad() = t.grad().detach().to(device);
  });
}

void Module::to(DType dtype) {
  SCEALD_CHECK(is_floating(dtype), type_name(), ".to(", dtype_name(dtype),
               "): parameters and buffers can only be converted to a floating dtype");
  NoGradGuard no_grad;
  std::set<const TensorImpl*> done;
  for_each_tensor([&](Tensor& t) {
    if (!is_floating(t.dtype()) || !done.insert(t.impl()).second) return;
    adopt_data(t, t.detach().to(dtype));
    if (t.grad().defined()) t.grad() = t.grad().detach().to(dtype);
  });
}

}  // namespace sceald::nn
