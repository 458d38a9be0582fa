// The layers, after their torch.nn namesakes: same constructor arguments,
// same parameter and buffer names, same default initialisation (drawn from
// `gen`, by default nn::default_generator()). Parameters are created in
// float32 on the CPU; Module::to(DType) / to(Device) convert and move them.
// Shapes are NCHW; each forward() calls the op of the same name (engine/ops),
// which checks its input and names itself in errors.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/nn/module.h"
#include "engine/ops/conv.h"
#include "engine/ops/pooling.h"
#include "engine/rng.h"

namespace sceald::nn {

// weight [out, in, k, k] ~ U(-b, b) and bias [out] ~ U(-b, b), b = 1 / sqrt(in k k):
// PyTorch's kaiming_uniform_(a = sqrt(5)) and its bias rule.
class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, std::int64_t stride = 1,
         std::int64_t padding = 0, std::int64_t dilation = 1, bool bias = true,
         Generator& gen = default_generator());
  void reset_parameters(Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;  // [N, in, H, W] -> [N, out, Ho, Wo]
  Tensor forward_relu(const Tensor& x);      // relu(forward(x)) as one fused op (conv2d_relu)
  std::string type_name() const override { return "Conv2d"; }
  std::string str() const override;

  Tensor weight;
  Tensor bias;  // undefined without bias (and then not registered)
  std::int64_t in_channels, out_channels, kernel_size;
  Conv2dParams params;
};

// weight [out, in] and bias [out], both ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's rule).
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true, Generator& gen = default_generator());
  void reset_parameters(Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;  // [N, in] -> [N, out]
  std::string type_name() const override { return "Linear"; }
  std::string str() const override;

  Tensor weight;
  Tensor bias;
  std::int64_t in_features, out_features;
};

// Parameters weight [C] = 1 and bias [C] = 0 when affine; buffers running_mean
// [C] = 0, running_var [C] = 1 and num_batches_tracked (int64 scalar) when
// tracking running statistics. Training (or not tracking) normalises with the
// batch statistics; evaluation with the running ones. momentum = nullopt
// means a cumulative average (factor 1 / num_batches_tracked), as in PyTorch.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  void reset_parameters();
  void reset_running_stats();
  Tensor forward(const Tensor& x) override;  // [N, C, H, W] -> same shape
  std::string type_name() const override { return "BatchNorm2d"; }
  std::string str() const override;

  Tensor weight, bias;                                     // undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined unless tracking
  std::int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
};

class MaxPool2d : public Module {
 public:
  // stride 0 means stride = kernel_size (PyTorch's default).
  explicit MaxPool2d(std::int64_t kernel_size, std::int64_t stride = 0, std::int64_t padding = 0,
                     std::int64_t dilation = 1, bool ceil_mode = false);
  explicit MaxPool2d(const MaxPool2dParams& params) : params(params) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string str() const override;

  MaxPool2dParams params;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(std::int64_t output_size) : output_size{output_size, output_size} {}
  explicit AdaptiveAvgPool2d(std::array<std::int64_t, 2> output_size) : output_size(output_size) {}
  Tensor forward(const Tensor& x) override;  // [N, C, H, W] -> [N, C, oh, ow]
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string str() const override;

  std::array<std::int64_t, 2> output_size;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};

// weight [num_parameters] = init: one slope for all channels (1) or one per channel (C).
class PReLU : public Module {
 public:
  explicit PReLU(std::int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "PReLU"; }
  std::string str() const override;

  Tensor weight;
};

// Zeroes elements with probability p in training (scaling the rest by
// 1 / (1 - p)); the identity in evaluation. The mask comes from the module's
// own generator, seeded explicitly or, by default, from default_generator().
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Dropout(double p, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string str() const override;
  void seed(std::uint64_t seed) { generator.set_state(seed, 0); }

  double p;
  Generator generator;
};

// Merges axes start_dim..end into one ([N, C, H, W] -> [N, C H W] by default).
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1) : start_dim(start_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }

  std::int64_t start_dim;
};

// Nearest-neighbour up-sampling, to a fixed output size or by an integer
// factor (k H, k W); PyTorch's 'nearest' rule either way.
class Upsample : public Module {
 public:
  explicit Upsample(std::int64_t scale_factor = 2);
  explicit Upsample(std::array<std::int64_t, 2> size);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Upsample"; }
  std::string str() const override;

  std::optional<std::array<std::int64_t, 2>> size;  // set: a fixed output size
  std::int64_t scale_factor = 2;                    // used when size is unset
};

// Runs its children in order; they are named "0", "1", ... as in PyTorch.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  void push_back(std::shared_ptr<Module> layer);
  // Constructs a layer in place and returns it: seq.emplace_back<Conv2d>(3, 64, 3, 1, 1).
  template <typename M, typename... Args>
  std::shared_ptr<M> emplace_back(Args&&... args) {
    auto layer = std::make_shared<M>(std::forward<Args>(args)...);
    push_back(layer);
    return layer;
  }
  std::size_t size() const { return named_children().size(); }
  Module& operator[](std::size_t i) const;
  // The i-th layer as an M; throws naming both types when it is something else.
  template <typename M>
  M& at(std::size_t i) const {
    Module& m = (*this)[i];
    auto* typed = dynamic_cast<M*>(&m);
    SCEALD_CHECK(typed != nullptr, "Sequential::at: layer ", i, " is a ", m.type_name(), ", not the type asked for");
    return *typed;
  }
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  std::string str() const override;  // one line per layer, like PyTorch's print
};

}  // namespace sceald::nn
