#include "nets/sceald/label_distribution.h"

#include <cmath>
#include <vector>

#include "engine/error.h"
#include "engine/ops/op_checks.h"

namespace sceald::method {

// Eq. 6: l_ik = 1 / ||f(x_i) - p_k||^2, normalised over k. SPEC: eps = 1e-3
// in the denominator (the paper's formula has none), computed on detached values.
Tensor label_distribution(const Tensor& features, const Tensor& prototypes, DType dtype, double eps) {
  const char* op = "label_distribution";
  check_floating(op, features, "the features");
  check_floating(op, prototypes, "the prototypes");
  check_dim(op, features, 2, "the features");
  check_dim(op, prototypes, 2, "the prototypes");
  on_cuda(op, {&features, &prototypes});
  SCEALD_CHECK(is_floating(dtype), op, ": the output dtype must be float32 or float64, got ", dtype_name(dtype));
  SCEALD_CHECK(features.size(1) == prototypes.size(1), op, ": features ", features.str(), " and prototypes ",
               prototypes.str(), " differ in their feature length");
  SCEALD_CHECK(eps > 0.0 && std::isfinite(eps), op, ": eps must be positive, got ", eps);
  const std::int64_t b = features.size(0), c = prototypes.size(0), d = features.size(1);
  const std::vector<double> p = prototypes.to_vector<double>();
  std::vector<double> l(static_cast<std::size_t>(b * c));
  const Tensor fc = features.contiguous();
  dispatch_floating(fc.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* f = fc.data<T>();
    for (std::int64_t i = 0; i < b; ++i) {
      double total = 0.0;
      for (std::int64_t k = 0; k < c; ++k) {
        double d2 = 0.0;
        for (std::int64_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(f[i * d + j]) - p[k * d + j];
          d2 += diff * diff;
        }
        SCEALD_CHECK(std::isfinite(d2), op, ": the squared distance of sample ", i, " to prototype ", k, " is ", d2);
        l[i * c + k] = 1.0 / (d2 + eps);
        total += l[i * c + k];
      }
      for (std::int64_t k = 0; k < c; ++k) l[i * c + k] /= total;
    }
  });
  Tensor out = Tensor::from_vector(l, {b, c});
  return out.to(dtype);
}

Tensor label_distribution(const Tensor& features, const Tensor& prototypes) {
  check_floating("label_distribution", features, "the features");
  return label_distribution(features, prototypes, features.dtype());
}

}  // namespace sceald::method
