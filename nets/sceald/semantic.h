// The class-relation graphs of SCE-ALD (paper Sec. III-B) and the class word
// vectors they start from.
//
// A CR-graph links one sample to every class by a cosine similarity: in the
// semantic space between the Auto-Encoder code g(x_i) and the class word
// vectors (Eq. 2), in the task space between the task feature f(x_i) and
// the class prototypes (Eq. 3). Both are training-time statistics: computed
// in float64 from detached values, no autograd, CPU tensors (float32 or
// float64) in, float64 out.
#pragma once

#include <string>
#include <string_view>

#include "engine/io/word2vec.h"
#include "engine/tensor.h"

namespace sceald::method {

// PyTorch's guard for a zero vector: a.b / max(|a| |b|, eps).
inline constexpr double kCosineEps = 1e-8;

// out[i][k] = cos(rows_i, columns_k) for rows [N, d] and columns [c, d]:
// float64 [N, c]. A zero row or column gives 0 (PyTorch's eps guard).
Tensor cosine_matrix(const Tensor& rows, const Tensor& columns, double eps = kCosineEps);

// Eq. 2, semantic CR-graph: S^s_i[k] = cos(v_k, g(x_i)) for codes g(x) [N, d]
// and word vectors V [c, d]; float64 [N, c].
Tensor semantic_cr_graph(const Tensor& codes, const Tensor& word_vectors);
// Eq. 3, task CR-graph: S^t_i[k] = cos(p_k, f(x_i)) for features f(x) [N, D]
// and prototypes [c, D]; float64 [N, c].
Tensor task_cr_graph(const Tensor& features, const Tensor& prototypes);
// Fig. 3: the cosine similarity of every pair of class word vectors, float64 [c, c].
Tensor word_similarity_matrix(const Tensor& word_vectors);

// SPEC (Module A): the project ships a small default file holding only the
// class word vectors (data/word_vectors/: GloVe 6B 50d, see PROVENANCE.md),
// compiled into the library. Rows in the canonical class order of
// engine/data/expressions.h (kExpressionWords).
io::WordVectors default_class_word_vectors();
std::string_view default_word_vectors_text();    // the embedded file's bytes
std::string_view default_word_vectors_origin();  // one line: what the vectors are and where they came from
// The seven class words' vectors, in class order, from `path` (any word2vec
// format; a big file is streamed and only these words kept), or the default
// set when `path` is empty. A missing class word, or one whose vector is all
// zeros, is an error naming it and the file.
io::WordVectors load_class_word_vectors(const std::string& path = {});

}  // namespace sceald::method
