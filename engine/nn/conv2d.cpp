#include <cmath>

#include "engine/nn/layers.h"

namespace sceald::nn {

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, std::int64_t stride,
               std::int64_t padding, std::int64_t dilation, bool bias, Generator& gen)
    : in_channels(in_channels), out_channels(out_channels), kernel_size(kernel_size) {
  SCEALD_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0, "Conv2d: channels and kernel size must be "
               "positive, got in ", in_channels, ", out ", out_channels, ", kernel ", kernel_size);
  SCEALD_CHECK(stride > 0 && padding >= 0 && dilation > 0, "Conv2d: invalid stride ", stride, ", padding ", padding,
               " or dilation ", dilation);
  params.stride = {stride, stride};
  params.padding = {padding, padding};
  params.dilation = {dilation, dilation};
  weight = register_parameter("weight", Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}));
  if (bias) this->bias = register_parameter("bias", Tensor::empty({out_channels}));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator& gen) {
  // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, gen);
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in_and_fan_out(weight).first));
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, params); }
Tensor Conv2d::forward_relu(const Tensor& x) { return conv2d_relu(x, weight, bias, params); }

std::string Conv2d::str() const {
  return str_cat("Conv2d(", in_channels, ", ", out_channels, ", kernel_size=", kernel_size,
                 ", stride=", params.stride[0], ", padding=", params.padding[0], ", dilation=", params.dilation[0],
                 bias.defined() ? "" : ", bias=False", ")");
}

}  // namespace sceald::nn
