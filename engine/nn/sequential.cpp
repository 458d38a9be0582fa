#include <string>

#include "engine/nn/layers.h"

namespace sceald::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers) {
  for (const auto& layer : layers) push_back(layer);
}

void Sequential::push_back(std::shared_ptr<Module> layer) {
  SCEALD_CHECK(layer != nullptr, "Sequential::push_back: layer ", size(), " is null");
  add_child(std::to_string(size()), std::move(layer));
}

Module& Sequential::operator[](std::size_t i) const {
  SCEALD_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " layers");
  return *named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [_, layer] : named_children()) y = layer->forward(y);
  return y;
}

std::string Sequential::str() const {
  std::string out = "Sequential(\n";
  for (const auto& [name, layer] : named_children()) {
    std::string inner = layer->str();
    // Nested containers: indent their lines under ours.
    for (std::size_t pos = 0; (pos = inner.find('\n', pos)) != std::string::npos; pos += 3) inner.insert(pos + 1, "  ");
    out += "  (" + name + "): " + inner + "\n";
  }
  return out + ")";
}

}  // namespace sceald::nn
