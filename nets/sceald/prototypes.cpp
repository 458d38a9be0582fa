#include "nets/sceald/prototypes.h"

#include <cmath>
#include <cstring>

#include "engine/data/expressions.h"
#include "engine/error.h"
#include "engine/ops/op_checks.h"
#include "nets/sceald/semantic.h"

namespace sceald::method {

namespace {

std::string class_label(std::int64_t k) {
  if (k >= 0 && k < data::kNumExpressions) return str_cat("'", data::kExpressionNames[k], "' (class ", k, ")");
  return str_cat("class ", k);
}

std::vector<std::int64_t> checked_labels(const char* op, const Tensor& labels, std::int64_t n, std::int64_t c) {
  check_defined(op, labels, "the labels");
  SCEALD_CHECK(labels.dtype() == DType::Int64 && labels.dim() == 1 && labels.size(0) == n, op,
               ": the labels must be int64 [", n, "], got ", labels.str());
  on_cuda(op, {&labels});
  std::vector<std::int64_t> y = labels.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i)
    SCEALD_CHECK(y[i] >= 0 && y[i] < c, op, ": label ", y[i], " of sample ", i, " is outside [0, ", c, ")");
  return y;
}

}  // namespace

const char* prototype_mode_name(PrototypeMode mode) { return mode == PrototypeMode::Weighted ? "weighted" : "literal"; }

PrototypeMode parse_prototype_mode(std::string_view name) {
  if (name == "weighted") return PrototypeMode::Weighted;
  if (name == "literal") return PrototypeMode::Literal;
  throw Error(str_cat("unknown prototype mode '", name, "' (expected weighted or literal)"));
}

// Eq. 4. SPEC: `weighted` divides by sum alpha_i (a weighted mean), `literal`
// by n_k as the paper prints it.
Tensor compute_prototypes(const Tensor& features, const Tensor& labels, const Tensor& alpha,
                          std::int64_t num_classes, PrototypeMode mode, const Tensor& previous) {
  const char* op = "compute_prototypes";
  check_floating(op, features, "the features");
  check_dim(op, features, 2, "the features");
  on_cuda(op, {&features, &alpha, &previous});
  SCEALD_CHECK(num_classes >= 1, op, ": num_classes must be positive, got ", num_classes);
  const std::int64_t n = features.size(0), d = features.size(1);
  const std::vector<std::int64_t> y = checked_labels(op, labels, n, num_classes);
  std::vector<double> a(static_cast<std::size_t>(n), 1.0);
  if (alpha.defined()) {
    check_floating(op, alpha, "alpha");
    SCEALD_CHECK(alpha.dim() == 1 && alpha.size(0) == n, op, ": alpha must be [", n, "], got ", alpha.str());
    a = alpha.to_vector<double>();
    for (std::int64_t i = 0; i < n; ++i)
      SCEALD_CHECK(std::isfinite(a[i]) && a[i] > 0.0, op, ": alpha of sample ", i, " is ", a[i],
                   " (confidences are positive)");
  }
  if (previous.defined()) {
    check_floating(op, previous, "the previous prototypes");
    SCEALD_CHECK(previous.shape() == Shape({num_classes, d}), op, ": the previous prototypes must be [", num_classes,
                 ", ", d, "], got ", previous.str());
  }
  std::vector<double> sums(static_cast<std::size_t>(num_classes * d), 0.0), weight(num_classes, 0.0);
  std::vector<std::int64_t> count(num_classes, 0);
  const Tensor fc = features.contiguous();
  dispatch_floating(fc.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* f = fc.data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      double* s = sums.data() + y[i] * d;
      for (std::int64_t j = 0; j < d; ++j) s[j] += a[i] * static_cast<double>(f[i * d + j]);
      weight[y[i]] += a[i];
      ++count[y[i]];
    }
  });
  Tensor out = Tensor::empty({num_classes, d}, DType::Float64);
  double* p = out.data<double>();
  const std::vector<double> prev = previous.defined() ? previous.to_vector<double>() : std::vector<double>();
  for (std::int64_t k = 0; k < num_classes; ++k) {
    if (count[k] == 0) {
      SCEALD_CHECK(previous.defined(), op, ": ", class_label(k),
                   " has no sample and there is no previous prototype to keep; every class needs a prototype");
      std::memcpy(p + k * d, prev.data() + k * d, static_cast<std::size_t>(d) * sizeof(double));
      continue;
    }
    const double denominator = mode == PrototypeMode::Weighted ? weight[k] : static_cast<double>(count[k]);
    for (std::int64_t j = 0; j < d; ++j) p[k * d + j] = sums[k * d + j] / denominator;
  }
  return out;
}

Tensor initial_prototypes(const Tensor& features, const Tensor& labels, std::int64_t num_classes) {
  return compute_prototypes(features, labels, Tensor(), num_classes, PrototypeMode::Weighted);
}

PrototypeRefresh refresh_prototypes(const Tensor& features, const Tensor& labels, const Tensor& semantic_graph,
                                    const Tensor& prototypes, const ConfidenceOptions& confidence_options,
                                    PrototypeMode mode, const Tensor& ground_cost) {
  const char* op = "refresh_prototypes";
  check_floating(op, prototypes, "the prototypes");
  check_dim(op, prototypes, 2, "the prototypes");
  check_floating(op, semantic_graph, "the semantic CR-graph");
  check_dim(op, features, 2, "the features");
  SCEALD_CHECK(semantic_graph.dim() == 2 && semantic_graph.size(0) == features.size(0) &&
                   semantic_graph.size(1) == prototypes.size(0),
               op, ": the semantic CR-graph must be [", features.size(0), ", ", prototypes.size(0),
               "] (samples x classes), got ", semantic_graph.str());
  PrototypeRefresh out;
  out.task_graph = task_cr_graph(features, prototypes);  // Eq. 3
  out.distance = graph_distances(semantic_graph, out.task_graph, confidence_options, ground_cost);
  out.alpha = confidence_from_distances(out.distance, confidence_options.eps);  // Eq. 5
  out.prototypes = compute_prototypes(features, labels, out.alpha, prototypes.size(0), mode, prototypes);  // Eq. 4
  return out;
}

FeatureBank::FeatureBank(std::int64_t num_samples, std::int64_t feature_dim) {
  SCEALD_CHECK(num_samples >= 1 && feature_dim >= 1, "FeatureBank: needs at least one sample and one feature, got ",
               num_samples, " x ", feature_dim);
  features_ = Tensor::zeros({num_samples, feature_dim}, DType::Float32);
  stored_ever_.assign(static_cast<std::size_t>(num_samples), 0);
  stored_epoch_.assign(static_cast<std::size_t>(num_samples), 0);
  never_stored_ = num_samples;
}

void FeatureBank::store(const Tensor& features, const Tensor& sample_indices) {
  check_defined("FeatureBank::store", sample_indices, "the sample indices");
  SCEALD_CHECK(sample_indices.dtype() == DType::Int64 && sample_indices.dim() == 1,
               "FeatureBank::store: the sample indices must be int64 [B], got ", sample_indices.str());
  const std::vector<std::int64_t> idx = sample_indices.to_vector<std::int64_t>();
  store(features, std::span<const std::int64_t>(idx));
}

void FeatureBank::store(const Tensor& features, std::span<const std::int64_t> sample_indices) {
  const char* op = "FeatureBank::store";
  check_floating(op, features, "the features");
  check_dim(op, features, 2, "the features");
  const std::int64_t b = features.size(0), d = feature_dim();
  SCEALD_CHECK(features.size(1) == d, op, ": the bank holds features of ", d, " values, got ", features.str());
  SCEALD_CHECK(static_cast<std::int64_t>(sample_indices.size()) == b, op, ": ", sample_indices.size(),
               " sample indices for ", b, " feature rows");
  for (std::int64_t r = 0; r < b; ++r)
    SCEALD_CHECK(sample_indices[r] >= 0 && sample_indices[r] < num_samples(), op, ": sample index ",
                 sample_indices[r], " (row ", r, ") is outside [0, ", num_samples(), ")");
  const Tensor host = features.detach().to(Device::cpu()).to(DType::Float32).contiguous();
  const float* src = host.data<float>();
  float* dst = features_.data<float>();
  for (std::int64_t r = 0; r < b; ++r) {
    const std::int64_t i = sample_indices[r];
    std::memcpy(dst + i * d, src + r * d, static_cast<std::size_t>(d) * sizeof(float));
    if (!stored_ever_[i]) {
      stored_ever_[i] = 1;
      --never_stored_;
    }
    if (!stored_epoch_[i]) {
      stored_epoch_[i] = 1;
      ++stored_this_epoch_;
    }
  }
}

void FeatureBank::begin_epoch() {
  std::fill(stored_epoch_.begin(), stored_epoch_.end(), 0);
  stored_this_epoch_ = 0;
}

void FeatureBank::check_ready(const char* op) const {
  if (ready()) return;
  std::string first;
  int listed = 0;
  for (std::size_t i = 0; i < stored_ever_.size() && listed < 5; ++i)
    if (!stored_ever_[i]) first += str_cat(listed++ ? ", " : "", i);
  throw Error(str_cat(op, ": ", never_stored_, " of ", num_samples(), " samples have no feature yet (first: ", first,
                      "); run one pass over the whole training set first"));
}

PrototypeRefresh FeatureBank::refresh(const Tensor& labels, const Tensor& semantic_graph, const Tensor& prototypes,
                                      const ConfidenceOptions& confidence_options, PrototypeMode mode,
                                      const Tensor& ground_cost) const {
  check_ready("FeatureBank::refresh");
  return refresh_prototypes(features_, labels, semantic_graph, prototypes, confidence_options, mode, ground_cost);
}

Tensor FeatureBank::initial_prototypes(const Tensor& labels, std::int64_t num_classes) const {
  check_ready("FeatureBank::initial_prototypes");
  return method::initial_prototypes(features_, labels, num_classes);
}

}  // namespace sceald::method
