#include "engine/cuda/param_grad.h"

#include "engine/error.h"

namespace sceald::cuda {

Tensor checked_param_grad(const std::string& optimizer, std::size_t index, Tensor& param) {
  Tensor& g = param.grad();
  if (!g.defined()) return Tensor();
  SCEALD_CHECK(g.device() == param.device(), optimizer, ": parameter ", index, " ", param.str(), " has a gradient ",
               g.str(), " on another device");
  SCEALD_CHECK(g.dtype() == param.dtype() && g.shape() == param.shape(), optimizer, ": parameter ", index, " ",
               param.str(), " has a gradient ", g.str(), " of another dtype or shape");
  SCEALD_CHECK(param.is_contiguous(), optimizer, ": parameter ", index, " ", param.str(), " is not contiguous");
  if (!g.is_contiguous()) g = g.contiguous();
  return g;
}

}  // namespace sceald::cuda
