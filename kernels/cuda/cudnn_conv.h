// 2-D convolution through cuDNN (legacy API): forward, backward-data and
// backward-filter, NCHW, one group. Every cuDNN call of the engine's
// convolutions lives in cudnn_conv.cpp, so moving to the graph API stays local.
//
// Per problem (shapes, dtype, direction, math mode, workspace cap, device)
// the descriptors and the ranked list of acceptable algorithms are built once
// and cached. Precise mode: CUDNN_FMA_MATH (float32) and deterministic
// algorithms only, those that sum the products directly (implicit/explicit
// GEMM) ranked before FFT and Winograd, whose transforms round differently
// from the CPU's sums. Fast mode: tensor-op math (TF32 for float32) and any
// algorithm, in the heuristic's order.
// Candidates needing more workspace than the cap are dropped; a candidate
// whose workspace cannot be had (Workspace::get returns null) or that cuDNN
// refuses at run time is skipped for the next one. The "no algorithm" error
// lists every algorithm passed over and why (cuDNN's status where it gave
// one); SCEALD_CUDNN_VERBOSE=1 prints each new plan's choice on stderr. Host
// code; work is queued on the handle's stream.
#pragma once

#include <cudnn.h>

#include <cstddef>
#include <cstdint>

namespace sceald::kernels::cuda {

// One convolution: x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo], all
// contiguous device memory of float (or double when is_double).
struct ConvProblem {
  std::int64_t N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo;
  bool is_double;
};

struct ConvSettings {
  bool precise;               // FMA math, deterministic algorithms
  std::size_t workspace_cap;  // bytes
  int device;                 // part of the cache key (algorithm choice is per GPU)
};

// Device memory for cuDNN's workspace, owned by the caller; null when that
// much cannot be had. cuDNN only queues its work, so the block must stay
// untouched until the stream has run it: the engine's cache may hand it out
// again as soon as the call returns because all work of a device runs in one
// stream, in order.
class ConvWorkspace {
 public:
  virtual ~ConvWorkspace() = default;
  virtual void* get(std::size_t bytes) = 0;
};

// y = conv(x, w) (overwritten; no bias).
void conv2d_forward(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* x, const void* w,
                    void* y, ConvWorkspace& workspace);
// grad_x = the gradient of conv(x, w) w.r.t. x for grad_y (overwritten).
void conv2d_backward_data(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* grad_y,
                          const void* w, void* grad_x, ConvWorkspace& workspace);
// grad_w = the gradient w.r.t. w (overwritten).
void conv2d_backward_filter(cudnnHandle_t handle, const ConvProblem& p, const ConvSettings& s, const void* x,
                            const void* grad_y, void* grad_w, ConvWorkspace& workspace);

// Number of cached problems (for tests and --verbose).
std::size_t conv_plan_cache_size();

}  // namespace sceald::kernels::cuda
