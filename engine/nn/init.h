// Parameter initialisation, after torch.nn.init: each function overwrites
// a tensor in place (no autograd history) with values drawn from `gen`, by
// default the process-wide generator that manual_seed() reseeds.
//
// Fans follow PyTorch: for a weight [out, in, k...], fan_in = in * prod(k)
// and fan_out = out * prod(k); tensors of fewer than 2 dimensions have no fan.
// Values are drawn in float64 and rounded to the tensor's dtype.
#pragma once

#include <cstdint>
#include <utility>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace sceald::nn {

// The default generator of initialisation and dropout seeds (not thread-safe:
// build models on one thread).
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace sceald::nn

namespace sceald::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

// (fan_in, fan_out) of a weight of at least 2 dimensions.
std::pair<std::int64_t, std::int64_t> fan_in_and_fan_out(const Tensor& weight);
// torch.nn.init.calculate_gain: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu),
// sqrt(2 / (1 + a^2)) (leaky relu with negative slope a), 3/4 (selu).
double calculate_gain(Nonlinearity nonlinearity, double negative_slope = 0.01);

void uniform_(Tensor& t, double low = 0.0, double high = 1.0, Generator& gen = default_generator());
void normal_(Tensor& t, double mean = 0.0, double stddev = 1.0, Generator& gen = default_generator());
void constant_(Tensor& t, double value);
void zeros_(Tensor& t);
void ones_(Tensor& t);

// U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
void kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator());
// N(0, std^2) with std = gain / sqrt(fan).
void kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator& gen = default_generator());
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());

}  // namespace sceald::nn::init
