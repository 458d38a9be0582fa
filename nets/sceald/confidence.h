// The confidence of each sample's label distribution (paper Eq. 5):
//
//   alpha_i = 1 / (W(S^s_i, S^t_i) + eps),   eps = 1e-3 (SPEC)
//
// from the distance W between its semantic and task CR-graphs (semantic.h).
// The paper only says "Wasserstein distance"; SPEC fixes two readings:
//
//   sorted (default): the 1-D Wasserstein-1 distance between the two sets of
//     c values, i.e. the mean absolute difference of the two vectors after
//     each is sorted, what scipy.stats.wasserstein_distance(S^s_i, S^t_i)
//     computes. It compares the value profiles and ignores which class holds
//     which value.
//   ot: exact optimal transport between the graphs read as distributions over
//     the classes, p = (S + 1) / sum(S + 1), with ground cost
//     C[k][l] = 1 - cos(v_k, v_l) from the class word vectors, so moving mass
//     between semantically close classes is cheap.
//
// Float64 throughout; CPU tensors in, float64 out; no autograd.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace sceald::method {

enum class ConfidenceDistance { Sorted, OptimalTransport };

// "sorted" or "ot" (the CLI's --confidence-distance values).
const char* confidence_distance_name(ConfidenceDistance distance);
ConfidenceDistance parse_confidence_distance(std::string_view name);  // throws listing the choices

// SPEC: eps of Eq. 5.
inline constexpr double kConfidenceEps = 1e-3;

struct ConfidenceOptions {
  ConfidenceDistance distance = ConfidenceDistance::Sorted;
  double eps = kConfidenceEps;
};

// Mean |sort(a)_k - sort(b)_k|: 1-D Wasserstein-1 between two equal-size
// lists of values, each value of weight 1/c.
double sorted_wasserstein(std::span<const double> a, std::span<const double> b);
// SPEC (ot): a CR-graph as a distribution, (S + 1) / sum(S + 1). S + 1 is
// clamped at 0 (a cosine a rounding below -1); an all-zero S + 1 (every
// cosine -1) gives the uniform distribution.
std::vector<double> graph_distribution(std::span<const double> graph);
// SPEC (ot): the exact transport cost between graph_distribution(s) and
// graph_distribution(t) under `ground_cost` [c, c] (row-major).
double graph_transport_distance(std::span<const double> s, std::span<const double> t,
                                std::span<const double> ground_cost);
// SPEC (ot): C[k][l] = 1 - cos(v_k, v_l) for word vectors [c, d]: float64
// [c, c], with an exact 0 diagonal and rounding below 0 clamped to 0.
Tensor transport_ground_cost(const Tensor& word_vectors);

// W(S^s_i, S^t_i) for every sample: graphs [N, c] each, float64 [N].
// `ground_cost` [c, c] is needed for (only for) the ot distance.
Tensor graph_distances(const Tensor& semantic_graph, const Tensor& task_graph, const ConfidenceOptions& options,
                       const Tensor& ground_cost = Tensor());
// Eq. 5 from distances W [N] (float64, non-negative): 1 / (W_i + eps), float64 [N].
Tensor confidence_from_distances(const Tensor& distances, double eps = kConfidenceEps);
// Eq. 5: alpha_i = 1 / (W_i + eps), float64 [N]; every alpha is in (0, 1/eps].
Tensor confidence(const Tensor& semantic_graph, const Tensor& task_graph, const ConfidenceOptions& options = {},
                  const Tensor& ground_cost = Tensor());

}  // namespace sceald::method
