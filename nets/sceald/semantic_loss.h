// The loss of Module A, the semantic Auto-Encoder (paper Eq. 1, SPEC):
//
//   L_S = mean_i [ mse(x_i, x^_i) + gamma * (1 - cos(v_{y_i}, g(x_i))) ],
//
// the mse averaged over pixels (so the batch mean of it is one mean over
// every pixel of the batch). Autograd takes each term where it belongs: the
// cosine term reaches only the encoder, the reconstruction term both halves.
#pragma once

#include "engine/tensor.h"

namespace sceald::method {

struct SemanticLossTerms {
  Tensor loss;    // the total, a scalar with autograd history
  Tensor mse;     // mean squared reconstruction error (part of loss's graph)
  Tensor cosine;  // mean cos(v_{y_i}, g(x_i)) (part of loss's graph)
};

// images and reconstruction [N, C, H, W]; code g(x) [N, d]; targets [N, d],
// the word vector of each image's class; gamma >= 0.
SemanticLossTerms semantic_loss(const Tensor& images, const Tensor& reconstruction, const Tensor& code,
                                const Tensor& targets, double gamma);

}  // namespace sceald::method
