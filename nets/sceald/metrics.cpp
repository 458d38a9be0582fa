#include "nets/sceald/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/error.h"
#include "engine/ops/op_checks.h"

namespace sceald::method {

std::vector<std::int64_t> argmax_rows(const Tensor& logits) {
  const char* op = "argmax_rows";
  check_floating(op, logits, "the logits");
  check_dim(op, logits, 2, "the logits");
  on_cuda(op, {&logits});
  const std::int64_t n = logits.size(0), c = logits.size(1);
  SCEALD_CHECK(c >= 1, op, ": the logits ", logits.str(), " have no class");
  const std::vector<double> z = logits.to_vector<double>();
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double* row = z.data() + i * c;
    out[i] = std::max_element(row, row + c) - row;  // the first maximum
  }
  return out;
}

ConfusionMatrix::ConfusionMatrix(int num_classes) : c_(num_classes) {
  SCEALD_CHECK(num_classes >= 1, "ConfusionMatrix: num_classes must be positive, got ", num_classes);
  counts_.assign(static_cast<std::size_t>(c_) * c_, 0);
}

void ConfusionMatrix::add(std::span<const std::int64_t> truth, std::span<const std::int64_t> predicted) {
  SCEALD_CHECK(truth.size() == predicted.size(), "ConfusionMatrix::add: ", truth.size(), " labels but ",
               predicted.size(), " predictions");
  for (std::size_t i = 0; i < truth.size(); ++i) {
    SCEALD_CHECK(truth[i] >= 0 && truth[i] < c_, "ConfusionMatrix::add: label ", truth[i], " at ", i,
                 " is outside [0, ", c_, ")");
    SCEALD_CHECK(predicted[i] >= 0 && predicted[i] < c_, "ConfusionMatrix::add: prediction ", predicted[i], " at ",
                 i, " is outside [0, ", c_, ")");
  }
  for (std::size_t i = 0; i < truth.size(); ++i) ++counts_[static_cast<std::size_t>(truth[i] * c_ + predicted[i])];
  total_ += static_cast<std::int64_t>(truth.size());
}

void ConfusionMatrix::add(const Tensor& logits, const Tensor& labels) {
  check_defined("ConfusionMatrix::add", labels, "the labels");
  SCEALD_CHECK(labels.dtype() == DType::Int64 && labels.dim() == 1, "ConfusionMatrix::add: the labels must be int64 [N], got ",
               labels.str());
  SCEALD_CHECK(logits.defined() && logits.dim() == 2 && logits.size(1) == c_, "ConfusionMatrix::add: the logits must be [N, ",
               c_, "], got ", logits.defined() ? logits.str() : std::string("undefined"));
  const std::vector<std::int64_t> truth = labels.to_vector<std::int64_t>();
  const std::vector<std::int64_t> predicted = argmax_rows(logits);
  add(truth, predicted);
}

ClassificationMetrics ConfusionMatrix::metrics() const {
  SCEALD_CHECK(total_ > 0, "ConfusionMatrix::metrics: no predictions were added");
  ClassificationMetrics m;
  m.num_classes = c_;
  m.total = total_;
  m.confusion = counts_;
  m.class_count.assign(static_cast<std::size_t>(c_), 0);
  m.per_class_accuracy.assign(static_cast<std::size_t>(c_), std::numeric_limits<double>::quiet_NaN());
  double sum_recall = 0.0;
  int classes_present = 0;
  for (int t = 0; t < c_; ++t) {
    for (int p = 0; p < c_; ++p) m.class_count[t] += counts_[static_cast<std::size_t>(t * c_ + p)];
    m.correct += counts_[static_cast<std::size_t>(t * c_ + t)];
    if (m.class_count[t] == 0) continue;
    m.per_class_accuracy[t] =
        static_cast<double>(counts_[static_cast<std::size_t>(t * c_ + t)]) / static_cast<double>(m.class_count[t]);
    sum_recall += m.per_class_accuracy[t];
    ++classes_present;
  }
  m.accuracy = static_cast<double>(m.correct) / static_cast<double>(m.total);
  m.mean_class_accuracy = sum_recall / classes_present;
  return m;
}

ClassificationMetrics classification_metrics(std::span<const std::int64_t> truth,
                                             std::span<const std::int64_t> predicted, int num_classes) {
  ConfusionMatrix cm(num_classes);
  cm.add(truth, predicted);
  return cm.metrics();
}

double kl_divergence(std::span<const double> p, std::span<const double> q, double eps) {
  SCEALD_CHECK(p.size() == q.size() && !p.empty(), "kl_divergence: needs two distributions of one size, got ", p.size(),
               " and ", q.size());
  double kl = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    SCEALD_CHECK(p[k] >= 0.0 && q[k] >= 0.0, "kl_divergence: negative probability at ", k, ": p = ", p[k],
                 ", q = ", q[k]);
    if (p[k] > 0.0) kl += p[k] * (std::log(p[k]) - std::log(std::max(q[k], eps)));
  }
  return kl;
}

double mean_kl_votes_to_logits(const Tensor& votes, const Tensor& logits) {
  const char* op = "mean_kl_votes_to_logits";
  check_floating(op, votes, "the votes");
  check_floating(op, logits, "the logits");
  check_dim(op, logits, 2, "the logits");
  on_cuda(op, {&votes, &logits});
  SCEALD_CHECK(votes.shape() == logits.shape() && logits.size(0) > 0, op, ": votes ", votes.str(), " and logits ",
               logits.str(), " must both be [N, c] with N > 0");
  const std::int64_t n = logits.size(0), c = logits.size(1);
  const std::vector<double> v = votes.to_vector<double>(), z = logits.to_vector<double>();
  double total = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double* vi = v.data() + i * c;
    const double* zi = z.data() + i * c;
    double vote_sum = 0.0;
    for (std::int64_t k = 0; k < c; ++k) {
      SCEALD_CHECK(vi[k] >= 0.0 && std::isfinite(vi[k]), op, ": vote ", k, " of sample ", i, " is ", vi[k]);
      vote_sum += vi[k];
    }
    SCEALD_CHECK(vote_sum > 0.0, op, ": sample ", i, " has no vote for any of the ", c, " classes");
    // log softmax(z)_k = z_k - (max + log sum exp(z - max)).
    const double zmax = *std::max_element(zi, zi + c);
    double s = 0.0;
    for (std::int64_t k = 0; k < c; ++k) s += std::exp(zi[k] - zmax);
    const double log_normaliser = zmax + std::log(s);
    for (std::int64_t k = 0; k < c; ++k) {
      const double pk = vi[k] / vote_sum;
      if (pk > 0.0) total += pk * (std::log(pk) - (zi[k] - log_normaliser));
    }
  }
  return total / static_cast<double>(n);
}

double auroc(std::span<const double> scores, const std::vector<bool>& positive) {
  SCEALD_CHECK(scores.size() == positive.size(), "auroc: ", scores.size(), " scores but ", positive.size(), " labels");
  const std::size_t n = scores.size();
  for (std::size_t i = 0; i < n; ++i) SCEALD_CHECK(!std::isnan(scores[i]), "auroc: score ", i, " is NaN");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Mid-ranks (1-based): a run of equal scores shares the mean of its ranks.
  double positive_rank_sum = 0.0;
  std::size_t n_pos = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    while (end < n && scores[order[end]] == scores[order[start]]) ++end;
    const double mid_rank = 0.5 * static_cast<double>(start + 1 + end);
    for (std::size_t k = start; k < end; ++k)
      if (positive[order[k]]) {
        positive_rank_sum += mid_rank;
        ++n_pos;
      }
    start = end;
  }
  const std::size_t n_neg = n - n_pos;
  SCEALD_CHECK(n_pos > 0 && n_neg > 0, "auroc: needs at least one positive and one negative, got ", n_pos, " and ",
               n_neg);
  const double p = static_cast<double>(n_pos);
  const double u = positive_rank_sum - p * (p + 1.0) / 2.0;  // Mann-Whitney U of the positives
  return u / (p * static_cast<double>(n_neg));
}

double confidence_auroc(const Tensor& alpha, const std::vector<std::int64_t>& flipped) {
  check_floating("confidence_auroc", alpha, "alpha");
  check_dim("confidence_auroc", alpha, 1, "alpha");
  const std::vector<double> a = alpha.to_vector<double>();
  std::vector<bool> clean(a.size(), true);
  for (std::int64_t i : flipped) {
    SCEALD_CHECK(i >= 0 && i < static_cast<std::int64_t>(a.size()), "confidence_auroc: flipped index ", i,
                 " is outside [0, ", a.size(), ")");
    clean[static_cast<std::size_t>(i)] = false;
  }
  return auroc(a, clean);
}

}  // namespace sceald::method
