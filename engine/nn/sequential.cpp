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
  const auto& layers = named_children();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    // A Conv2d followed by a ReLU runs as one fused op: the same result,
    // half the activation memory (engine/ops/conv.h).
    auto* conv = dynamic_cast<Conv2d*>(layers[i].second.get());
    if (conv && i + 1 < layers.size() && dynamic_cast<ReLU*>(layers[i + 1].second.get())) {
      y = conv->forward_relu(y);
      ++i;
      continue;
    }
    y = layers[i].second->forward(y);
  }
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
