#include "engine/nn/layers.h"
#include "engine/ops/activation.h"

namespace sceald::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

PReLU::PReLU(std::int64_t num_parameters, double init) {
  SCEALD_CHECK(num_parameters > 0, "PReLU: num_parameters must be positive, got ", num_parameters);
  weight = register_parameter("weight", Tensor::full({num_parameters}, init));
}

Tensor PReLU::forward(const Tensor& x) { return prelu(x, weight); }

std::string PReLU::str() const { return str_cat("PReLU(num_parameters=", weight.numel(), ")"); }

}  // namespace sceald::nn
