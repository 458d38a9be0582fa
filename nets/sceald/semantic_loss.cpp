#include "nets/sceald/semantic_loss.h"

#include <cmath>

#include "engine/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduction.h"
#include "engine/ops/similarity.h"

namespace sceald::method {

SemanticLossTerms semantic_loss(const Tensor& images, const Tensor& reconstruction, const Tensor& code,
                                const Tensor& targets, double gamma) {
  SCEALD_CHECK(std::isfinite(gamma) && gamma >= 0.0, "semantic_loss: gamma must be >= 0, got ", gamma);
  SCEALD_CHECK(code.dim() == 2 && targets.shape() == code.shape(), "semantic_loss: the code ", code.str(),
               " and the class word vectors ", targets.str(), " must both be [N, d]");
  SCEALD_CHECK(images.shape() == reconstruction.shape() && images.size(0) == code.size(0), "semantic_loss: images ",
               images.str(), ", reconstruction ", reconstruction.str(), " and code ", code.str(), " disagree");
  SemanticLossTerms t;
  t.mse = mse_loss(reconstruction, images);
  t.cosine = mean(cosine_similarity(targets, code, 1));
  t.loss = t.mse + (neg(t.cosine) + 1.0) * gamma;
  return t;
}

}  // namespace sceald::method
