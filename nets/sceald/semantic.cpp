#include "nets/sceald/semantic.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/data/expressions.h"
#include "engine/error.h"
#include "engine/ops/op_checks.h"

namespace sceald::method {

namespace {
#include "data/word_vectors/default_vectors.inc"

std::vector<std::string> class_words() {
  return {data::kExpressionWords.begin(), data::kExpressionWords.end()};
}
}  // namespace

Tensor cosine_matrix(const Tensor& rows, const Tensor& columns, double eps) {
  const char* op = "cosine_matrix";
  check_floating(op, rows, "the rows");
  check_floating(op, columns, "the columns");
  check_dim(op, rows, 2, "the rows");
  check_dim(op, columns, 2, "the columns");
  on_cuda(op, {&rows, &columns});
  SCEALD_CHECK(rows.size(1) == columns.size(1), op, ": rows ", rows.str(), " and columns ", columns.str(),
               " differ in their vector length");
  const std::int64_t n = rows.size(0), c = columns.size(0), d = rows.size(1);
  // The columns (word vectors or prototypes) are few: a float64 copy laid
  // out [d, c], so one pass over a row feeds c independent dot products.
  const std::vector<double> col = columns.to_vector<double>();
  std::vector<double> col_t(col.size());
  std::vector<double> col_norm(static_cast<std::size_t>(c), 0.0);
  for (std::int64_t k = 0; k < c; ++k) {
    double s = 0.0;
    for (std::int64_t j = 0; j < d; ++j) {
      s += col[k * d + j] * col[k * d + j];
      col_t[j * c + k] = col[k * d + j];
    }
    col_norm[k] = std::sqrt(s);
  }
  Tensor out = Tensor::empty({n, c}, DType::Float64);
  double* o = out.data<double>();
  const Tensor rc = rows.contiguous();
  dispatch_floating(rc.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* r = rc.data<T>();
#pragma omp parallel for if (n * c * d > (1 << 18))
    for (std::int64_t i = 0; i < n; ++i) {
      const T* ri = r + i * d;
      std::vector<double> dot(static_cast<std::size_t>(c), 0.0);
      double rr = 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double x = static_cast<double>(ri[j]);
        rr += x * x;
        const double* cj = col_t.data() + j * c;
        for (std::int64_t k = 0; k < c; ++k) dot[k] += x * cj[k];
      }
      const double row_norm = std::sqrt(rr);
      for (std::int64_t k = 0; k < c; ++k) o[i * c + k] = dot[k] / std::max(row_norm * col_norm[k], eps);
    }
  });
  return out;
}

// Eq. 2: S^s_ki = v_k^T g(x_i) / (|v_k| |g(x_i)|).
Tensor semantic_cr_graph(const Tensor& codes, const Tensor& word_vectors) {
  return cosine_matrix(codes, word_vectors);
}

// Eq. 3: S^t_ki = p_k^T f(x_i) / (|p_k| |f(x_i)|).
Tensor task_cr_graph(const Tensor& features, const Tensor& prototypes) {
  return cosine_matrix(features, prototypes);
}

Tensor word_similarity_matrix(const Tensor& word_vectors) { return cosine_matrix(word_vectors, word_vectors); }

std::string_view default_word_vectors_text() { return kDefaultWordVectorsText; }
std::string_view default_word_vectors_origin() { return kDefaultWordVectorsOrigin; }

io::WordVectors default_class_word_vectors() {
  return io::parse_word_vectors(kDefaultWordVectorsText, str_cat("built-in ", kDefaultWordVectorsName), class_words());
}

io::WordVectors load_class_word_vectors(const std::string& path) {
  if (path.empty()) return default_class_word_vectors();
  io::WordVectors v = io::load_word_vectors(path, class_words());
  // A zero vector has no direction: every cosine with it (Eqs. 1-2, the ot cost) would be undefined.
  for (std::int64_t k = 0; k < v.size(); ++k) {
    double sum = 0;
    for (float x : v.vector(k)) sum += static_cast<double>(x) * x;
    SCEALD_CHECK(sum > 0.0, v.source, ": the vector of '", v.words[static_cast<std::size_t>(k)],
                 "' is all zeros; the cosine similarities of SCE-ALD need a direction for every class word");
  }
  return v;
}

}  // namespace sceald::method
