// 2-D convolution on the CPU as GEMMs, forward and both backward passes, for
// T = float and double (kernels/cpu/conv_reference.h is the test reference;
// engine/ops/conv.cpp the op). In float32 on AVX-512 machines the forward
// and, with stride 1, the grad input take the implicit GEMM of
// kernels/cpu/conv_implicit.h where it pays (conv_forward_path); everything
// else goes through im2col matrices as described here.
//
// Layouts (contiguous, NCHW): x [N, C, H, W], weight [O, C, kh, kw], bias [O]
// (or nullptr), y and grad_y [N, O, Ho, Wo].
//
// Batching. One GEMM per image starves the GEMM where the output is small
// (VGG16's deep layers at 48x48 have 9-36 output pixels: N = 9..36 columns,
// and the weight would be packed again for every image). So images go in
// groups whose column matrices sit side by side, [C kh kw, G Ho Wo], making
// one GEMM with G Ho Wo columns; the group is sized to reach
// kTargetColumns (16,384) columns within kMaxColumnBytes (32 MiB) of column
// matrix. An image with kColumnsAlone (2,048) output pixels or more makes
// its own GEMM (G = 1): grouping would only add staging copies of large
// outputs. Where G = 1 and there are at least as many
// images as threads, each thread takes whole images with a single-threaded
// GEMM; otherwise groups run one after another and each GEMM uses every
// thread. Scratch comes from kernels/cpu/workspace.h, so steady-state steps
// allocate nothing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "kernels/cpu/im2col.h"

namespace sceald::kernels::cpu {

struct ConvBatching {
  std::int64_t images_per_gemm;  // G
  bool images_on_threads;        // G == 1, each thread its own images
};

// How conv2d_* will cut a batch of N images (exposed so tests can reach every path).
ConvBatching conv_batching(std::int64_t N, std::int64_t O, const ConvGeometry& g, std::size_t element_bytes);

// How conv2d_forward<float> computes (conv_implicit.h); float64 always uses im2col.
enum class ConvForwardPath { Im2col, ImplicitDense, ImplicitPerKernelRow, ImplicitPerTap };
ConvForwardPath conv_forward_path(std::int64_t N, std::int64_t O, const ConvGeometry& g);
// For tests and benchmarks: force one path (where the implicit ones cannot
// run, im2col is used), or nullopt for the automatic choice. Process-wide.
// Forcing ImplicitPerTap also takes every weight gradient per tap.
void conv_force_forward_path(std::optional<ConvForwardPath> path);

// y = weight * im2col(x) + bias per image; overwritten.
template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, std::int64_t N, std::int64_t O,
                    const ConvGeometry& g, T* y);

// grad_x = col2im(weight^T grad_y) per image and grad_weight = sum over
// images of grad_y im2col(x)^T, each overwritten; either may be nullptr
// (not wanted). One pass over the batch computes both.
template <typename T>
void conv2d_backward(const T* grad_y, const T* x, const T* weight, std::int64_t N, std::int64_t O,
                     const ConvGeometry& g, T* grad_x, T* grad_weight);

// grad_bias[o] = sum of grad_y[n, o, :, :] over n; overwritten.
template <typename T>
void conv2d_backward_bias(const T* grad_y, std::int64_t N, std::int64_t O, std::int64_t pixels, T* grad_bias);

}  // namespace sceald::kernels::cpu
