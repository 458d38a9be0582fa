#include "engine/nn/init.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/error.h"

namespace sceald::nn {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(std::uint64_t seed) { default_generator().set_state(seed, 0); }

}  // namespace sceald::nn

namespace sceald::nn::init {

namespace {

void check_target(const Tensor& t, const char* fn) {
  SCEALD_CHECK(t.defined(), "init::", fn, ": the tensor is undefined");
  SCEALD_CHECK(is_floating(t.dtype()), "init::", fn, ": needs a float32 or float64 tensor, got ", t.str());
}

// Writes `values` (a fresh CPU tensor of t's dtype and shape) into t, wherever t lives.
void overwrite(Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(t.device().is_cpu() ? values : values.to(t.device()));
}

std::int64_t fan(const Tensor& t, FanMode mode) {
  auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  return mode == FanMode::FanIn ? fan_in : fan_out;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> fan_in_and_fan_out(const Tensor& weight) {
  SCEALD_CHECK(weight.defined() && weight.dim() >= 2, "init: fan in and fan out need a tensor of at least 2 "
               "dimensions, got ", weight.defined() ? shape_str(weight.shape()) : "an undefined tensor");
  std::int64_t receptive_field = 1;
  for (std::int64_t i = 2; i < weight.dim(); ++i) receptive_field *= weight.size(i);
  return {weight.size(1) * receptive_field, weight.size(0) * receptive_field};
}

double calculate_gain(Nonlinearity nonlinearity, double negative_slope) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

void uniform_(Tensor& t, double low, double high, Generator& gen) {
  check_target(t, "uniform_");
  SCEALD_CHECK(low <= high, "init::uniform_: low ", low, " exceeds high ", high);
  overwrite(t, gen.uniform(t.shape(), low, high, t.dtype()));
}

void normal_(Tensor& t, double mean, double stddev, Generator& gen) {
  check_target(t, "normal_");
  SCEALD_CHECK(stddev >= 0, "init::normal_: negative standard deviation ", stddev);
  overwrite(t, gen.normal(t.shape(), mean, stddev, t.dtype()));
}

void constant_(Tensor& t, double value) {
  check_target(t, "constant_");
  overwrite(t, Tensor::full(t.shape(), value, t.dtype()));
}

void zeros_(Tensor& t) { constant_(t, 0.0); }
void ones_(Tensor& t) { constant_(t, 1.0); }

void kaiming_uniform_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  check_target(t, "kaiming_uniform_");
  const double stddev = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(t, mode)));
  const double bound = std::sqrt(3.0) * stddev;  // U(-b, b) has standard deviation b / sqrt(3)
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator& gen) {
  check_target(t, "kaiming_normal_");
  normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(t, mode))), gen);
}

void xavier_uniform_(Tensor& t, double gain, Generator& gen) {
  check_target(t, "xavier_uniform_");
  auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(Tensor& t, double gain, Generator& gen) {
  check_target(t, "xavier_normal_");
  auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

}  // namespace sceald::nn::init
