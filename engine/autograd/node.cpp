#include "engine/autograd/node.h"

#include <utility>
#include <vector>

namespace sceald {

Node::~Node() {
  // Each node this one alone keeps alive hands its own edges to `pending`
  // before it dies, so every destructor runs with nothing left to free below.
  std::vector<std::shared_ptr<Node>> pending = std::move(next_);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node && node.use_count() == 1)
      for (std::shared_ptr<Node>& next : node->next_) pending.push_back(std::move(next));
  }
}

}  // namespace sceald
