#include "engine/nn/layers.h"
#include "engine/ops/batch_norm.h"

namespace sceald::nn {

BatchNorm2d::BatchNorm2d(std::int64_t num_features, double eps, std::optional<double> momentum, bool affine,
                         bool track_running_stats)
    : num_features(num_features), eps(eps), momentum(momentum), affine(affine),
      track_running_stats(track_running_stats) {
  SCEALD_CHECK(num_features > 0, "BatchNorm2d: num_features must be positive, got ", num_features);
  SCEALD_CHECK(eps > 0, "BatchNorm2d: eps must be positive, got ", eps);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({num_features}));
    bias = register_parameter("bias", Tensor::zeros({num_features}));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
    running_var = register_buffer("running_var", Tensor::ones({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::Int64));
  }
}

void BatchNorm2d::reset_running_stats() {
  if (!track_running_stats) return;
  init::zeros_(running_mean);
  init::ones_(running_var);
  num_batches_tracked.copy_(Tensor::zeros({}, DType::Int64).to(num_batches_tracked.device()));
}

void BatchNorm2d::reset_parameters() {
  reset_running_stats();
  if (!affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

namespace {
// num_batches_tracked += 1, wherever the buffer lives; returns the new count.
std::int64_t increment(Tensor& counter) {
  Tensor host = counter.device().is_cpu() ? counter : counter.to(Device::cpu());
  const std::int64_t n = ++host.data<std::int64_t>()[0];
  if (!counter.device().is_cpu()) counter.copy_(host);
  return n;
}
}  // namespace

Tensor BatchNorm2d::forward(const Tensor& x) {
  SCEALD_CHECK(x.defined() && x.dim() == 4, "BatchNorm2d: expected a 4-D input [N, C, H, W], got ",
               x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  // PyTorch's _BatchNorm.forward: count the batch, pick the averaging factor,
  // and use batch statistics in training or whenever there are no running ones.
  double factor = 0.0;
  if (is_training() && track_running_stats) {
    const std::int64_t n = increment(num_batches_tracked);
    factor = momentum ? *momentum : 1.0 / static_cast<double>(n);
  }
  const bool use_batch_stats = is_training() || !track_running_stats;
  return batch_norm(x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps);
}

std::string BatchNorm2d::str() const {
  return str_cat("BatchNorm2d(", num_features, ", eps=", eps, ", momentum=",
                 momentum ? str_cat(*momentum) : std::string("None"), ", affine=", affine ? "True" : "False",
                 ", track_running_stats=", track_running_stats ? "True" : "False", ")");
}

}  // namespace sceald::nn
