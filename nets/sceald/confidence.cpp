#include "nets/sceald/confidence.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops/op_checks.h"
#include "nets/sceald/optimal_transport.h"
#include "nets/sceald/semantic.h"

namespace sceald::method {

const char* confidence_distance_name(ConfidenceDistance distance) {
  return distance == ConfidenceDistance::Sorted ? "sorted" : "ot";
}

ConfidenceDistance parse_confidence_distance(std::string_view name) {
  if (name == "sorted") return ConfidenceDistance::Sorted;
  if (name == "ot") return ConfidenceDistance::OptimalTransport;
  throw Error(str_cat("unknown confidence distance '", name, "' (expected sorted or ot)"));
}

// scipy.stats.wasserstein_distance(a, b) for equal sizes: both empirical
// CDFs step by 1/c, so the area between them is the mean gap of the order statistics.
double sorted_wasserstein(std::span<const double> a, std::span<const double> b) {
  SCEALD_CHECK(a.size() == b.size() && !a.empty(), "sorted_wasserstein: needs two non-empty lists of one size, got ",
               a.size(), " and ", b.size());
  std::vector<double> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  double total = 0.0;
  for (std::size_t k = 0; k < sa.size(); ++k) total += std::fabs(sa[k] - sb[k]);
  return total / static_cast<double>(sa.size());
}

// SPEC (ot): p = (S + 1) / sum(S + 1).
std::vector<double> graph_distribution(std::span<const double> graph) {
  SCEALD_CHECK(!graph.empty(), "graph_distribution: empty CR-graph");
  std::vector<double> p(graph.size());
  double total = 0.0;
  for (std::size_t k = 0; k < graph.size(); ++k) {
    SCEALD_CHECK(std::isfinite(graph[k]), "graph_distribution: value ", k, " of the CR-graph is ", graph[k]);
    p[k] = std::max(graph[k] + 1.0, 0.0);
    total += p[k];
  }
  for (double& x : p) x = total > 0.0 ? x / total : 1.0 / static_cast<double>(graph.size());
  return p;
}

double graph_transport_distance(std::span<const double> s, std::span<const double> t,
                                std::span<const double> ground_cost) {
  SCEALD_CHECK(s.size() == t.size(), "graph_transport_distance: graphs of ", s.size(), " and ", t.size(), " classes");
  return transport_cost(graph_distribution(s), graph_distribution(t), ground_cost);
}

Tensor transport_ground_cost(const Tensor& word_vectors) {
  Tensor cost = word_similarity_matrix(word_vectors);
  const std::int64_t c = cost.size(0);
  double* p = cost.data<double>();
  for (std::int64_t k = 0; k < c; ++k)
    for (std::int64_t l = 0; l < c; ++l) p[k * c + l] = k == l ? 0.0 : std::max(0.0, 1.0 - p[k * c + l]);
  return cost;
}

Tensor graph_distances(const Tensor& semantic_graph, const Tensor& task_graph, const ConfidenceOptions& options,
                       const Tensor& ground_cost) {
  const char* op = "graph_distances";
  check_floating(op, semantic_graph, "the semantic CR-graph");
  check_floating(op, task_graph, "the task CR-graph");
  check_dim(op, semantic_graph, 2, "the semantic CR-graph");
  on_cuda(op, {&semantic_graph, &task_graph, &ground_cost});
  SCEALD_CHECK(semantic_graph.shape() == task_graph.shape(), op, ": the semantic CR-graph ", semantic_graph.str(),
               " and the task CR-graph ", task_graph.str(), " differ in shape");
  const std::int64_t n = semantic_graph.size(0), c = semantic_graph.size(1);
  const std::vector<double> s = semantic_graph.to_vector<double>(), t = task_graph.to_vector<double>();
  std::vector<double> cost;
  if (options.distance == ConfidenceDistance::OptimalTransport) {
    SCEALD_CHECK(ground_cost.defined(), op, ": the ot distance needs the ground cost [", c, ", ", c,
                 "] (transport_ground_cost of the word vectors)");
    SCEALD_CHECK(ground_cost.shape() == Shape({c, c}), op, ": the ground cost must be [", c, ", ", c, "], got ",
                 ground_cost.str());
    cost = ground_cost.to_vector<double>();
  }
  Tensor out = Tensor::empty({n}, DType::Float64);
  double* w = out.data<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::span<const double> si(s.data() + i * c, static_cast<std::size_t>(c));
    const std::span<const double> ti(t.data() + i * c, static_cast<std::size_t>(c));
    w[i] = options.distance == ConfidenceDistance::Sorted ? sorted_wasserstein(si, ti)
                                                          : graph_transport_distance(si, ti, cost);
  }
  return out;
}

// Eq. 5: alpha_i = 1 / (W(S^s_i, S^t_i) + eps).
Tensor confidence_from_distances(const Tensor& distances, double eps) {
  const char* op = "confidence_from_distances";
  check_floating(op, distances, "the distances");
  check_dim(op, distances, 1, "the distances");
  on_cuda(op, {&distances});
  SCEALD_CHECK(eps > 0.0 && std::isfinite(eps), op, ": eps must be positive, got ", eps);
  const std::vector<double> w = distances.to_vector<double>();
  Tensor alpha = Tensor::empty({distances.size(0)}, DType::Float64);
  double* a = alpha.data<double>();
  for (std::size_t i = 0; i < w.size(); ++i) {
    // A distance a rounding below 0 counts as 0.
    SCEALD_CHECK(std::isfinite(w[i]) && w[i] >= -1e-12, op, ": the distance of sample ", i, " is ", w[i]);
    a[i] = 1.0 / (std::max(w[i], 0.0) + eps);
  }
  return alpha;
}

Tensor confidence(const Tensor& semantic_graph, const Tensor& task_graph, const ConfidenceOptions& options,
                  const Tensor& ground_cost) {
  return confidence_from_distances(graph_distances(semantic_graph, task_graph, options, ground_cost), options.eps);
}

}  // namespace sceald::method
