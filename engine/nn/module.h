// Module: the base of every layer and network, after torch.nn.Module.
//
// A module owns named parameters (leaf tensors that require a gradient),
// named buffers (state that is saved but not trained: running_mean,
// running_var, num_batches_tracked) and named children. Registration order is
// kept, so names and orders match PyTorch's for the same structure:
// named_parameters() walks the tree depth-first (a module's own parameters,
// then each child's under "<child>."), giving "features.0.weight"; state_dict()
// lists, module by module in that walk, the parameters then the buffers.
//
// The registered tensors are handles shared with the layer's own members
// (Conv2d::weight and the registry see one tensor), so everything that changes
// them in place (load_state_dict, to(), optimisers) is seen by both.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sceald::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What load_state_dict(strict = false) could not match (PyTorch's _IncompatibleKeys).
struct LoadResult {
  std::vector<std::string> missing_keys;     // in the model, not in the checkpoint
  std::vector<std::string> unexpected_keys;  // in the checkpoint, not in the model
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The layer's computation on one input. Modules without a single-input
  // forward (containers of several parts) keep the default, which throws.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }
  // "Conv2d(3, 64, kernel_size=3, ...)"-style one-line description.
  virtual std::string str() const { return type_name(); }
  virtual std::string type_name() const { return "Module"; }

  // ---- the tree
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;  // shared tensors listed once
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  std::int64_t parameter_count() const;  // elements over all parameters

  // ---- modes and gradients
  void train(bool on = true);  // this module and every descendant
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();  // drops every parameter's gradient (PyTorch's set_to_none)

  // ---- checkpoints
  // Parameters and buffers, detached (they share data with the module).
  NamedTensors state_dict() const;
  // Copies every entry into the module's tensor of that name, in place
  // (converting the dtype when it differs). Anything wrong - missing keys and
  // unexpected keys when strict, shape mismatches always - is reported in ONE
  // error listing all of them, and then nothing is copied.
  LoadResult load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  LoadResult load_state_dict(const NamedTensors& state, bool strict = true);  // duplicate names are an error

  // ---- placement: replaces each parameter's and buffer's data in place, so
  // handles held elsewhere (an optimiser's list) follow. Gradients move too.
  void to(Device device);
  // Converts floating parameters and buffers (int64 buffers stay int64), like .double().
  void to(DType dtype);

 protected:
  // Registers `t` under `name` (a leaf; marked as requiring a gradient) and
  // returns the handle the layer keeps.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> child);

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;
  template <typename F>
  void for_each_tensor(F&& f);

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace sceald::nn
