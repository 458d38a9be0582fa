#include "engine/io/finite_check.h"

#include <cmath>
#include <cstdint>

#include "engine/error.h"

namespace sceald::io {

namespace {

// Index of the first non-finite element, or -1.
template <typename T>
std::int64_t first_non_finite(const Tensor& t, double& value) {
  const Tensor c = t.device().is_cpu() ? t.contiguous() : t.to(Device::cpu()).contiguous();
  const T* p = c.data<T>();
  const std::int64_t n = c.numel();
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) {
      value = static_cast<double>(p[i]);
      return i;
    }
  return -1;
}

}  // namespace

void require_finite(const std::vector<std::pair<std::string, Tensor>>& tensors, const std::string& source) {
  for (const auto& [name, t] : tensors) {
    double value = 0;
    std::int64_t index = -1;
    if (t.dtype() == DType::Float32) index = first_non_finite<float>(t, value);
    if (t.dtype() == DType::Float64) index = first_non_finite<double>(t, value);
    if (index >= 0)
      throw Error(str_cat(source, ": tensor '", name, "' ", t.str(), " holds ", value, " at element ", index,
                          ": the file is damaged or was saved from a diverged run"));
  }
}

}  // namespace sceald::io
