#include <unordered_map>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/error.h"

namespace sceald {

namespace {
thread_local bool grad_mode_enabled = true;
}

bool GradMode::enabled() { return grad_mode_enabled; }
void GradMode::set_enabled(bool value) { grad_mode_enabled = value; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  TensorImpl* impl = t.impl();
  if (auto acc = impl->grad_accumulator.lock()) return acc;
  auto acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
  impl->grad_accumulator = acc;
  return acc;
}

namespace {

// A leaf's first gradient can take over the incoming tensor's memory instead
// of copying it when nothing else can see that memory: the engine hands each
// gradient over as the only reference to its TensorImpl, so a use count of 1
// on both the TensorImpl and a Storage that holds exactly this contiguous
// tensor means no view, saved tensor or other consumer shares it. (For
// VGG16 that saves a 537 MB copy, and a transient second fc6 gradient, per step.)
bool can_adopt(const Tensor& grad, const TensorImpl& leaf) {
  return grad.impl_ptr().use_count() == 1 && grad.storage().use_count() == 1 && grad.is_contiguous() &&
         grad.offset() == 0 && grad.dtype() == leaf.dtype && grad.device() == leaf.storage->device() &&
         grad.storage()->bytes() == static_cast<std::size_t>(grad.numel()) * dtype_size(grad.dtype());
}

}  // namespace

std::vector<Tensor> AccumulateGrad::backward(const Tensor& grad_output) {
  auto leaf = leaf_.lock();
  if (!leaf) return {};  // the leaf is gone; nobody can read its gradient
  SCEALD_CHECK(grad_output.shape() == leaf->shape, "AccumulateGrad: gradient of shape ",
               shape_str(grad_output.shape()), " for a leaf of shape ", shape_str(leaf->shape));
  NoGradGuard no_grad;
  if (!leaf->grad.defined()) {
    leaf->grad = can_adopt(grad_output, *leaf) ? grad_output.detach() : grad_output.clone();
  } else {
    add_(leaf->grad, grad_output);
  }
  return {};
}

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  SCEALD_CHECK(root.requires_grad(), "backward: the tensor ", root.str(),
               " does not require a gradient (no input of its graph has requires_grad set)");
  Tensor seed = grad_output;
  if (!seed.defined()) {
    SCEALD_CHECK(root.numel() == 1, "backward: a gradient must be given for the non-scalar tensor ", root.str());
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  SCEALD_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype(), "backward: gradient ", seed.str(),
               " does not match the tensor ", root.str());
  std::shared_ptr<Node> start = gradient_edge(root);

  // Pass 1: count, for every reachable node, how many consumers feed it.
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{start.get()};
  pending[start.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    SCEALD_CHECK(!n->released(), "backward: the graph through ", n->name(),
                 " was already freed by an earlier backward; pass retain_graph=true to the first one");
    for (const auto& next : n->next()) {
      if (!next) continue;
      auto [it, inserted] = pending.try_emplace(next.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(next.get());
    }
  }

  // Pass 2: run each node once all its consumers have contributed. A node
  // that received no gradient (every path to it was skipped) still counts
  // down its children, so that their other consumers are not kept waiting.
  NoGradGuard no_grad;  // backward formulas are not themselves differentiated
  std::unordered_map<Node*, Tensor> grads;
  grads[start.get()] = seed;
  std::vector<Node*> ready{start.get()};
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    std::vector<Tensor> input_grads;
    if (auto it = grads.find(n); it != grads.end()) {
      Tensor g = std::move(it->second);
      grads.erase(it);
      input_grads = n->backward(g);
    }
    const auto& next = n->next();
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (!next[i]) continue;
      Node* child = next[i].get();
      if (i < input_grads.size() && input_grads[i].defined()) {
        auto [it, inserted] = grads.try_emplace(child, std::move(input_grads[i]));
        if (!inserted) it->second = add(it->second, input_grads[i]);
      }
      if (--pending[child] == 0) ready.push_back(child);
    }
    if (!retain_graph) n->mark_released();
  }
}

}  // namespace sceald
