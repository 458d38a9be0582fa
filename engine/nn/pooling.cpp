#include "engine/nn/layers.h"

namespace sceald::nn {

MaxPool2d::MaxPool2d(std::int64_t kernel_size, std::int64_t stride, std::int64_t padding, std::int64_t dilation,
                     bool ceil_mode) {
  if (stride == 0) stride = kernel_size;
  SCEALD_CHECK(kernel_size > 0 && stride > 0 && padding >= 0 && dilation > 0, "MaxPool2d: invalid kernel ",
               kernel_size, ", stride ", stride, ", padding ", padding, " or dilation ", dilation);
  params.kernel = {kernel_size, kernel_size};
  params.stride = {stride, stride};
  params.padding = {padding, padding};
  params.dilation = {dilation, dilation};
  params.ceil_mode = ceil_mode;
}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, params); }

std::string MaxPool2d::str() const {
  return str_cat("MaxPool2d(kernel_size=", params.kernel[0], ", stride=", params.stride[0],
                 ", padding=", params.padding[0], ", dilation=", params.dilation[0],
                 ", ceil_mode=", params.ceil_mode ? "True" : "False", ")");
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size); }

std::string AdaptiveAvgPool2d::str() const {
  return str_cat("AdaptiveAvgPool2d(output_size=(", output_size[0], ", ", output_size[1], "))");
}

}  // namespace sceald::nn
