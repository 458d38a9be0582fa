#include "nets/sceald/divergence.h"

#include <cmath>
#include <string>

#include "engine/error.h"

namespace sceald::train {

namespace {

[[noreturn]] void diverged(const std::string& what, const TrainingPoint& p) {
  throw Error(str_cat(p.stage, " epoch ", p.epoch, ", after ", p.seen, " images: ", what,
                      ": training diverged; start again with a smaller ", p.lr_option, " (it is ", p.lr,
                      "; the checkpoints hold only the epochs before this one)"));
}

template <typename T>
void check_values(const Tensor& t, const TrainingPoint& p) {
  const Tensor c = t.contiguous();
  const T* v = c.data<T>();
  for (std::int64_t i = 0; i < c.numel(); ++i)
    if (!std::isfinite(v[i])) diverged(str_cat("the task feature holds ", v[i], " at element ", i), p);
}

}  // namespace

void check_loss_finite(double loss, const TrainingPoint& point) {
  if (!std::isfinite(loss)) diverged(str_cat("the loss is ", loss), point);
}

void check_features_finite(const Tensor& features, const TrainingPoint& point) {
  if (features.dtype() == DType::Float32) check_values<float>(features, point);
  if (features.dtype() == DType::Float64) check_values<double>(features, point);
}

}  // namespace sceald::train
