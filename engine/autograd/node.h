// A node of the define-by-run graph: the backward of one op application.
//
// Every op has a single output. A node holds what its backward needs (saved
// tensors, attributes) and one edge per input: the node that produced that
// input, its leaf's gradient accumulator, or null when the input needs no
// gradient (its backward then skips that work).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/tensor.h"

namespace sceald {

class Node {
 public:
  // Unlinks the nodes below it iteratively: a chain freed one inside the
  // other's destructor would overflow the stack (a million nodes do).
  virtual ~Node();
  virtual const char* name() const = 0;
  // dL/d(output) -> dL/d(input i) for every input; an entry may be left
  // undefined where needs_input_grad(i) is false.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Drops saved tensors once the graph has been used (no retain_graph).
  virtual void release_saved() {}

  bool needs_input_grad(std::size_t i) const { return i < next_.size() && next_[i] != nullptr; }
  const std::vector<std::shared_ptr<Node>>& next() const { return next_; }
  void set_next(std::vector<std::shared_ptr<Node>> next) { next_ = std::move(next); }
  bool released() const { return released_; }
  void mark_released() {
    if (outlives_graph()) return;
    released_ = true;
    release_saved();
  }
  // A leaf's accumulator is shared by every graph that uses the leaf.
  virtual bool outlives_graph() const { return false; }

 private:
  std::vector<std::shared_ptr<Node>> next_;
  bool released_ = false;
};

// Sums incoming gradients into a leaf tensor's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  const char* name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  bool outlives_graph() const override { return true; }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// True when autograd is on and any input requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
// The edge an op should record for input `t`: its grad_fn, its (cached)
// accumulator for a leaf that requires grad, or null.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// Creates node N with edges to `inputs` and makes it `output`'s grad_fn, when
// any input requires a gradient; returns null (and records nothing) otherwise.
template <typename N, typename... Args>
std::shared_ptr<N> record(Tensor& output, std::initializer_list<const Tensor*> inputs, Args&&... args) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>(std::forward<Args>(args)...);
  std::vector<std::shared_ptr<Node>> next;
  next.reserve(inputs.size());
  for (const Tensor* t : inputs) next.push_back(t && t->defined() ? gradient_edge(*t) : nullptr);
  node->set_next(std::move(next));
  output.set_grad_fn(node);
  return node;
}

// Runs the graph below `root` (iteratively, each node once, after all its
// consumers). `grad_output` seeds root's gradient.
void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

}  // namespace sceald
