#include "engine/nn/layers.h"
#include "engine/ops/activation.h"

namespace sceald::nn {

namespace {
double checked_probability(double p) {
  SCEALD_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability must be in [0, 1], got ", p);
  return p;
}
}  // namespace

// Without an explicit seed, each Dropout takes its own from the default
// generator, so manual_seed() makes a whole model's masks reproducible.
Dropout::Dropout(double p) : Dropout(p, default_generator().next_below(std::uint64_t{1} << 53)) {}

Dropout::Dropout(double p, std::uint64_t seed) : p(checked_probability(p)), generator(seed) {}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training(), generator); }

std::string Dropout::str() const { return str_cat("Dropout(p=", p, ")"); }

}  // namespace sceald::nn
