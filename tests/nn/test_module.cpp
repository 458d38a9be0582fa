// Module: registration, PyTorch-style names, state_dict round trips,
// load_state_dict's one error, modes, parameter counts, dtype and device moves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/cuda_runtime.h"
#include "engine/nn/layers.h"
#include "support/tolerance.h"

namespace sceald::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> names(const NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, _] : named) out.push_back(name);
  return out;
}

// A tiny VGG-like net with a nested Sequential, as PyTorch would name it.
class TinyNet : public Module {
 public:
  TinyNet() {
    features = register_module("features", std::make_shared<Sequential>());
    features->emplace_back<Conv2d>(3, 4, 3, 1, 1);
    features->emplace_back<BatchNorm2d>(4);
    features->emplace_back<ReLU>();
    features->emplace_back<MaxPool2d>(2);
    pool = register_module("pool", std::make_shared<AdaptiveAvgPool2d>(1));
    classifier = register_module("classifier", std::make_shared<Linear>(4, 2));
  }
  Tensor forward(const Tensor& x) override {
    return classifier->forward(flatten_(pool->forward(features->forward(x))));
  }
  std::string type_name() const override { return "TinyNet"; }

  std::shared_ptr<Sequential> features;
  std::shared_ptr<AdaptiveAvgPool2d> pool;
  std::shared_ptr<Linear> classifier;

 private:
  static Tensor flatten_(const Tensor& x) { return x.reshape({x.size(0), -1}); }
};

TEST(Module, NamesFollowPyTorch) {
  TinyNet net;
  EXPECT_THAT(names(net.named_parameters()),
              ElementsAre("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                          "classifier.weight", "classifier.bias"));
  EXPECT_THAT(names(net.named_buffers()), ElementsAre("features.1.running_mean", "features.1.running_var",
                                                      "features.1.num_batches_tracked"));
  // state_dict: per module, parameters then buffers (what torch's state_dict() lists).
  EXPECT_THAT(names(net.state_dict()),
              ElementsAre("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                          "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
                          "classifier.weight", "classifier.bias"));
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(net.named_buffers()[2].second.dtype(), DType::Int64);
  EXPECT_EQ(net.named_buffers()[2].second.dim(), 0);
}

TEST(Module, ParameterCounts) {
  EXPECT_EQ(Conv2d(3, 64, 3).parameter_count(), 1792);  // 64 * 3 * 9 + 64
  EXPECT_EQ(Conv2d(3, 64, 3, 1, 1, 1, /*bias=*/false).parameter_count(), 1728);
  EXPECT_EQ(Linear(25088, 10).parameter_count(), 250890);
  EXPECT_EQ(BatchNorm2d(64).parameter_count(), 128);
  EXPECT_EQ(BatchNorm2d(64, 1e-5, 0.1, /*affine=*/false).parameter_count(), 0);
  EXPECT_EQ(PReLU(8).parameter_count(), 8);
  EXPECT_EQ(TinyNet().parameter_count(), (4 * 3 * 9 + 4) + 8 + 10);
  EXPECT_TRUE(ReLU().named_parameters().empty());
  EXPECT_TRUE(Conv2d(2, 2, 1, 1, 0, 1, false).named_parameters().size() == 1);  // no "bias" entry at all
}

TEST(Module, SharedParameterIsListedOnce) {
  Sequential seq;
  auto first = seq.emplace_back<Linear>(3, 3);
  seq.emplace_back<ReLU>();
  seq.push_back(first);  // the same module twice: its tensors are listed once, under the first name
  EXPECT_THAT(names(seq.named_parameters()), ElementsAre("0.weight", "0.bias"));
  EXPECT_THAT(names(seq.state_dict()), ElementsAre("0.weight", "0.bias", "2.weight", "2.bias"));  // like PyTorch
}

TEST(Module, StateDictRoundTripCopiesInPlace) {
  manual_seed(1);
  TinyNet a;
  manual_seed(2);
  TinyNet b;
  Tensor b_weight = b.classifier->weight;  // a handle held elsewhere (an optimiser's)
  a.features->at<BatchNorm2d>(1).running_mean.fill_(0.5);
  a.features->at<BatchNorm2d>(1).num_batches_tracked.fill_(7);
  ASSERT_FALSE(testing::all_close(a.classifier->weight, b.classifier->weight));

  const LoadResult result = b.load_state_dict(a.state_dict());
  EXPECT_TRUE(result.missing_keys.empty() && result.unexpected_keys.empty());
  for (const auto& [name, t] : a.state_dict()) {
    const auto bs = b.state_dict();
    auto it = std::find_if(bs.begin(), bs.end(), [&](const auto& e) { return e.first == name; });
    ASSERT_NE(it, bs.end()) << name;
    EXPECT_EQ(it->second.to_vector<double>(), t.to_vector<double>()) << name;
  }
  EXPECT_TRUE(b_weight.same(b.classifier->weight));
  EXPECT_TRUE(testing::all_close(b_weight, a.classifier->weight));
  EXPECT_EQ(b.features->at<BatchNorm2d>(1).num_batches_tracked.item<std::int64_t>(), 7);
  // The dict shares data with the module but carries no autograd state.
  EXPECT_FALSE(a.state_dict()[0].second.requires_grad());
  // Writing into b did not alias it to a.
  a.classifier->weight.fill_(3.0);
  EXPECT_NE(b.classifier->weight.to_vector<double>()[0], 3.0);
}

TEST(Module, LoadStateDictReportsEverythingInOneError) {
  TinyNet net;
  NamedTensors state = net.state_dict();
  state.erase(state.begin() + 1);                                   // features.0.bias missing
  state.erase(state.begin() + 5);                                   // features.1.num_batches_tracked missing
  state.emplace_back("classifier.extra", Tensor::zeros({2}));       // unexpected
  for (auto& [name, t] : state)
    if (name == "classifier.weight") t = Tensor::zeros({3, 4});     // shape mismatch
  const auto before = net.classifier->bias.to_vector<float>();
  for (auto& [name, t] : state)
    if (name == "classifier.bias") t = Tensor::full({2}, 9.0);
  try {
    net.load_state_dict(state);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("missing keys (2): features.0.bias, features.1.num_batches_tracked"));
    EXPECT_THAT(msg, HasSubstr("unexpected keys (1): classifier.extra"));
    EXPECT_THAT(msg, HasSubstr("shape mismatches (1): classifier.weight: checkpoint [3, 4] vs model [2, 4]"));
  }
  EXPECT_EQ(net.classifier->bias.to_vector<float>(), before) << "nothing may be copied when loading fails";

  // Not strict: missing and unexpected keys are reported back, shape mismatches still throw.
  EXPECT_THROW(net.load_state_dict(state, /*strict=*/false), Error);
  for (auto& [name, t] : state)
    if (name == "classifier.weight") t = Tensor::zeros({2, 4});
  const LoadResult result = net.load_state_dict(state, /*strict=*/false);
  EXPECT_THAT(result.missing_keys, ElementsAre("features.0.bias", "features.1.num_batches_tracked"));
  EXPECT_THAT(result.unexpected_keys, ElementsAre("classifier.extra"));
  EXPECT_EQ(net.classifier->bias.to_vector<float>(), (std::vector<float>{9, 9}));

  NamedTensors twice = {{"classifier.bias", Tensor::zeros({2})}, {"classifier.bias", Tensor::zeros({2})}};
  EXPECT_THROW(net.load_state_dict(twice, false), Error);
}

TEST(Module, LoadStateDictConvertsDtype) {
  Linear layer(2, 2);
  NamedTensors state = {{"weight", Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2})},
                        {"bias", Tensor::from_vector<double>({5, 6}, {2})}};
  layer.load_state_dict(state);
  EXPECT_EQ(layer.weight.dtype(), DType::Float32);
  EXPECT_EQ(layer.weight.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Module, TrainEvalPropagates) {
  TinyNet net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net.features->is_training());
  EXPECT_FALSE((*net.features)[1].is_training());
  EXPECT_FALSE(net.classifier->is_training());
  net.features->train();
  EXPECT_TRUE((*net.features)[1].is_training());
  EXPECT_FALSE(net.is_training());
  net.train(true);
  EXPECT_TRUE(net.classifier->is_training());
}

TEST(Module, ZeroGradDropsEveryGradient) {
  TinyNet net;
  for (Tensor p : net.parameters()) p.grad() = Tensor::ones(p.shape());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, ToDTypeKeepsHandlesAndInt64Buffers) {
  TinyNet net;
  Tensor w = net.features->at<Conv2d>(0).weight;
  const auto values = w.to_vector<double>();
  w.grad() = Tensor::ones(w.shape());
  net.to(DType::Float64);
  EXPECT_EQ(w.dtype(), DType::Float64);  // the outside handle follows
  EXPECT_EQ(w.to_vector<double>(), values);
  EXPECT_EQ(w.grad().dtype(), DType::Float64);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(net.features->at<BatchNorm2d>(1).running_var.dtype(), DType::Float64);
  EXPECT_EQ(net.features->at<BatchNorm2d>(1).num_batches_tracked.dtype(), DType::Int64);
  Tensor y = net.forward(Tensor::ones({2, 3, 4, 4}, DType::Float64));
  EXPECT_EQ(y.dtype(), DType::Float64);
  EXPECT_THROW(net.to(DType::Int64), Error);
}

TEST(Module, ToDevice) {
  TinyNet net;
  Tensor w = net.classifier->weight;
  net.to(Device::cpu());  // already there: nothing changes
  EXPECT_TRUE(w.same(net.classifier->weight));
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device (" << cuda::unavailable_reason() << ")";
  const auto values = w.to_vector<float>();
  net.to(Device::cuda(0));
  EXPECT_TRUE(w.device().is_cuda());
  EXPECT_TRUE(net.features->at<BatchNorm2d>(1).num_batches_tracked.device().is_cuda());
  net.to(Device::cpu());
  EXPECT_EQ(w.to_vector<float>(), values);
}

TEST(Module, RegistrationErrors) {
  class Bad : public Module {
   public:
    void add(const std::string& name) { register_parameter(name, Tensor::zeros({1})); }
  };
  Bad bad;
  bad.add("w");
  EXPECT_THROW(bad.add("w"), Error);
  EXPECT_THROW(bad.add("a.b"), Error);
  EXPECT_THROW(bad.add(""), Error);
  EXPECT_THROW(bad.forward(Tensor::zeros({1})), Error);
}

TEST(Sequential, IndexingAndDescription) {
  Sequential seq{std::make_shared<Conv2d>(1, 2, 3), std::make_shared<ReLU>()};
  seq.push_back(std::make_shared<Flatten>());
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[1].type_name(), "ReLU");
  EXPECT_EQ(seq.at<Conv2d>(0).out_channels, 2);
  EXPECT_THROW(seq.at<Linear>(0), Error);
  EXPECT_THROW(seq[3], Error);
  EXPECT_THAT(seq.str(), HasSubstr("(0): Conv2d(1, 2, kernel_size=3"));
  EXPECT_THAT(seq.str(), HasSubstr("(2): Flatten"));
}

}  // namespace
}  // namespace sceald::nn
