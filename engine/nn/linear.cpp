#include <cmath>

#include "engine/nn/layers.h"
#include "engine/ops/linalg.h"

namespace sceald::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias, Generator& gen)
    : in_features(in_features), out_features(out_features) {
  SCEALD_CHECK(in_features > 0 && out_features > 0, "Linear: feature counts must be positive, got in ", in_features,
               ", out ", out_features);
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", Tensor::empty({out_features}));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator& gen) {
  // PyTorch's rule, as for Conv2d: both bounds come out as 1 / sqrt(in_features).
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::str() const {
  return str_cat("Linear(in_features=", in_features, ", out_features=", out_features,
                 ", bias=", bias.defined() ? "True" : "False", ")");
}

}  // namespace sceald::nn
